"""MG010 schema: declarative rules as an extra JSON Schema in the policy."""

from __future__ import annotations

import pytest

from tests.conftest import Repo, check_in_process, extending_default

COST_CENTER = "{schema: {required: [tags], properties: {tags: {required: [cost_center]}}}}"


def policy(repo: Repo, with_: str) -> None:
    repo.write("policy.yaml", extending_default(f"{{check: schema, with: {with_}}}"))
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")


def test_inline_schema_requires_a_tag(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    policy(repo, COST_CENTER)
    repo.manifest("m", tags={"team": "fraud"})
    report = check_in_process(repo, capsys=capsys)
    assert report.code == 1
    result = report.result("MG010")
    assert result["message"] == "tags.cost_center is required by the policy's schema"
    text = (repo.root / "m" / "modelgate.yaml").read_text().splitlines()
    assert text[result["location"]["line"] - 1].strip().startswith('"tags"')
    repo.manifest("m", tags={"team": "fraud", "cost_center": "42"})
    assert check_in_process(repo, capsys=capsys).outcomes("MG010") == ["passed"]


def test_schema_from_a_file_and_custom_message(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("policies/prod.schema.json", '{"properties": {"license": {"enum": ["Apache-2.0", "proprietary"]}}}')
    policy(repo, "{file: policies/prod.schema.json, message: 'license must be approved by legal'}")
    repo.manifest("m", license="GPL-3.0-only")
    assert check_in_process(repo, capsys=capsys).messages("MG010") == ["license must be approved by legal"]
    repo.manifest("m", license="proprietary")
    assert check_in_process(repo, capsys=capsys).code == 0


@pytest.mark.parametrize(
    ("with_", "error"),
    [
        ("{}", "give exactly one of `schema` (inline) or `file`"),
        ("{schema: {type: 12}}", "is not a valid JSON Schema"),
        ("{file: nope.json}", "schema file nope.json not found"),
    ],
)
def test_broken_schema_rule_is_a_configuration_error(repo: Repo, with_: str, error: str) -> None:
    policy(repo, with_)
    repo.manifest("m")
    proc = repo.run("check")
    assert proc.returncode == 4
    assert error in proc.stderr
