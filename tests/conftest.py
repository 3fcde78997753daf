"""Shared fixtures: real files, real git repositories, the real installed command.

Every git call runs with an isolated HOME and global config and an explicit author and
date, so tests behave the same on any machine.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
# The installed console script, next to the interpreter running the tests.
MODELGATE = shutil.which("modelgate", path=os.path.dirname(sys.executable)) or "modelgate"


def copy_checkout(dest: Path) -> None:
    """This repository's files as git would commit them (tracked, and new ones git does not
    ignore), as they are in the work tree, copied into ``dest``; a symlink stays a link."""
    command = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    listed = subprocess.run(command, cwd=REPO, capture_output=True, check=True).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        source = REPO / rel
        if not source.is_file() and not source.is_symlink():  # deleted, still tracked
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / rel, follow_symlinks=False)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Author")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-01T12:00:00Z")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-01T12:00:00Z")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in list(os.environ):
        if name.startswith(("MODELGATE_", "GITHUB_")) or name == "CI":
            monkeypatch.delenv(name)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Repo:
    """A scratch repository: write files and manifests, commit, branch, run modelgate."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
        )
        return proc.stdout.strip()

    def write(self, rel: str, content: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = textwrap.dedent(content).encode()
        path.write_bytes(content)
        return path

    def artifact(self, rel: str, content: bytes = b"model-bytes") -> dict[str, Any]:
        self.write(rel, content)
        return {"path": os.path.basename(rel), "sha256": sha256(content), "size": len(content)}

    def manifest(self, folder: str, **fields: Any) -> Path:
        """A valid manifest in ``folder`` with one artifact; keyword fields override."""
        content = fields.pop("artifact_bytes", b"weights of " + folder.encode())
        data: dict[str, Any] = {
            "apiVersion": "modelgate/v1",
            "kind": "Model",
            "name": "fraud-detector",
            "version": "1.0.0",
            "stage": "none",
            "owners": ["@acme/fraud"],
            "artifacts": [self.artifact(f"{folder}/model.bin", content)],
        }
        data.update(fields)
        if "requirements.lock" in json.dumps(data.get("lineage", {})):
            self.write(f"{folder}/requirements.lock", LOCK)
        # JSON is YAML: exact control over what the loader sees.
        return self.write(f"{folder}/modelgate.yaml", json.dumps(data, indent=2) + "\n")

    def commit(self, message: str = "change", date: str | None = None, author: str | None = None) -> str:
        """Commit everything; ``date`` (ISO 8601) and ``author`` ("Name <email>") when given."""
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
        if author:
            name, email = author.rstrip(">").split(" <")
            env |= {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email}
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.git("rev-parse", "HEAD")

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """The installed ``modelgate`` command, as a user runs it."""
        return subprocess.run(
            [MODELGATE, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=120,
        )


def extending_default(*rules: str) -> str:
    """Policy ``acme``: builtin:default plus ``rules``, each a flow mapping (``{check: ...}``)."""
    header = "apiVersion: modelgate/v1\nkind: Policy\nname: acme\nextends: [builtin:default]\nrules:\n"
    return header + "".join(f"  - {rule}\n" for rule in rules)


def staging_fields(**extra: Any) -> dict[str, Any]:
    """Fields builtin:default requires from staging on."""
    fields: dict[str, Any] = {
        "stage": "staging",
        "license": "Apache-2.0",
        "lineage": {
            "code": {"commit": "a" * 40},
            "data": [{"name": "train", "uri": "data/train.parquet", "revision": "2026-10-01"}],
            "params": {"learning_rate": 0.05},
        },
        "metrics": {"auc": {"value": 0.93, "goal": "maximize"}},
    }
    fields.update(extra)
    return fields


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    root = tmp_path / "repo"
    root.mkdir()
    r = Repo(root)
    r.git("init", "-q", "-b", "main")
    yield r


class Report:
    """The JSON report of an in-process ``modelgate check`` run."""

    def __init__(self, code: int, data: dict[str, Any], out: str) -> None:
        self.code = code
        self.data = data
        self.out = out

    def outcomes(self, check: str, manifest: str | None = None) -> list[str]:
        return [
            r["outcome"]
            for r in self.data["results"]
            if check in (r["check"], r["name"]) and manifest in (None, r["manifest"])
        ]

    def messages(self, check: str) -> list[str]:
        return [
            r["message"] for r in self.data["results"] if check in (r["check"], r["name"]) and r["outcome"] != "passed"
        ]

    def result(self, check: str) -> dict[str, Any]:
        found = [r for r in self.data["results"] if check in (r["check"], r["name"])]
        assert len(found) == 1, found
        return found[0]


def prefetched(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files (relative to ``repo``) the runs from now on hash ahead, in parallel: the
    real prefetch runs, and the paths it was given are listed."""
    from modelgate.hashing.digest import Hasher

    asked: list[str] = []
    real = Hasher.prefetch

    def prefetch(self: Hasher, paths: object) -> None:
        listed = list(paths)  # type: ignore[call-overload]
        asked.extend(os.path.relpath(p, repo.root) for p in listed)
        real(self, listed)

    monkeypatch.setattr(Hasher, "prefetch", prefetch)
    return asked


def check_in_process(repo: Repo, *args: str, capsys: pytest.CaptureFixture[str]) -> Report:
    """``main(["check", ...])`` in-process with ``--json``; returns the parsed report."""
    from modelgate.cli import main

    out_file = repo.root.parent / "report.json"
    if out_file.exists():
        out_file.unlink()
    old = os.getcwd()
    os.chdir(repo.root)
    try:
        code = main(["check", "--json", str(out_file), *args])
    finally:
        os.chdir(old)
    out = capsys.readouterr().out
    data = json.loads(out_file.read_text()) if out_file.exists() else {}
    return Report(code, data, out)


def check_installed(repo: Repo, *args: str) -> Report:
    """``modelgate check --json`` run by the installed command in a separate process, as a
    user or CI runs it; the same :class:`Report` as :func:`check_in_process`."""
    out_file = repo.root.parent / "report.json"
    if out_file.exists():
        out_file.unlink()
    proc = repo.run("check", "--json", str(out_file), *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    data = json.loads(out_file.read_text()) if out_file.exists() else {}
    return Report(proc.returncode, data, proc.stdout)


LOCK = b"numpy==2.1.2\n"


def production_fields(**extra: Any) -> dict[str, Any]:
    """Fields builtin:default requires at production: staging's plus a pinned lockfile
    (``Repo.manifest`` writes ``requirements.lock`` next to the manifest)."""
    fields = staging_fields(stage="production")
    lockfile = {"path": "requirements.lock", "sha256": sha256(LOCK)}
    fields["lineage"] = {**fields["lineage"], "environment": {"lockfile": lockfile}}
    fields.update(extra)
    return fields


class Venv:
    """A throw-away virtual environment that sees this project's own environment (modelgate
    and its dependencies), for installing a package with pip as a user would, offline."""

    def __init__(self, root: Path) -> None:
        import sysconfig

        # --without-pip: creating one with pip costs seconds; our pip installs into it.
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
        self.root = root
        self.python = root / "bin" / "python"
        site = subprocess.run(
            [self.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        # addsitedir, not a plain path: it also runs the .pth of modelgate's editable install.
        parent = sysconfig.get_path("purelib")
        Path(site, "_parent_env.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
        script = root / "bin" / "modelgate"  # what pip writes for the console script
        script.write_text(f"#!{self.python}\nimport sys\nfrom modelgate.cli import console\nsys.exit(console())\n")
        script.chmod(0o755)

    def pip_install(self, *args: str) -> None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(self.python),
                "install",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                "--no-index",
                "--no-cache-dir",
                "--disable-pip-version-check",
                *args,
            ],
            check=True,
            capture_output=True,
            text=True,
        )

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "VIRTUAL_ENV": str(self.root),
            "PATH": f"{self.root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def modelgate(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.root / "bin" / "modelgate", *args], cwd=cwd, capture_output=True, text=True, env=self.env, timeout=120
        )


def commands_in_messages(program: str) -> dict[str, list[str]]:
    """Every backticked ``program ...`` command in a string of modelgate's code (f-strings
    with ``{}`` for their fields), docstrings aside: what a message, hint or help text can
    suggest to paste; each with where it is written."""
    pattern = re.compile(rf"`({re.escape(program)} [^`]*)`")
    found: dict[str, list[str]] = {}
    for path in sorted((REPO / "modelgate").rglob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                text = node.value
            elif isinstance(node, ast.JoinedStr):
                text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            else:
                continue
            for command in pattern.findall(text):
                found.setdefault(command, []).append(f"{path.relative_to(REPO)}:{node.lineno}")
    return found
