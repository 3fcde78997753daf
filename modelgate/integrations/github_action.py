"""The GitHub Action's run step (``python -I -m modelgate.integrations.github_action``), testable as a script.

Reads the action's inputs from ``INPUT_*`` variables, takes the base from the event
payload (:mod:`modelgate.pipeline.ci`), makes sure the base commit is in the (usually shallow)
clone, runs ``modelgate check`` with every report, appends the Markdown report and audit
record to the job summary, stores the signed audit record as a git note when asked
(:mod:`modelgate.integrations.audit_notes`), and sets the step's outputs with a random
heredoc delimiter. Exits with modelgate's exit code.

The working directory is the checkout of the change under review. Python puts the
working directory first on ``sys.path`` for ``-m``, and ``PYTHONPATH``, ``sitecustomize``
and ``usercustomize`` run code before ours: a change adding a ``modelgate/`` package would
replace the gate. So this module and the check it starts run isolated (``-I``: no working
directory or script folder on the path, no ``PYTHON*`` variables, no user site-packages),
importing only the installed modelgate.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping

from modelgate.errors import ModelgateError
from modelgate.escaping import github_data, github_property
from modelgate.integrations import audit_notes
from modelgate.pipeline.base import NONE, choose_base
from modelgate.pipeline.ci import COMMIT
from modelgate.reporters.audit import render_markdown
from modelgate.reporters.markdown import LIMIT, TRUNCATED

# The interpreter, isolated from the checkout (see the module's docstring).
PYTHON = [sys.executable, "-I"]


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def ensure_base(base: str, commit: str | None) -> str | None:
    """Fetch what the comparison needs from a shallow clone; an error message if impossible.
    ``commit``: the base as a full commit id (hex digits only), fetched by id when missing."""

    def present() -> bool:
        verified = _git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}")
        return verified.returncode == 0 and _git("merge-base", base, "HEAD").returncode == 0

    if present():
        return None
    if _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        _git("fetch", "--quiet", "--no-tags", "--unshallow", "origin")
    if commit is not None:
        _git("fetch", "--quiet", "--no-tags", "origin", commit)  # hex digits only: never an option
    if present():
        return None
    from modelgate.git.repo import GitRepo

    # actions/checkout with `persist-credentials: false` leaves no credentials to fetch with:
    # the history has to come with the checkout, or from a step that has them.
    fetch = GitRepo(os.getcwd()).fetch_command(base)
    return (
        f"the base {base} is not in this clone and could not be fetched; use actions/checkout with"
        " `fetch-depth: 0`"
        + (f", or run `{fetch[0]}` before this step" if fetch else "")
        + (f" and set `base: {fetch[1]}`" if fetch and fetch[1] != base else "")
    )


def _set_outputs(path: str | None, outputs: Mapping[str, str]) -> None:
    if not path:
        return
    with open(path, "a", encoding="utf-8") as stream:
        for key, value in outputs.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"  # unguessable: a value cannot end the block
            stream.write(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")


def _append_summary(path: str, parts: list[str]) -> None:
    text = "\n".join(parts)
    data = text.encode("utf-8")
    if len(data) > LIMIT:
        text = data[: LIMIT - len(TRUNCATED.encode())].decode("utf-8", "ignore") + TRUNCATED
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(text)


def _usage_error(env: Mapping[str, str], outputs: dict[str, str], message: str) -> int:
    print(f"::error title=modelgate::{github_data(message)}", flush=True)
    _set_outputs(env.get("GITHUB_OUTPUT"), {**outputs, "verdict": "error", "exit-code": "4"})
    return 4


def _broken_branch(branch: str, before: str | None, after: str, report: str) -> str:
    """The loud line for a push that leaves ``branch`` failing: an annotation on the run of
    that commit naming what fails. Pull requests that each passed on their own can fail
    together once merged (two versions promoted to one exclusive stage); the branch itself is
    now what fails, and someone must fix it."""
    failed: list[str] = []
    try:
        with open(report, encoding="utf-8") as stream:
            data = json.load(stream)
        failed = [
            f"{r['check']} {r['name']} on {r['model']}: {r['message']}"
            for r in data.get("results", [])
            if r.get("outcome") in ("failed", "error") and r.get("severity") == "error"
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    shown = "; ".join(failed[:5]) + (f"; and {len(failed) - 5} more" if len(failed) > 5 else "")
    pushed = f"{before[:12]}..{after[:12]}" if before else after[:12]
    return f"::error title={github_property(f'modelgate: {branch} fails the gate after this push')}::" + github_data(
        f"{branch} at {after[:12]} fails the gate after the push {pushed}: changes that passed"
        " one by one fail together once merged. Fix the branch now" + (f". Failed: {shown}" if shown else "")
    )


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    out_dir = tempfile.mkdtemp(prefix="modelgate-", dir=env.get("RUNNER_TEMP") or None)
    reports = {name: os.path.join(out_dir, name) for name in ("report.json", "audit.json", "summary.md")}
    outputs = {"json-report": reports["report.json"], "audit-report": reports["audit.json"]}

    command = [*PYTHON, "-m", "modelgate", "check"]
    fail_on = env.get("INPUT_FAIL_ON", "error").strip() or "error"
    if fail_on not in ("error", "warning"):
        return _usage_error(env, outputs, f"fail-on must be 'error' or 'warning', not {fail_on}")
    given = env.get("INPUT_BASE", "").strip() or None
    try:
        notes = audit_notes.wanted(env)
        # The same choice as `modelgate check` makes in CI: the input, else the event's base;
        # and the checkout must be the commit the event is about (a merge group's head).
        choice = choose_base(given, env, None, ci=True)
        head = _git("rev-parse", "--verify", "--quiet", "HEAD^{commit}").stdout.strip() or None
        choice.require_head(head)
    except ModelgateError as exc:
        return _usage_error(env, outputs, str(exc))
    base = choice.ref
    if base is not None:
        problem = ensure_base(base, base if COMMIT.fullmatch(base) else None)
        if problem is not None:
            return _usage_error(env, outputs, problem)
    command += ["--base", base or NONE]
    if fail_on == "warning":
        command.append("--strict")
    command += ["--json", reports["report.json"], "--audit", reports["audit.json"], "--markdown", reports["summary.md"]]
    if env.get("INPUT_SARIF", "").strip():
        command += ["--sarif", env["INPUT_SARIF"].strip()]
    command += shlex.split(env.get("INPUT_ARGS", ""))
    command += shlex.split(env.get("INPUT_PATHS", ""))

    # The signing key is for the note alone: the gate, and any plugin it loads, never sees it.
    gate_env = {k: v for k, v in env.items() if k != "INPUT_AUDIT_KEY"}
    code = subprocess.run(command, check=False, env={**gate_env, "GITHUB_ACTIONS": "true"}).returncode
    verdict = "pass" if code == 0 else ("fail" if code in (1, 5) else "error")
    if code == 1 and choice.event == "push" and choice.branch and head:
        print(_broken_branch(choice.branch, choice.ref, head, reports["report.json"]), flush=True)
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    wanted = env.get("INPUT_SUMMARY", "true").strip().lower() == "true"
    if wanted and summary_path and os.path.exists(reports["summary.md"]):
        with open(reports["summary.md"], encoding="utf-8") as stream:
            parts = [stream.read()]
        if os.path.exists(reports["audit.json"]):
            with open(reports["audit.json"], encoding="utf-8") as stream:
                parts.append(render_markdown(json.load(stream)))
        _append_summary(summary_path, parts)
    if notes:
        try:
            outputs["audit-note"] = audit_notes.store(reports["audit.json"], env, out_dir)
            print(
                f"::notice title=modelgate::audit record signed and stored as a git note on"
                f" {outputs['audit-note']} (refs/notes/modelgate)",
                flush=True,
            )
        except ModelgateError as exc:
            # Asked for and missing: the trail has a gap, so the step fails.
            print(f"::error title=modelgate::{github_data(str(exc))}", flush=True)
            code = code or 4
    _set_outputs(env.get("GITHUB_OUTPUT"), {**outputs, "verdict": verdict, "exit-code": str(code)})
    return code


if __name__ == "__main__":
    raise SystemExit(main())
