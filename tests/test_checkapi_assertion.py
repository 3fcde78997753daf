"""Assert-style checks fail with pytest-quality explanations, pointing at the YAML line."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from modelgate.checkapi.assertion import explain
from tests import assertion_samples as samples
from tests.conftest import Repo, production_fields


def failure_of(func: Any, *args: Any) -> tuple[str, Any]:
    try:
        func(*args)
    except AssertionError as exc:
        return explain(exc, func)
    raise AssertionError("did not fail")


MANIFEST = SimpleNamespace(metrics={"auc": SimpleNamespace(value=0.93)}, tags={"team": "fraud"}, stage="production")


def test_source_line_and_values() -> None:
    message, at = failure_of(samples.threshold_check, MANIFEST)
    assert message == (
        'assert manifest.metrics["auc"].value >= threshold'
        '  (where manifest.metrics["auc"].value = 0.93, threshold = 0.95)'
    )
    assert at == ("metrics", "auc", "value")


def test_multi_line_assert_and_no_calls_evaluated() -> None:
    samples.calls.clear()
    message, at = failure_of(samples.multi_line_check, MANIFEST)
    assert message == (
        "assert (\"cost_center\" in manifest.tags and expensive() > 1)  (where manifest.tags = {'team': 'fraud'})"
    )
    assert at == ("tags",)
    assert samples.calls == []  # `and` short-circuited, and explaining never calls anything


def test_message_wins() -> None:
    assert failure_of(samples.message_check, MANIFEST) == ("only staging models here", ("stage",))


def test_local_check_failure_end_to_end(repo: Repo) -> None:
    repo.write(
        "governance/checks.py",
        '''\
import modelgate

@modelgate.check("ACME002", name="pickle-banned", stages=["production"])
def pickle_banned(manifest):
    """No pickle files in production: unpickling runs arbitrary code."""
    for artifact in manifest.artifacts:
        assert not artifact.path.endswith((".pkl", ".pickle"))
    assert manifest.metrics["auc"].value >= 0.95
''',
    )
    repo.write(".modelgate.yaml", "plugins: [governance/checks.py]\n")
    repo.manifest("m", **production_fields())
    proc = repo.run("check")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    at = lines.index("ACME002 pickle-banned (failed) · fraud-detector@1.0.0")
    location = lines[at + 1].strip()
    manifest = (repo.root / "m" / "modelgate.yaml").read_text().splitlines()
    line = int(location.split(":")[1])
    assert manifest[line - 2].strip() == '"auc": {' and manifest[line - 1].strip() == '"value": 0.93,'
    assert lines[at + 2] == (
        '  assert manifest.metrics["auc"].value >= 0.95  (where manifest.metrics["auc"].value = 0.93)'
    )
