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


# -- discovery of third-party and local plugins, end to end ---------------------------

from pathlib import Path  # noqa: E402

from tests.conftest import production_fields  # noqa: E402

ACME = '''\
import modelgate

@modelgate.check("ACME001", name="model-card-linked", stages=["staging", "production"])
def model_card_linked(manifest):
    """A model card is linked from the manifest's tags."""
    assert "model_card" in manifest.tags, "link the model card in tags.model_card"
'''


def install_distribution(site: Path, module_source: str, entry: str = "acme = acme_checks") -> None:
    """What pip leaves behind: a module and a dist-info with the entry point."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "acme_checks.py").write_text(module_source)
    info = site / "acme_checks-1.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-checks\nVersion: 1.2.0\n")
    (info / "entry_points.txt").write_text(f"[modelgate]\n{entry}\n")


def test_installed_plugin_is_discovered_through_its_entry_point(repo: Repo, tmp_path: Path) -> None:
    install_distribution(tmp_path / "site", ACME)
    env = {"PYTHONPATH": str(tmp_path / "site")}
    repo.manifest("m", **production_fields(stage="staging"))
    proc = repo.run("check", env=env)
    assert proc.returncode == 1
    assert "ACME001 model-card-linked (failed)" in proc.stdout
    assert "link the model card in tags.model_card" in proc.stdout
    plugins = repo.run("plugins", env=env).stdout
    assert "acme 1.2.0\n  checks: ACME001\n" in plugins
    assert repo.run("check", "-p", "no:acme", env=env).returncode == 0
    assert repo.run("check", env={**env, "MODELGATE_DISABLE_PLUGIN_AUTOLOAD": "1"}).returncode == 0
    repo.manifest("m", **production_fields(stage="staging", tags={"model_card": "docs/card.md"}))
    assert repo.run("check", env=env).returncode == 0


def test_plugin_that_fails_to_import_is_exit_4_naming_it(repo: Repo, tmp_path: Path) -> None:
    install_distribution(tmp_path / "site", "raise ImportError('numpy is missing')\n")
    repo.manifest("m")
    proc = repo.run("check", env={"PYTHONPATH": str(tmp_path / "site")})
    assert proc.returncode == 4
    assert proc.stderr.startswith(
        "modelgate: error: plugin 'acme' (acme_checks) failed to load: ImportError: numpy is missing;"
    )


def test_local_plugin_module_from_config(repo: Repo) -> None:
    repo.write("governance/checks.py", ACME)
    repo.write(".modelgate.yaml", "plugins: [governance/checks.py]\n")
    repo.manifest("m", **production_fields(stage="staging"))
    proc = repo.run("check")
    assert proc.returncode == 1
    assert "ACME001 model-card-linked (failed)" in proc.stdout
    repo.write(".modelgate.yaml", "plugins: [governance/missing.py]\n")
    proc = repo.run("check")
    assert (proc.returncode, proc.stderr) == (
        4, "modelgate: error: config plugins: local plugin governance/missing.py not found in the repository\n")


def test_local_plugin_comes_from_the_base_never_from_the_change(repo: Repo, tmp_path: Path) -> None:
    repo.write("governance/checks.py", ACME)
    repo.write(".modelgate.yaml", "plugins: [governance/checks.py]\n")
    repo.manifest("m", **production_fields(stage="staging", tags={"model_card": "card.md"}))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    pwned = tmp_path / "pwned"
    repo.write("governance/checks.py", f"open({str(pwned)!r}, 'w').write('ran')\n")  # the change's code
    proc = repo.run("check", "--base", "main")
    assert not pwned.exists(), "code from the change under review was executed"
    assert "policy-changed: governance/checks.py differs from the base" in proc.stdout
    assert proc.returncode == 0, proc.stdout
