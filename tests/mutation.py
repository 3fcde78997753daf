"""Mutation testing of the modules behind SECURITY.md's guarantees: ``python -m tests.mutation``.

Each module named in tests/mutation.toml is mutated by cosmic-ray, one mutant at a time, and
the tests listed for it are run against every mutant; a mutant the tests do not notice
"survives". A surviving mutant must be killed by a new or stricter test, or be listed in
tests/mutation_survivors.toml with the reason it is equivalent (no test could notice it).

Why cosmic-ray: it edits the source file in place, so the installed ``modelgate`` command that
most tests run in a subprocess executes the mutant too. To keep the working tree untouched
(and to run two modules at once), every module gets a scratch copy of the repository, and
PYTHONPATH puts that copy ahead of the editable install for pytest and for every subprocess;
the runner checks that this holds before it trusts a result.

Not part of the normal test run: it takes minutes per module. Needs ``pip install -e '.[mutation]'``.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import copy_checkout

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "tests" / "mutation.toml"
SURVIVORS = REPO / "tests" / "mutation_survivors.toml"
RESULTS = REPO / "docs" / "mutation-results.json"
REPORT = REPO / "docs" / "mutation.md"

# cosmic-ray replaces each binary operator by every other (11 mutants per `+`) and each
# comparison by every other (7 per `<`). Most of those are redundant with one another; the
# kept pairs are the usual sufficient set: the inverse operation, the off-by-one boundary and
# the negation. Everything that is not a binary/comparison/unary replacement is kept.
KEPT_BINARY = {
    ("Add", "Sub"),
    ("Sub", "Add"),
    ("Mul", "Div"),
    ("Div", "Mul"),
    ("FloorDiv", "Div"),
    ("Mod", "FloorDiv"),
    ("Pow", "Mul"),
    ("LShift", "RShift"),
    ("RShift", "LShift"),
    ("BitOr", "BitAnd"),
    ("BitAnd", "BitOr"),
    ("BitXor", "BitOr"),
}
KEPT_COMPARISON = {
    ("Eq", "NotEq"),
    ("NotEq", "Eq"),
    ("Is", "IsNot"),
    ("IsNot", "Is"),
    ("Lt", "LtE"),
    ("LtE", "Lt"),
    ("Gt", "GtE"),
    ("GtE", "Gt"),
    ("Lt", "GtE"),
    ("GtE", "Lt"),
    ("Gt", "LtE"),
    ("LtE", "Gt"),
}
KEPT_UNARY = {("USub", "UAdd"), ("Delete", "Not"), ("Delete", "USub"), ("Delete", "Invert")}


def kept_operator(name: str) -> bool:
    match = re.fullmatch(r"core/Replace(Binary|Comparison|Unary)Operator_(\w+?)_(\w+)", name)
    if not match:
        return True
    kind, old, new = match.groups()
    kept = {"Binary": KEPT_BINARY, "Comparison": KEPT_COMPARISON, "Unary": KEPT_UNARY}[kind]
    return (old, new) in kept


def unevaluated_annotations(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Spans of annotations Python never evaluates (``from __future__ import annotations``,
    outside class bodies, where pydantic or dataclasses would read them): mutants there are
    equivalent by construction, so they are not generated."""
    tree = ast.parse(source)
    if not any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    ):
        return []
    in_class: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            in_class.update(id(stmt) for stmt in node.body)
    spans: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            spans.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            spans.append(node.returns)
        elif isinstance(node, ast.AnnAssign) and id(node) not in in_class:
            spans.append(node.annotation)
    return [((n.lineno, n.col_offset), (n.end_lineno or n.lineno, n.end_col_offset or 0)) for n in spans]


@dataclass
class Outcome:
    module: str
    area: str
    total: int = 0
    killed: int = 0
    timeouts: int = 0
    not_run: int = 0
    survivors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""


def load_config() -> dict[str, Any]:
    with CONFIG.open("rb") as f:
        return tomllib.load(f)


def environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def check_isolation(copy: Path, env: dict[str, str]) -> None:
    """The console script next to the interpreter must import modelgate from the copy."""
    probe = "import modelgate, sys; sys.stdout.write(modelgate.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", probe], cwd="/", env=env, capture_output=True, text=True, check=True
    ).stdout
    if not Path(where).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"mutation: a subprocess imports modelgate from {where}, not the scratch copy {copy}")


def test_command(spec: dict[str, Any]) -> list[str]:
    """The module's tests. ``regenerate``: the module's source is part of the committed
    pydantic-core schemas' stamp and its tests want them current, so they are written again
    from each mutant first, as a developer who made the change would: else every mutant
    would only switch validation over to pydantic, and those tests would fail for each,
    whatever it changed. (strictyaml.py is in the stamp too, but its tests do not look.)"""
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *spec["tests"]]
    if not spec.get("regenerate"):
        return pytest
    schemas = [sys.executable, "-m", "modelgate.datamodel.schemas"]
    return ["sh", "-c", f"{shlex.join(schemas)} && exec {shlex.join(pytest)}"]


def changed_lines(diff: str) -> tuple[int, str, str]:
    """(line, before, after) of a one-mutant unified diff."""
    line, before, after = 0, [], []
    for text in diff.splitlines():
        if text.startswith("@@"):
            match = re.match(r"@@ -(\d+)", text)
            line = int(match.group(1)) if match else 0
        elif text.startswith("-") and not text.startswith("---"):
            before.append(text[1:].strip())
        elif text.startswith("+") and not text.startswith("+++"):
            after.append(text[1:].strip())
    # The hunk starts with up to three context lines before the changed one.
    context = 0
    for text in diff.splitlines():
        if text.startswith("@@"):
            context = 0
        elif text.startswith(" "):
            context += 1
        elif text.startswith(("-", "+")) and not text.startswith(("---", "+++")):
            break
    return line + context, " / ".join(before), " / ".join(after)


def run_module(module: str, spec: dict[str, Any], settings: dict[str, Any]) -> Outcome:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    outcome = Outcome(module, spec["area"])
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="modelgate-mutation-") as scratch:
        copy = Path(scratch) / "repo"
        copy_checkout(copy)
        env = environment(copy)
        check_isolation(copy, env)
        command = test_command(spec)
        t0 = time.monotonic()
        baseline = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True)
        if baseline.returncode != 0:
            outcome.note = "the tests fail without any mutant:\n" + baseline.stdout[-2000:]
            return outcome
        timeout = settings["timeout_factor"] * (time.monotonic() - t0) + 10
        config = Path(scratch) / "cosmic-ray.toml"
        config.write_text(
            "[cosmic-ray]\n"
            f"module-path = {json.dumps(module)}\n"
            f"timeout = {timeout:.0f}\n"
            "excluded-modules = []\n"
            f"test-command = {json.dumps(shlex.join(command))}\n"
            '[cosmic-ray.distributor]\nname = "local"\n'
        )
        session = Path(scratch) / "session.sqlite"
        cosmic = [sys.executable, "-m", "cosmic_ray.cli"]
        subprocess.run([*cosmic, "init", str(config), str(session)], cwd=copy, env=env, check=True, capture_output=True)
        annotations = unevaluated_annotations((copy / module).read_text())
        with use_db(str(session), WorkDB.Mode.open) as db:
            for item in list(db.pending_work_items):
                mutation = item.mutations[0]
                in_annotation = any(
                    start <= tuple(mutation.start_pos) and tuple(mutation.end_pos) <= end for start, end in annotations
                )
                if in_annotation or not kept_operator(mutation.operator_name):
                    db.set_result(item.job_id, WorkResult(output="not generated", worker_outcome=WorkerOutcome.SKIPPED))
        minutes = spec.get("minutes", settings["module_minutes"])
        budget = minutes * 60
        proc = subprocess.Popen(
            [*cosmic, "exec", str(config), str(session)],
            cwd=copy,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            outcome.note = f"stopped after {minutes} minutes"
        dump = subprocess.run(
            [*cosmic, "dump", str(session)], cwd=copy, env=env, check=True, capture_output=True, text=True
        ).stdout
    for row in filter(None, dump.splitlines()):
        item, result = json.loads(row)
        if result is not None and result["worker_outcome"] == "skipped":
            continue
        outcome.total += 1
        if result is None or result["worker_outcome"] != "normal":
            # pending, or the worker itself failed (abnormal / exception): not a verdict
            outcome.not_run += 1
            if result is not None:
                mutation = item["mutations"][0]
                last = (result.get("output") or "").strip().splitlines()[-1:] or [""]
                outcome.note += (
                    f"\n- not run: line {mutation['start_pos'][0]} {mutation['operator_name']}:"
                    f" {result['worker_outcome']}: `{last[0][:160]}`"
                )
            continue
        if result["test_outcome"] == "killed":
            outcome.killed += 1
            outcome.timeouts += result.get("output") == "timeout"
            continue
        mutation = item["mutations"][0]
        line, before, after = changed_lines(result["diff"] or "")
        outcome.survivors.append(
            {"line": line, "operator": mutation["operator_name"], "before": before, "after": after}
        )
    outcome.survivors.sort(key=lambda s: (s["line"], s["operator"], s["after"]))
    outcome.seconds = time.monotonic() - started
    return outcome


def load_reasons() -> list[dict[str, str]]:
    if not SURVIVORS.exists():
        return []
    with SURVIVORS.open("rb") as f:
        return list(tomllib.load(f).get("equivalent", []))


def reason_for(module: str, survivor: dict[str, Any], reasons: list[dict[str, str]]) -> str | None:
    for entry in reasons:
        if (entry["module"], entry["before"], entry["after"]) == (module, survivor["before"], survivor["after"]):
            return entry["reason"]
    return None


def score(module: str, r: dict[str, Any], reasons: list[dict[str, str]]) -> str:
    """killed / (mutants - equivalent - not run), as SECURITY.md and docs/mutation.md show it."""
    equivalent = sum(1 for s in r["survivors"] if reason_for(module, s, reasons))
    scored = r["total"] - equivalent - r["not_run"]
    return f"{100 * r['killed'] / scored:.1f}%" if scored else "n/a"


def update_security_md(results: dict[str, Any]) -> None:
    """The score cell of each module's row in SECURITY.md's "Mutation testing" table."""
    path = REPO / "SECURITY.md"
    text = path.read_text()
    reasons = load_reasons()
    for module, r in results.items():
        shown = score(module, r, reasons) + (f" ({r['not_run']} not run)" if r["not_run"] else "")
        text = re.sub(rf"^(\|[^|\n]*\| `{re.escape(module)}` \|)[^|\n]*\|", rf"\g<1> {shown} |", text, flags=re.M)
    path.write_text(text)


def md(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`" if text else "(removed)"


def write_report(results: dict[str, Any], order: list[str]) -> None:
    reasons = load_reasons()
    lines = [
        "# Mutation testing",
        "",
        "The modules behind SECURITY.md's guarantees are mutated one change at a time with",
        "cosmic-ray, and the tests listed for each module in `tests/mutation.toml` are run",
        "against every mutant. Run it (minutes per module; not part of every CI run):",
        "",
        "    pip install -e '.[test,mutation]'",
        "    python -m tests.mutation                  # all modules, two at a time",
        "    python -m tests.mutation modelgate/git/lfs.py # one module",
        "    python -m tests.mutation --recheck MODULE  # its survivors again, against today's tests",
        "",
        "`--recheck` reruns only the stored survivors that have no reason, and only while the module's",
        "code is what its run mutated: after a new test, it counts what that test kills.",
        "",
        "It rewrites this page and the scores in SECURITY.md from `docs/mutation-results.json` (the",
        "latest run of each module) and `tests/mutation_survivors.toml` (why a survivor cannot be killed).",
        "Score = killed / (mutants - equivalent - not run). A survivor with no reason is a missing test.",
        "",
        "| module | area | run on | mutants | killed | equivalent | unexplained | not run | score |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    body: list[str] = []
    for module in order:
        if module not in results:
            lines.append(f"| `{module}` | | not yet run | | | | | | |")
            continue
        r = results[module]
        explained = [(s, reason_for(module, s, reasons)) for s in r["survivors"]]
        equivalent = sum(1 for _, why in explained if why)
        unexplained = len(explained) - equivalent
        lines.append(
            f"| `{module}` | {r['area']} | {r['date']} | {r['total']} | {r['killed']} | {equivalent} "
            f"| {unexplained} | {r['not_run']} | {score(module, r, reasons)} |"
        )
        if r.get("note"):
            body += [f"### `{module}`", "", r["note"], ""]
        if explained:
            body += [
                f"### `{module}`",
                "",
                "| line | operator | code | mutant | why it survives |",
                "|---|---|---|---|---|",
            ]
            body += [
                f"| {s['line']} | {s['operator'].removeprefix('core/')} | {md(s['before'])} "
                f"| {md(s['after'])} | {why or '**no reason: needs a test**'} |"
                for s, why in explained
            ]
            body.append("")
    lines += ["", "## Surviving mutants", ""] + (body or ["None."]) + [""]
    REPORT.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all in tests/mutation.toml)")
    parser.add_argument("-j", "--jobs", type=int, help="modules at once (default from the config)")
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="run each stored survivor that has no reason again against today's tests (the module's"
        " code unchanged since its run): a survivor a new test kills is counted killed",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite docs/mutation.md and SECURITY.md's scores from the stored results, run nothing",
    )
    args = parser.parse_args(argv)
    config = load_config()
    modules: dict[str, Any] = config["modules"]
    unknown = [m for m in args.modules if m not in modules]
    if unknown:
        parser.error(f"not in tests/mutation.toml: {', '.join(unknown)}")
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.recheck:
        reasons = load_reasons()
        for module in args.modules or list(modules):
            if module in results:
                entry = recheck(module, modules[module], results[module], reasons)
                results = store_result(module, entry)
    elif not args.report_only:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        stamp = f"{datetime.date.today().isoformat()} {commit}{'+' if dirty else ''}"
        chosen = args.modules or list(modules)
        jobs = args.jobs or config["settings"]["jobs"]
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(run_module, m, modules[m], config["settings"]): m for m in chosen}
            for future in concurrent.futures.as_completed(futures):
                o = future.result()
                entry = {
                    "area": o.area,
                    "date": stamp,
                    "total": o.total,
                    "killed": o.killed,
                    "timeouts": o.timeouts,
                    "not_run": o.not_run,
                    "survivors": o.survivors,
                    "minutes": round(o.seconds / 60, 1),
                    "note": o.note,
                }
                print(
                    f"{o.module}: {o.killed}/{o.total} killed, {len(o.survivors)} survived, "
                    f"{o.not_run} not run, {o.seconds / 60:.1f} min {o.note}",
                    flush=True,
                )
                results = store_result(o.module, entry)
                write_report(results, list(modules))
    write_report(results, list(modules))
    update_security_md(results)
    return 0


def recheck(module: str, spec: dict[str, Any], result: dict[str, Any], reasons: list[dict[str, str]]) -> dict[str, Any]:
    """``result`` with each survivor that has no reason applied again, one at a time, in a
    scratch copy, and the module's tests run: the ones they now fail are counted killed.

    Only for a module whose code is as it was at the run's commit (tests may have changed:
    that is the point); the result keeps its run's stamp and says what was rechecked when.
    """
    stamp = result["date"].split()
    commit = stamp[1] if len(stamp) == 2 else ""
    if not commit or commit.endswith("+"):
        raise SystemExit(f"mutation: {module}: its run ({result['date']}) is of uncommitted code; run it again")
    then = subprocess.run(["git", "show", f"{commit}:{module}"], cwd=REPO, capture_output=True, text=True).stdout
    if then != (REPO / module).read_text():
        raise SystemExit(f"mutation: {module} changed since its run at {commit}; run it again")
    pending = [s for s in result["survivors"] if reason_for(module, s, reasons) is None]
    killed = []
    with tempfile.TemporaryDirectory(prefix="modelgate-recheck-") as scratch:
        copy = Path(scratch) / "repo"
        copy_checkout(copy)
        env = environment(copy)
        check_isolation(copy, env)
        baseline = subprocess.run(test_command(spec), cwd=copy, env=env, capture_output=True, text=True)
        if baseline.returncode != 0:  # a failure must be the mutant's
            raise SystemExit(f"mutation: {module}: its tests fail without any mutant:\n{baseline.stdout[-2000:]}")
        target = copy / module
        original = target.read_text()
        lines = original.split("\n")
        for survivor in pending:
            index = survivor["line"] - 1
            if " / " in survivor["before"] or lines[index].strip() != survivor["before"]:
                continue  # a mutant of several lines, or not where the run saw it: run the module again
            mutated = list(lines)
            mutated[index] = lines[index][: len(lines[index]) - len(lines[index].lstrip())] + survivor["after"]
            target.write_text("\n".join(mutated))
            try:
                run = subprocess.run(test_command(spec), cwd=copy, env=env, capture_output=True, text=True)
            finally:
                target.write_text(original)
            if run.returncode != 0:
                killed.append(survivor)
    now = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    note = (
        f"rechecked {datetime.date.today().isoformat()} at {now.strip()}: {len(killed)} of the {len(pending)}"
        " survivors without a reason are killed by today's tests (each applied in a scratch copy, the module's"
        " tests run)"
    )
    print(f"{module}: {note}", flush=True)
    return {
        **result,
        "killed": result["killed"] + len(killed),
        "survivors": [s for s in result["survivors"] if s not in killed],
        "note": "; ".join(filter(None, [result.get("note", ""), note])),
    }


def store_result(module: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Add one module's result to docs/mutation-results.json; read again under a lock first,
    so that two runs at once (of different modules) keep each other's results."""
    import fcntl

    with open(Path(tempfile.gettempdir()) / "modelgate-mutation-results.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results[module] = entry
        RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return results


if __name__ == "__main__":
    sys.exit(main())
