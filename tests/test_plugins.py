"""The plugin engine: built-ins as plugins, crashes as error results, duplicates refused."""

from __future__ import annotations

import types

import pytest

from modelgate.checkapi import Fail, check
from modelgate.errors import PluginError
from modelgate.plugins import BUILTINS, collect_checks, make_plugin_manager
from tests.conftest import Repo, check_in_process


def test_fresh_manager_each_time() -> None:
    a, b = make_plugin_manager(autoload=False), make_plugin_manager(autoload=False)
    assert a is not b
    assert sorted(name for name, _ in a.list_name_plugin()) == sorted(BUILTINS)


def test_builtin_checks_are_collected_through_the_hook() -> None:
    checks = collect_checks(make_plugin_manager(autoload=False))
    assert checks["MG102"].plugin == "artifacts"
    assert checks["MG001"].required


def test_duplicate_check_id_is_a_plugin_error() -> None:
    pm = make_plugin_manager(autoload=False)
    module = types.ModuleType("dupe")

    @check("MG102", name="other-name")
    def clash() -> None:
        """Clash."""

    module.clash = clash  # type: ignore[attr-defined]
    pm.register(module, name="dupe")
    with pytest.raises(PluginError, match="check MG102 is provided by both 'artifacts' and 'dupe'"):
        collect_checks(pm)


def test_check_declaring_unknown_argument_is_refused() -> None:
    with pytest.raises(TypeError, match="asks for unknown argument"):
        @check("ACME001", name="bad")
        def bad(manifesto: object) -> None:
            """Bad."""


@pytest.mark.parametrize(("args", "message"), [(("mg1",), "must look like"), (("MG100", "Bad Name"), "slug")])
def test_bad_ids_and_names(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check(args[0], name=args[1] if len(args) > 1 else "fine")


def test_crashing_check_is_an_error_result_naming_the_plugin(
    repo: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelgate import plugins

    module = types.ModuleType("acme_crash")

    @check("ACME001", name="crashes")
    def crashes(manifest: object) -> None:
        """Always crashes."""
        raise KeyError("boom")

    @check("ACME002", name="finds", severity="warning")
    def finds(manifest: object) -> object:
        """Yields two findings."""
        yield Fail("first", at="version")
        yield "second"

    module.crashes, module.finds = crashes, finds  # type: ignore[attr-defined]
    original = plugins.make_plugin_manager

    def with_acme(*args: object, **kwargs: object) -> object:
        pm = original(*args, **kwargs)  # type: ignore[arg-type]
        pm.register(module, name="acme")
        return pm

    monkeypatch.setattr(plugins, "make_plugin_manager", with_acme)
    repo.manifest("m")
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    crash = report.result("ACME001")
    assert crash["outcome"] == "error"
    assert crash["message"] == "check crashed in plugin 'acme': KeyError: 'boom'"
    assert [r["message"] for r in report.data["results"] if r["check"] == "ACME002"] == ["first", "second"]
    assert {r["severity"] for r in report.data["results"] if r["check"] == "ACME002"} == {"warning"}
