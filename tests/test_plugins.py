"""The plugin engine: built-ins as plugins, discovery, crashes as error results, duplicates refused."""

from __future__ import annotations

import re
import types

import pytest

from modelgate.checkapi.decorator import check
from modelgate.errors import PluginError
from modelgate.plugins import BUILTINS, collect_checks, make_plugin_manager
from tests.conftest import Repo


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
        4,
        "modelgate: error: config plugins: local plugin governance/missing.py not found in the repository\n",
    )


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


def test_local_plugins_are_listed_and_explained(repo: Repo) -> None:
    repo.write("governance/checks.py", ACME)
    repo.write(".modelgate.yaml", "plugins: [governance/checks.py]\n")
    plugins = repo.run("plugins")
    assert "governance/checks.py (local module)\n  checks: ACME001\n  hooks:  -\n" in plugins.stdout
    explained = repo.run("explain", "model-card-linked")
    assert explained.stdout.startswith("ACME001 model-card-linked (error; plugin governance/checks.py)\n")
    assert "A model card is linked from the manifest's tags." in explained.stdout
    assert "ACME001 " in repo.run("list-checks").stdout
    assert "ACME001 " not in repo.run("-p", "no:governance/checks.py", "list-checks").stdout


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (
            "import modelgate\n\nraise RuntimeError('no network here')\n",
            "local plugin governance/checks.py:3 failed to load: RuntimeError: no network here",
        ),
        ("def broken(:\n", "local plugin governance/checks.py:1: invalid syntax"),
    ],
)
def test_local_plugin_that_fails_to_load_is_exit_4_naming_the_line(repo: Repo, source: str, error: str) -> None:
    repo.write("governance/checks.py", source)
    repo.write(".modelgate.yaml", "plugins: [governance/checks.py]\n")
    repo.manifest("m")
    proc = repo.run("check")
    assert (proc.returncode, proc.stderr) == (4, f"modelgate: error: {error}\n")


def test_crashing_local_check_is_an_error_result_and_exit_1(repo: Repo) -> None:
    repo.write(
        "governance/checks.py",
        '''\
import modelgate

@modelgate.check("REPO001", name="crashes")
def crashes(manifest):
    """Reads a tag that is not there."""
    return manifest.tags["team"].upper()
''',
    )
    repo.write(".modelgate.yaml", "plugins: [governance/checks.py]\n")
    repo.manifest("m")
    proc = repo.run("check")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    at = lines.index("REPO001 crashes (crashed) · fraud-detector@1.0.0")
    assert lines[at + 2] == "  check crashed in plugin 'governance/checks.py': KeyError: 'team'"
    assert re.search(r" 0 failed, 0 waived, \d+ skipped, 1 error in [0-9.]+s =+$", lines[-1]), lines[-1]
    traceback = repo.run("check", "--traceback").stderr
    assert 'File "<worktree>/governance/checks.py", line 6, in crashes' in traceback
    assert 'return manifest.tags["team"].upper()' in traceback


# -- a real package, installed with pip into a fresh virtual environment ---------------

import shutil  # noqa: E402

from tests.conftest import REPO, Venv  # noqa: E402

CREDIT_POLICY = """\
apiVersion: modelgate/v1
kind: Policy
name: credit
extends: [builtin:default]
rules:
  - {check: fairness-metric, stages: [production], with: {metric: demographic_parity_gap, max: 0.05}}
"""


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """tests/plugins/modelgate_acme, pip-installed (built from a copy: pip builds in the tree)."""
    work = tmp_path_factory.mktemp("acme")
    shutil.copytree(REPO / "tests" / "plugins" / "modelgate_acme", work / "src")
    venv = Venv(work / "venv")
    venv.pip_install(str(work / "src"))
    return venv


def test_installed_package_is_listed_with_its_version_checks_and_hooks(acme: Venv, repo: Repo) -> None:
    proc = acme.modelgate(repo.root, "plugins")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith(
        "acme 0.3.0\n  checks: ACME001, ACME002, ACME003\n  hooks:  modelgate_addoption, modelgate_reporters\n"
    )
    explained = acme.modelgate(repo.root, "explain", "ACME002").stdout
    assert explained.startswith("ACME002 pickle-banned (error; plugin acme)\nruns: production\n")
    assert "hint: export the model as safetensors or ONNX" in explained


def test_installed_package_checks_fail_at_the_yaml_line_and_report(acme: Venv, repo: Repo) -> None:
    repo.manifest("m", **production_fields(artifacts=[repo.artifact("m/model.pkl")]))
    proc = acme.modelgate(repo.root, "check", "--acme-report", "acme.txt")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    card = lines.index("ACME001 model-card-linked (failed) · fraud-detector@1.0.0")
    assert lines[card + 2] == "  link the model card in tags.model_card"
    pickle = lines.index("ACME002 pickle-banned (failed) · fraud-detector@1.0.0")
    location = lines[pickle + 1].strip()
    line = int(location.split(":")[1])
    assert (repo.root / "m" / "modelgate.yaml").read_text().splitlines()[line - 1].strip() == '"path": "model.pkl",'
    assert lines[pickle + 2 : pickle + 4] == [
        "  model.pkl is a pickle",
        "  hint: export the model as safetensors or ONNX",
    ]
    assert (repo.root / "acme.txt").read_text().splitlines() == [
        "ACME001 m/modelgate.yaml:1",
        f"ACME002 m/modelgate.yaml:{line}",
    ]


def test_installed_package_rule_and_assert_explanation(acme: Venv, repo: Repo) -> None:
    repo.write("policy.yaml", CREDIT_POLICY)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    metrics = {"auc": 0.93, "demographic_parity_gap": 0.08}
    repo.manifest("m", **production_fields(name="credit-scorer", tags={"model_card": "card.md"}, metrics=metrics))
    proc = acme.modelgate(repo.root, "check")
    assert proc.returncode == 1
    assert "  assert gap <= bound  (where gap = 0.08, bound = 0.05)" in proc.stdout
    # Without the plugin the rule names a check no plugin provides: a configuration error.
    proc = acme.modelgate(repo.root, "check", "-p", "no:acme")
    assert proc.returncode == 4
    assert proc.stderr == (
        "modelgate: error: policy.yaml:6:5: rule names check 'fairness-metric', which no plugin provides;"
        " see `modelgate list-checks`, or install the plugin that provides it\n"
    )
    repo.manifest(
        "m",
        **production_fields(
            name="credit-scorer", tags={"model_card": "card.md"}, metrics={**metrics, "demographic_parity_gap": 0.01}
        ),
    )
    proc = acme.modelgate(repo.root, "check", "-v")
    assert proc.returncode == 0, proc.stdout


def test_local_plugin_cannot_add_options(repo: Repo) -> None:
    repo.write(
        "governance/checks.py",
        """\
import modelgate

@modelgate.hookimpl
def modelgate_addoption(parser):
    parser.add_argument("--acme-strict", action="store_true")
""",
    )
    repo.write(".modelgate.yaml", "plugins: [governance/checks.py]\n")
    repo.manifest("m")
    proc = repo.run("check")
    assert proc.returncode == 4
    assert proc.stderr.startswith(
        "modelgate: error: config plugins: governance/checks.py implements"
        " modelgate_addoption, but plugins from the configuration load after"
    )


def test_a_hook_implementation_that_does_not_fit_its_spec_is_a_plugin_error(repo: Repo) -> None:
    """An argument the hook spec does not pass (the pre-ReportRequest `options`) is exit 4
    naming the plugin and the fix, not an internal error."""
    repo.write(
        "governance/old.py",
        "import modelgate\n\n\n@modelgate.hookimpl\ndef modelgate_approval_providers(options):\n    return []\n",
    )
    repo.write(".modelgate.yaml", "plugins: [governance/old.py]\n")
    repo.manifest("m")
    proc = repo.run("check")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert proc.stderr.startswith("modelgate: error: plugin 'governance/old.py' does not fit modelgate's hooks:")
    assert "disable it with -p no:governance/old.py" in proc.stderr


def test_hook_implementations_are_found_by_their_modelgate_names_only() -> None:
    """As pytest looks only at ``pytest_*``: the other attributes of a plugin (a check
    module's imports, mostly) are not read."""
    import modelgate

    plugin = types.ModuleType("named")

    @modelgate.hookimpl
    def modelgate_approval_providers() -> list[str]:
        return ["found"]

    @modelgate.hookimpl(specname="modelgate_approval_providers")
    def providers_under_another_name() -> list[str]:
        return ["not-found"]

    plugin.modelgate_approval_providers = modelgate_approval_providers  # type: ignore[attr-defined]
    plugin.providers_under_another_name = providers_under_another_name  # type: ignore[attr-defined]
    pm = make_plugin_manager(autoload=False)
    pm.register(plugin, name="named")
    found = [p for names in pm.hook.modelgate_approval_providers() for p in names]
    assert "found" in found and "not-found" not in found
