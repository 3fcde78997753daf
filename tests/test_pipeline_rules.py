"""Which checks run under which rules: policies resolved against the installed checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate.datamodel import manifest
from modelgate.datamodel.policy import PolicyLoader
from modelgate.errors import UsageError
from modelgate.git.trees import WorkTree
from modelgate.pipeline.rules import RuleSet, load_policies
from modelgate.plugins import collect_checks, make_plugin_manager
from tests.conftest import Repo, staging_fields

POLICY = """\
apiVersion: modelgate/v1
kind: Policy
name: strict
extends: [builtin:default]
match: {names: ["fraud-*"]}
rules:
  - {check: required-metrics, stages: [staging], with: {min: 2}}
"""


def _rules(repo: Repo, select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> RuleSet:
    checks = collect_checks(make_plugin_manager(autoload=False))
    return RuleSet(checks, select, ignore, WorkTree(str(repo.root)))


def _doc(repo: Repo, name: str) -> manifest.ManifestDoc:
    path = repo.manifest(name, **staging_fields(name=name))
    return manifest.load(str(path), f"{name}/modelgate.yaml", root=str(repo.root))


def test_a_policy_rule_replaces_the_default_and_unmatched_models_get_builtin_default(repo: Repo) -> None:
    repo.write("policy.yaml", POLICY)
    rules = _rules(repo)
    policies = load_policies(["policy.yaml"], WorkTree(str(repo.root)))
    for policy in policies:
        rules.validate(policy)
    fraud, churn = _doc(repo, "fraud-x"), _doc(repo, "churn")
    strict = rules.governing("fraud-x", policies)
    default = rules.governing("churn", policies)
    assert strict is not None and strict.name == "strict"
    assert default is not None and default.name == "default"
    ran = {check.name: rule for check, rule in rules.for_doc(fraud, strict, removed=False)}
    assert rules.params(rules.find_check("required-metrics"), ran["required-metrics"]).min == 2  # type: ignore[arg-type]
    assert "required-metrics" in {c.name for c, _ in rules.for_doc(churn, default, removed=False)}
    assert [c.id for c, _ in rules.for_doc(fraud, strict, removed=False)] == sorted(
        c.id for c, _ in rules.for_doc(fraud, strict, removed=False)
    )


def test_select_and_ignore(repo: Repo) -> None:
    doc = _doc(repo, "m")
    only = _rules(repo, select=("MG3",))
    policy = only.governing("m", [])
    names = {c.id for c, _ in only.for_doc(doc, policy, removed=False)}
    assert names and all(i.startswith("MG3") or only.find_check(i).required for i in names)  # type: ignore[union-attr]
    without = _rules(repo, ignore=("artifact-hash",))
    assert "artifact-hash" not in {c.name for c, _ in without.for_doc(doc, policy, removed=False)}
    with pytest.raises(UsageError, match="--select/--ignore 'nothing-like-this' matches no check"):
        _rules(repo, select=("nothing-like-this",))


def test_a_rule_for_an_unknown_check_or_bad_params_is_a_usage_error(repo: Repo, tmp_path: Path) -> None:
    rules = _rules(repo)
    repo.write("unknown.yaml", POLICY.replace("required-metrics", "no-such-check"))
    repo.write("bad.yaml", POLICY.replace("{min: 2}", "{min: two}"))
    loader = PolicyLoader(WorkTree(str(repo.root)).read, WorkTree(str(repo.root)).source)
    with pytest.raises(UsageError, match="rule names check 'no-such-check', which no plugin provides"):
        rules.validate(loader.load("unknown.yaml"))
    with pytest.raises(UsageError, match="invalid `with:` for required-metrics: min:"):
        rules.validate(loader.load("bad.yaml"))


def test_a_plugin_check_under_a_built_in_name_gets_the_built_in_policys_parameters_validated(repo: Repo) -> None:
    """A built-in policy's rule parameters are built without pydantic only for modelgate's
    own parameter classes: with the built-in check disabled and a plugin's check taking its
    name, the plugin's class validates them (``min: 1`` is no text)."""
    import types
    from collections.abc import Iterator

    from modelgate.checkapi.decorator import Fail, check
    from modelgate.datamodel.records import record
    from modelgate.datamodel.validation import Strict

    @record(kw_only=True)
    class MinAsText(Strict):
        min: str = ""

    @check("ACME001", name="required-metrics", needs_rule=True, params=MinAsText)
    def required_metrics(manifest: manifest.Manifest, params: MinAsText) -> Iterator[Fail]:
        yield from ()

    plugin = types.ModuleType("acme_metrics")
    plugin.required_metrics = required_metrics  # type: ignore[attr-defined]
    pm = make_plugin_manager(disabled={"metrics"}, autoload=False)
    pm.register(plugin, "acme")
    rules = RuleSet(collect_checks(pm), (), (), WorkTree(str(repo.root)))
    with pytest.raises(UsageError, match=r"builtin:default:\d+:\d+: invalid `with:` for required-metrics: min:"):
        rules.governing("fraud-detector", [])


def test_the_providers_a_manifest_asks_are_its_rules_own_or_the_configured_one(repo: Repo) -> None:
    repo.write(
        "policy.yaml",
        "apiVersion: modelgate/v1\nkind: Policy\nname: reviewed\nextends: [builtin:default]\nrules:\n"
        "  - {check: approvals, stages: [production], with: {min: 2, provider: github}}\n"
        "  - {check: approvals, stages: [production], with: {min: 1}}\n"
        "  - {check: approvals, stages: [staging], with: {min: 1, provider: signed-commits}}\n",
    )
    rules = _rules(repo)
    policy = load_policies(["policy.yaml"], WorkTree(str(repo.root)))[0]
    production, archived = (
        manifest.load(str(repo.manifest(name, **staging_fields(name=name, stage=name))), name, root=str(repo.root))
        for name in ("production", "archived")
    )
    assert production.model is not None and archived.model is not None
    # Only the rules that apply at the manifest's stage ask; a rule naming none asks the default.
    assert rules.providers_for(production, policy, "test") == ["github", "test"]
    assert rules.providers_for(production, policy, None) == ["github"]
    assert rules.providers_for(archived, policy, "test") == []
