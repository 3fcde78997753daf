"""Policy files: extends, merging, validation with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate.datamodel.policy import PolicyLoader, builtin_names
from modelgate.errors import ConfigError, InputError


def loader(tmp_path: Path) -> PolicyLoader:
    def read(rel: str) -> bytes:
        path = tmp_path / rel
        if not path.exists():
            raise FileNotFoundError(rel)
        return path.read_bytes()

    return PolicyLoader(read, "worktree")


def test_builtin_default_is_the_seed_lifecycle(tmp_path: Path) -> None:
    policy = loader(tmp_path).load("builtin:default")
    assert policy.stages == ("none", "staging", "production", "archived", "rejected")
    assert policy.transitions == {
        "none": ("staging", "rejected"), "staging": ("production", "rejected", "none"),
        "production": ("archived",), "archived": ("production",), "rejected": ("none",),
    }
    assert policy.exclusive == ("production",)
    assert policy.files[0].source == "builtin"
    assert "default" in builtin_names()


def test_extends_overrides_same_check_and_stages_and_adds_others(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text("""\
apiVersion: modelgate/v1
kind: Policy
name: acme
extends: [builtin:default]
match: {names: ["fraud-*"]}
rules:
  - {check: required-fields, stages: [staging, production, archived], with: {fields: [license]}}
  - {check: metric-threshold, stages: [production], with: {metric: auc, min: 0.9}}
""")
    policy = loader(tmp_path).load("acme.yaml")
    assert policy.stages[0] == "none"  # inherited
    assert policy.governs("fraud-detector") and not policy.governs("churn")
    rules = [(r.check, r.stages, r.params) for r in policy.rules]
    assert rules == [
        ("data-hash", ("staging", "production", "archived"), {}),
        ("required-metrics", ("staging", "production", "archived"), {"min": 1}),
        ("required-fields", ("production",), {"fields": ["lineage.environment.lockfile"]}),
        ("no-metric-regression", ("production",), {"tolerance": 0}),
        ("approvals", ("production",), {"min": 1}),
        ("required-fields", ("staging", "production", "archived"), {"fields": ["license"]}),
        ("metric-threshold", ("production",), {"metric": "auc", "min": 0.9}),
    ]
    assert [f.path for f in policy.files] == ["builtin:default", "acme.yaml"]
    assert policy.rules[-1].origin == "acme.yaml:8:5"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: modelgate/v1\nkind: Policy\nname: p\nstages: [a, b]\ntransitions: {a: [c]}\n",
         "p.yaml:5:19: transition names stage 'c', which is not in stages ['a', 'b']"),
        ("apiVersion: modelgate/v1\nkind: Policy\nname: p\nstages: [a]\nexclusive: [z]\n",
         "p.yaml:5:13: exclusive names stage 'z', which is not in stages ['a']"),
        ("apiVersion: modelgate/v1\nkind: Policy\nname: p\nstages: [a]\nrules:\n  - {check: x, stages: [q]}\n",
         "p.yaml:6:5: rule for x names unknown stage 'q'"),
        ("apiVersion: modelgate/v1\nkind: Policy\nname: p\nstages: [a]\nwaivers:\n  - {check: x, model: m}\n",
         "p.yaml:6:5: missing required key 'waivers[0].reason'"),
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
from modelgate.git.trees import WorkTree  # noqa: E402
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
        policy = PolicyLoader(read, "worktree").load("policy.yaml")
        rules.validate(policy)
        rules.providers_named([policy])
    except (InputError, ConfigError, UsageError) as exc:
        assert str(exc), "an error without a message"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=POLICIES, other=POLICIES)
def test_policy_loader_raises_only_config_errors_for_any_shape(data: dict[str, object],
                                                               other: dict[str, object]) -> None:
    _load_and_validate({"policy.yaml": yaml_text(data), "other.yaml": yaml_text(other)})


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_policy_loader_raises_only_config_errors_for_any_bytes(raw: bytes) -> None:
    _load_and_validate({"policy.yaml": raw})
