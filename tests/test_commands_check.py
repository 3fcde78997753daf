"""``modelgate check``: the workspace begun while the plugins load, and taken only when the
whole command line asks for what was begun."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

import modelgate
from modelgate import plugins
from modelgate.cli import main
from modelgate.commands import build_parser, check
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

    def counted(options: workspace.Options, root: str) -> workspace.Setup:
        calls.append(options)
        return real(options, root)

    monkeypatch.setattr(workspace, "prepare", counted)
    monkeypatch.setattr(session, "prepare", counted)
    assert main(["check", "-q", "--base", "HEAD", *extra]) == 0
    assert len(calls) == prepared  # once, begun early and taken; else again, for the right options
    assert calls[-1].paths == ()
