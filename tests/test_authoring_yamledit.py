"""Round-trip editing: only the edited values change; comments, order, quoting, style stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate.authoring.yamledit import Edit, EditError, apply, edit_file, emit, render
from modelgate.datamodel.strictyaml import parse
from modelgate.errors import InputError

ORIGINAL = """\
# fraud-detector 1.4.0  (a comment that must survive)
apiVersion: modelgate/v1
kind: Model
name: fraud-detector
version: "1.4.0"          # quoted on purpose
stage: staging            # promoted by PR #12
owners: ["@acme/fraud", 'ana@acme.io']
artifacts:
  # the weights
  - path: model.onnx
    sha256: 9f2c5ac4e80d305c9f2c5ac4e80d305c9f2c5ac4e80d305c9f2c5ac4e80d305c   # old
    size: 10
lineage:
  environment: {python: "3.11",
    lockfile: {path: requirements.lock, sha256: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}}
"""
NEW_HASH = "1" * 63 + "a"


def test_edits_change_only_the_values_and_keep_comments_and_layout() -> None:
    edited = apply(
        ORIGINAL,
        [
            Edit(("stage",), "production"),
            Edit(("artifacts", 0, "sha256"), NEW_HASH),
            Edit(("artifacts", 0, "size"), 12345),
            Edit(("lineage", "environment", "lockfile", "sha256"), "b" * 64),
        ],
        "m.yaml",
    )
    assert edited == ORIGINAL.replace("stage: staging ", "stage: production ").replace(
        "9f2c5ac4e80d305c9f2c5ac4e80d305c9f2c5ac4e80d305c9f2c5ac4e80d305c", NEW_HASH
    ).replace("size: 10", "size: 12345").replace("'" + "a" * 64 + "'", "'" + "b" * 64 + "'")
    assert "# promoted by PR #12" in edited and "# the weights" in edited and "# old" in edited


def test_a_missing_key_is_added_beside_its_siblings() -> None:
    text = "a: {b: 1}\nc:\n  d: 2  # keep\nlast: x"
    assert apply(text, [Edit(("a", "e"), "s"), Edit(("c", "f"), 3), Edit(("g",), "h")], "f") == (
        "a: {b: 1, e: s}\nc:\n  d: 2  # keep\n  f: 3\nlast: x\ng: h"
    )


def test_json_style_files_stay_json_style() -> None:
    text = '{\n  "stage": "none",\n  "artifacts": [\n    {\n      "path": "m.bin",\n      "size": 3\n    }\n  ]\n}\n'
    edited = apply(text, [Edit(("stage",), "staging"), Edit(("artifacts", 0, "sha256"), "0" * 64)], "f")
    assert edited == text.replace('"none"', '"staging"').replace('"size": 3', '"size": 3, "sha256": "' + "0" * 64 + '"')


def test_values_that_would_read_back_differently_are_quoted() -> None:
    assert render("1" * 64) == '"' + "1" * 64 + '"'  # plain, it would be an integer
    assert render("12e45") == '"12e45"'  # a float
    assert render("yes") == '"yes"'
    assert render("production") == "production"
    assert render("it's", "'") == "'it''s'"
    assert apply("v: 1.0.0\n", [Edit(("v",), "1.10")], "f") == 'v: "1.10"\n'


def test_bom_and_crlf_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "modelgate.yaml"
    path.write_bytes(b"\xef\xbb\xbfstage: none\r\nsize: 1\r\n")
    edits = [Edit(("stage",), "staging"), Edit(("extra",), 2)]
    assert edit_file(str(path), edits, "modelgate.yaml", root=str(tmp_path))
    assert path.read_bytes() == b"\xef\xbb\xbfstage: staging\r\nsize: 1\r\nextra: 2\r\n"
    assert not edit_file(str(path), [Edit(("stage",), "staging")], "modelgate.yaml", root=str(tmp_path))


def test_hostile_yaml_is_not_edited(tmp_path: Path) -> None:
    path = tmp_path / "modelgate.yaml"
    path.write_text("owners: &o [a]\nstage: none\ntags: {copy: *o}\n")
    with pytest.raises(InputError, match="anchor"):
        edit_file(str(path), [Edit(("stage",), "staging")], "modelgate.yaml", root=str(tmp_path))
    assert path.read_text().startswith("owners: &o")


def test_editing_a_mapping_or_a_missing_parent_is_refused() -> None:
    with pytest.raises(EditError, match=r"f:1: artifacts is a list"):
        apply("artifacts: [1]\n", [Edit(("artifacts",), "x")], "f")
    with pytest.raises(EditError, match=r"lineage is not there"):
        apply("a: 1\n", [Edit(("lineage", "code", "commit"), "x")], "f")


def test_emit_writes_yaml_the_strict_loader_reads_back() -> None:
    data = {
        "name": "m",
        "version": "1.10",
        "owners": ["@a/b"],
        "flag": "no",
        "artifacts": [{"path": "m.bin", "sha256": "1" * 64, "size": 3}],
        "lineage": {"params": {"train": {"lr": 0.05, "n": 400}, "seed": 1e-3}},
        "signature": {"inputs": [{"name": "x", "type": "float32", "shape": [-1, 4]}]},
    }
    text = emit(data, "header line")
    assert text.startswith('# header line\nname: m\nversion: "1.10"\n')
    assert '  - path: m.bin\n    sha256: "' in text
    assert parse(text.encode(), "t").data == data
