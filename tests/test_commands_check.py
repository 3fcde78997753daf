"""``modelgate check``: the workspace begun while the plugins load, and taken only when the
whole command line asks for what was begun."""

from __future__ import annotations

import argparse
import subprocess
from typing import Any

import pytest

import modelgate
from modelgate import plugins
from modelgate.cli import main
from modelgate.commands import build_parser, check
from modelgate.git.repo import GitRepo
from modelgate.pipeline import session, workspace
from tests.conftest import Repo, staging_fields


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--help"],  # argparse would print and exit
        ["--version", "check"],
        ["check", "--shard", "5/4"],  # does not parse: the whole command line says why
        ["check", "--select"],
        ["list-checks"],
    ],
)
def test_nothing_is_begun_for_what_does_not_parse_as_a_check(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert check.early(args) is None
    assert capsys.readouterr() == ("", "")  # the whole command line has its say, once


def test_what_is_begun_is_what_the_whole_command_line_asks(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.commit("base")
    monkeypatch.chdir(repo.root)
    args = ["-p", "no:sarif", "check", "--base", "HEAD", "--changed", "--shard", "1/2", "--select", "MG1,MG2", "m"]
    begun = check.early(args)
    assert begun is not None
    try:
        whole = build_parser(plugins.make_plugin_manager(autoload=False), only="check").parse_args(args)
        assert begun.options == check.session_options(whole)
    finally:
        begun.close()


class _LevelOption:
    """A plugin with an option that takes a value: read without it, ``--acme-level 3``
    makes ``3`` look like a path."""

    @modelgate.hookimpl
    def modelgate_addoption(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--acme-level", default=None)


@pytest.mark.parametrize(("extra", "prepared"), [([], 1), (["--acme-level", "3"], 2)])
def test_a_setup_begun_for_other_options_is_replaced(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, extra: list[str], prepared: int
) -> None:
    repo.manifest("models/fraud", **staging_fields())
    repo.commit("base")
    monkeypatch.chdir(repo.root)
    made = plugins.make_plugin_manager

    def with_option(*args: Any, **kwargs: Any) -> Any:
        pm = made(*args, **kwargs)
        pm.register(_LevelOption(), name="acme-level")
        return pm

    monkeypatch.setattr(plugins, "make_plugin_manager", with_option)
    calls: list[workspace.Options] = []
    real = workspace.prepare

    def counted(options: workspace.Options, root: str, ahead: GitRepo | None = None) -> workspace.Setup:
        calls.append(options)
        return real(options, root, ahead)

    monkeypatch.setattr(workspace, "prepare", counted)
    monkeypatch.setattr(session, "prepare", counted)
    assert main(["check", "-q", "--base", "HEAD", *extra]) == 0
    assert len(calls) == prepared  # once, begun early and taken; else again, for the right options
    assert calls[-1].paths == ()


class _Spawned(list[list[str]]):
    """The command lines of the processes a run starts (they still run)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__()
        real = subprocess.Popen
        spawned = self

        class Recorded(real):  # type: ignore[misc, valid-type]
            def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
                spawned.append([str(a) for a in args])
                super().__init__(args, *rest, **kwargs)

        monkeypatch.setattr(subprocess, "Popen", Recorded)

    def logs(self) -> list[list[str]]:
        return [c for c in self if "log" in c and "--first-parent" in c]


@pytest.mark.parametrize(
    ("args", "early"),
    [
        (["--base", "main"], True),  # named: its log begins before the workspace is imported
        (["--base", "main", "models/fraud"], False),  # paths may be another repository's
        (["--base", "main", "--changed"], False),  # may select nothing: the log begins as the setup asks
        (["--base", "none"], False),
    ],
)
def test_a_named_base_has_its_history_begun_first_and_read_once(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, args: list[str], early: bool
) -> None:
    repo.manifest("models/fraud", **staging_fields())
    repo.commit("base")
    monkeypatch.chdir(repo.root)
    spawned = _Spawned(monkeypatch)
    begun = check.early(["check", "-q", *args])
    assert begun is not None
    try:
        assert (begun._ahead is not None) is early
        assert len(spawned.logs()) == early  # begun before the setup's thread runs a git command
    finally:
        begun.close()
    spawned.clear()
    assert main(["check", "-q", *args]) == 0
    assert len(spawned.logs()) == (args[1] != "none")  # asked once, adopted when begun early
