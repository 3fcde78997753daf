"""The mutation command's module list is the one SECURITY.md cites, and its parts agree.

Cheap: nothing is mutated here (``python -m tests.mutation`` does that, docs/mutation.md)."""

from __future__ import annotations

import json
import re
import tomllib

from tests import mutation
from tests.conftest import REPO


def security_md_modules() -> dict[str, str]:
    """Module -> score cell of the table in SECURITY.md's "Mutation testing" section."""
    text = (REPO / "SECURITY.md").read_text()
    section = text.split("## Mutation testing", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\|[^|]*\| `(modelgate/[\w/]+\.py)` \|([^|]*)\|", section, re.M))


def test_the_mutated_modules_are_the_ones_security_md_cites() -> None:
    configured = mutation.load_config()["modules"]
    assert list(security_md_modules()) == list(configured)


def test_every_module_and_test_file_named_exists() -> None:
    for module, spec in mutation.load_config()["modules"].items():
        assert (REPO / module).is_file(), module
        assert spec["tests"], module
        for test in spec["tests"]:
            assert (REPO / test).is_file(), f"{module}: {test}"


def test_every_stated_reason_names_a_mutated_module() -> None:
    modules = set(mutation.load_config()["modules"])
    with (REPO / "tests" / "mutation_survivors.toml").open("rb") as f:
        entries = tomllib.load(f)["equivalent"]
    for entry in entries:
        assert entry["module"] in modules, entry
        assert entry["reason"].strip() and entry["before"] != entry["after"], entry


def test_a_survivor_is_keyed_by_its_line_before_and_after() -> None:
    diff = (
        "--- a/modelgate/x.py\n+++ b/modelgate/x.py\n@@ -10,7 +10,7 @@\n a\n b\n c\n"
        "-    if count == 0:\n+    if count == 1:\n d\n"
    )
    assert mutation.changed_lines(diff) == (13, "if count == 0:", "if count == 1:")


def test_annotations_python_never_evaluates_are_not_mutated() -> None:
    source = (
        "from __future__ import annotations\ndef f(a: int | None) -> str | None: ...\nclass C:\n    x: int | None\n"
    )
    spans = mutation.unevaluated_annotations(source)
    assert ((2, 9), (2, 19)) in spans and ((2, 24), (2, 34)) in spans
    assert not any(start[0] == 4 for start, _ in spans)  # a class field: pydantic reads it
    assert mutation.unevaluated_annotations(source.split("\n", 1)[1]) == []


def test_only_the_sufficient_operator_pairs_are_kept() -> None:
    assert mutation.kept_operator("core/ReplaceComparisonOperator_Lt_LtE")
    assert not mutation.kept_operator("core/ReplaceComparisonOperator_Lt_Is")
    assert mutation.kept_operator("core/ReplaceBinaryOperator_Add_Sub")
    assert not mutation.kept_operator("core/ReplaceBinaryOperator_Add_Pow")
    assert mutation.kept_operator("core/NumberReplacer") and mutation.kept_operator("core/ExceptionReplacer")


def test_no_surviving_mutant_lacks_a_reason_and_security_md_shows_the_latest_scores() -> None:
    """The committed results (docs/mutation-results.json, from the latest run of each module):
    every survivor is explained, and SECURITY.md's score cells are the ones they give."""
    results = json.loads(mutation.RESULTS.read_text())
    assert set(results) == set(mutation.load_config()["modules"])  # every module has been run
    reasons = mutation.load_reasons()
    unexplained = [
        (module, s["line"], s["after"])
        for module, r in results.items()
        for s in r["survivors"]
        if mutation.reason_for(module, s, reasons) is None
    ]
    assert unexplained == []
    cells = security_md_modules()
    for module, r in results.items():
        assert cells[module].strip().split(" ")[0] == mutation.score(module, r, reasons), module
