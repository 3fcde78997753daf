"""Policy files: extends, merging, validation with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate.datamodel.policy import PolicyLoader, builtin_names
from modelgate.errors import ConfigError, InputError
from modelgate.git.trees import WorkTree
from tests.conftest import Repo, extending_default, production_fields


def loader(tmp_path: Path) -> PolicyLoader:
    """Policies read from ``tmp_path``, merged by what the built-in checks declare."""

    def read(rel: str) -> bytes:
        path = tmp_path / rel
        if not path.exists():
            raise FileNotFoundError(rel)
        return path.read_bytes()

    from modelgate.pipeline.rules import RuleSet
    from modelgate.plugins import collect_checks, make_plugin_manager

    rules = RuleSet(collect_checks(make_plugin_manager(autoload=False)), (), (), WorkTree(str(tmp_path)))
    return PolicyLoader(read, "worktree", traits=rules.traits)


def test_builtin_default_is_the_seed_lifecycle(tmp_path: Path) -> None:
    policy = loader(tmp_path).load("builtin:default")
    assert policy.stages == ("none", "staging", "production", "archived", "rejected")
    assert policy.transitions == {
        "none": ("staging", "rejected"),
        "staging": ("production", "rejected", "none"),
        "production": ("archived",),
        "archived": ("production",),
        "rejected": ("none",),
    }
    assert policy.exclusive == ("production",)
    assert policy.files[0].source == "builtin"
    assert "default" in builtin_names()


def test_extends_adds_up_requirements_replaces_others_and_adds_the_rest(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text("""\
apiVersion: modelgate/v1
kind: Policy
name: acme
extends: [builtin:default]
match: {names: ["fraud-*"]}
rules:
  - {check: required-fields, stages: [staging, production, archived], with: {fields: [license, description]}}
  - {check: metric-threshold, stages: [production], with: {metric: auc, min: 0.9}}
  - {check: MG303, stages: [production], with: {metric: auc, tolerance: 0.005}}
""")
    policy = loader(tmp_path).load("acme.yaml")
    assert policy.stages[0] == "none"  # inherited
    assert policy.governs("fraud-detector") and not policy.governs("churn")
    rules = [(r.check, r.stages, r.params) for r in policy.rules]
    assert rules == [
        ("data-hash", ("staging", "production", "archived"), {}),
        ("required-metrics", ("staging", "production", "archived"), {"min": 1}),
        ("required-fields", ("production",), {"fields": ["lineage.environment.lockfile"]}),
        ("approvals", ("production",), {"min": 1}),
        # added up: the inherited fields first, then the extending file's new ones
        (
            "required-fields",
            ("staging", "production", "archived"),
            {"fields": ["license", "lineage.code.commit", "lineage.data", "lineage.params", "description"]},
        ),
        ("metric-threshold", ("production",), {"metric": "auc", "min": 0.9}),
        ("MG303", ("production",), {"metric": "auc", "tolerance": 0.005}),  # a tolerance replaces
    ]
    assert [f.path for f in policy.files] == ["builtin:default", "acme.yaml"]
    assert policy.rules[-1].origin == "acme.yaml:9:5"
    assert policy.replacements == (
        "policy acme replaces builtin:default's no-metric-regression at production (acme.yaml:9:5)",
    )


def test_an_extending_required_fields_rule_at_production_keeps_the_lockfile(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(
        extending_default(
            "{check: required-fields, stages: [production], with: {fields: [description]}}",
            "{check: required-metrics, stages: [staging, production, archived], with: {metrics: [auc]}}",
        )
    )
    policy = loader(tmp_path).load("acme.yaml")
    production = [r.params for r in policy.rules if r.check == "required-fields" and r.stages == ("production",)]
    assert production == [{"fields": ["lineage.environment.lockfile", "description"]}]
    assert [r.params for r in policy.rules if r.check == "required-metrics"] == [{"min": 1, "metrics": ["auc"]}]
    assert policy.replacements == ()


def test_requirements_add_up_along_the_whole_chain(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(
        extending_default("{check: required-fields, stages: [production], with: {fields: [description]}}").replace(
            "acme", "team"
        )
    )
    (tmp_path / "acme.yaml").write_text(
        extending_default(
            "{check: required-fields, stages: [production], with: {fields: [tags, description]}}",
            "{check: required-metrics, stages: [staging, production, archived], with: {min: 0}}",
        ).replace("builtin:default", "team.yaml")
    )
    policy = loader(tmp_path).load("acme.yaml")
    assert [r.params for r in policy.rules if r.check == "required-fields" and r.stages == ("production",)] == [
        {"fields": ["lineage.environment.lockfile", "description", "tags"]}
    ]
    assert [r.params for r in policy.rules if r.check == "required-metrics"] == [{"min": 1}]  # the larger


def test_replace_true_replaces_an_inherited_requirement_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(
        extending_default(
            "{check: required-fields, stages: [production], with: {fields: [description]}, replace: true}"
        )
    )
    (tmp_path / "child.yaml").write_text(
        extending_default().replace("acme", "child").replace("builtin:default", "acme.yaml").replace("rules:\n", "")
    )
    for ref in ("acme.yaml", "child.yaml"):  # inherited replacements are named too
        policy = loader(tmp_path).load(ref)
        production = [r.params for r in policy.rules if r.check == "required-fields" and r.stages == ("production",)]
        assert production == [{"fields": ["description"]}]
        assert policy.replacements == (
            "policy acme replaces builtin:default's required-fields at production (acme.yaml:6:5)",
        )


def test_replace_true_with_nothing_to_replace_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(
        extending_default("{check: required-fields, stages: [staging], with: {fields: [description]}, replace: true}")
    )
    with pytest.raises(
        ConfigError,
        match=r"^acme\.yaml:6:5: replace: true, but policy acme inherits no"
        r" required-fields rule at staging to replace",
    ):
        loader(tmp_path).load("acme.yaml")


def test_requirements_of_another_severity_stand_beside_the_inherited_ones(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(
        extending_default(
            "{check: required-fields, stages: [production], severity: warning, with: {fields: [description]}}"
        )
    )
    policy = loader(tmp_path).load("acme.yaml")
    assert [
        (r.severity, r.params) for r in policy.rules if r.check == "required-fields" and r.stages == ("production",)
    ] == [(None, {"fields": ["lineage.environment.lockfile"]}), ("warning", {"fields": ["description"]})]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "apiVersion: modelgate/v1\nkind: Policy\nname: p\nstages: [a, b]\ntransitions: {a: [c]}\n",
            "p.yaml:5:19: transition names stage 'c', which is not in stages ['a', 'b']",
        ),
        (
            "apiVersion: modelgate/v1\nkind: Policy\nname: p\nstages: [a]\nexclusive: [z]\n",
            "p.yaml:5:13: exclusive names stage 'z', which is not in stages ['a']",
        ),
        (
            "apiVersion: modelgate/v1\nkind: Policy\nname: p\nstages: [a]\nrules:\n  - {check: x, stages: [q]}\n",
            "p.yaml:6:5: rule for x names unknown stage 'q'",
        ),
        (
            "apiVersion: modelgate/v1\nkind: Policy\nname: p\nstages: [a]\nwaivers:\n  - {check: x, model: m}\n",
            "p.yaml:6:5: missing required key 'waivers[0].reason'",
        ),
        ("apiVersion: modelgate/v2\nkind: Policy\nname: p\n", "p.yaml:1:1: apiVersion: Input should be 'modelgate/v1'"),
    ],
)
def test_broken_policy_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "p.yaml").write_text(text)
    with pytest.raises(InputError) as info:
        loader(tmp_path).load("p.yaml")
    assert message in [str(p) for p in info.value.problems]


def test_missing_and_cyclic_and_unknown_builtin(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"policy file nope\.yaml not found"):
        loader(tmp_path).load("nope.yaml")
    (tmp_path / "a.yaml").write_text("apiVersion: modelgate/v1\nkind: Policy\nname: a\nextends: [b.yaml]\n")
    (tmp_path / "b.yaml").write_text("apiVersion: modelgate/v1\nkind: Policy\nname: b\nextends: [a.yaml]\n")
    with pytest.raises(ConfigError, match=r"extends itself"):
        loader(tmp_path).load("a.yaml")
    with pytest.raises(ConfigError, match=r"unknown built-in policy builtin:strictest; available: builtin:default"):
        loader(tmp_path).load("builtin:strictest")


def test_rules_in_one_file_never_replace_each_other(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("""\
apiVersion: modelgate/v1
kind: Policy
name: p
extends: [builtin:default]
rules:
  - {check: metric-threshold, stages: [staging], with: {metric: auc, min: 0.9}}
  - {check: metric-threshold, stages: [staging], with: {metric: f1, min: 0.8}}
  - {check: required-metrics, stages: [staging, production, archived], with: {min: 2}}
""")
    rules = [(r.check, r.params) for r in loader(tmp_path).load("p.yaml").rules]
    assert ("metric-threshold", {"metric": "auc", "min": 0.9}) in rules
    assert ("metric-threshold", {"metric": "f1", "min": 0.8}) in rules
    assert ("required-metrics", {"min": 2}) in rules and ("required-metrics", {"min": 1}) not in rules


# -- any shape: loading and validating raises only modelgate's own errors --------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from modelgate.errors import UsageError  # noqa: E402
from modelgate.pipeline.rules import RuleSet  # noqa: E402
from modelgate.plugins import collect_checks, make_plugin_manager  # noqa: E402
from tests.shapes import POLICIES, yaml_text  # noqa: E402

CHECKS = collect_checks(make_plugin_manager(autoload=False))


def _load_and_validate(files: dict[str, bytes]) -> None:
    def read(rel: str) -> bytes:
        if rel not in files:
            raise FileNotFoundError(rel)
        return files[rel]

    rules = RuleSet(CHECKS, (), (), WorkTree("/nonexistent"))
    try:
        policy = PolicyLoader(read, "worktree", traits=rules.traits).load("policy.yaml")
        rules.validate(policy)
        rules.providers_named([policy])
    except (InputError, ConfigError, UsageError) as exc:
        assert str(exc), "an error without a message"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=POLICIES, other=POLICIES)
def test_policy_loader_raises_only_config_errors_for_any_shape(
    data: dict[str, object], other: dict[str, object]
) -> None:
    _load_and_validate({"policy.yaml": yaml_text(data), "other.yaml": yaml_text(other)})


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_policy_loader_raises_only_config_errors_for_any_bytes(raw: bytes) -> None:
    _load_and_validate({"policy.yaml": raw})


# -- end to end: the installed command, a real repository ----------------------------


def _without_lockfile(repo: Repo) -> None:
    fields = production_fields(description="fraud scores")
    del fields["lineage"]["environment"]
    repo.manifest("m", **fields)


def test_an_extending_policy_still_requires_the_lockfile_at_production(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write(
        "policy.yaml",
        extending_default("{check: required-fields, stages: [production], with: {fields: [description, tags]}}"),
    )
    _without_lockfile(repo)
    result = repo.run("check", "--select", "MG201")
    assert result.returncode == 1, result.stdout
    failures = [line.strip() for line in result.stdout.splitlines() if "is required at stage" in line]
    assert failures == [
        "lineage.environment.lockfile is required at stage 'production'",
        "tags is required at stage 'production'",
    ]
    assert "notice:" not in result.stdout


def test_a_replaced_requirement_is_named_in_every_run(repo: Repo) -> None:
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.write(
        "policy.yaml",
        extending_default(
            "{check: required-fields, stages: [production], with: {fields: [description]}, replace: true}"
        ),
    )
    _without_lockfile(repo)
    repo.commit("production without a lockfile, by policy")
    notice = "policy acme replaces builtin:default's required-fields at production (policy.yaml:6:5)"
    result = repo.run("check", "--markdown", "../r.md")
    assert result.returncode == 0, result.stdout
    assert f"notice: {notice}" in result.stdout.splitlines()
    assert (
        "- policy acme replaces builtin:default's required\\-fields at production \\(policy\\.yaml:6:5\\)"
        in (repo.root.parent / "r.md").read_text().splitlines()
    )
    based = repo.run("check", "--base", "main")
    assert f"notice: {notice}" in based.stdout.splitlines()
    promoted = repo.run("promote", "m/modelgate.yaml", "--to", "archived", "--dry-run", "--base", "main")
    assert f"note: {notice}" in promoted.stdout.splitlines()


@pytest.mark.parametrize("name", builtin_names())
def test_each_built_in_policy_and_its_rules_parameters_are_valid_by_pydantic(name: str, tmp_path: Path) -> None:
    """A run builds the built-in policies and their rules' ``with:`` without pydantic
    (``shipped``): this test is where they are validated, and the two paths must agree."""
    from modelgate.datamodel import strictyaml, validation
    from modelgate.datamodel.policy import PolicyFile, _read_builtin
    from modelgate.pipeline.rules import RuleSet
    from modelgate.plugins import collect_checks, make_plugin_manager

    data = strictyaml.parse(_read_builtin(name), f"builtin:{name}").data
    assert validation.pydantic_errors(PolicyFile, data) == []
    assert validation.load(PolicyFile, data, shipped=True) == validation.load(PolicyFile, data)
    rules = RuleSet(collect_checks(make_plugin_manager(autoload=False)), (), (), WorkTree(str(tmp_path)))
    policy = PolicyLoader(lambda rel: b"", "worktree", traits=rules.traits).load(f"builtin:{name}")
    for rule in policy.rules:
        check = rules.find_check(rule.check)
        assert check is not None, rule
        if check.params is not None:
            assert validation.pydantic_errors(check.params, rule.params) == [], rule
            assert rules.params(check, rule) == validation.load(check.params, rule.params), rule


def test_only_the_packages_own_policies_skip_validation(tmp_path: Path) -> None:
    """The same text as a file of the repository is validated: an error with file:line."""
    from modelgate.datamodel.policy import _read_builtin, is_builtin

    (tmp_path / "default.yaml").write_bytes(
        _read_builtin("default").replace(b"exclusive: [production]", b"exclusive: 7")
    )
    with pytest.raises(InputError) as raised:
        loader(tmp_path).load("default.yaml")
    assert str(raised.value).startswith("default.yaml:"), raised.value
    assert is_builtin("builtin:default:12:5") and not is_builtin("default.yaml:12:5")
