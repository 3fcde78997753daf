"""The strict YAML loader: every rejection comes with line and column."""

from __future__ import annotations

import pytest

from modelgate.datamodel.strictyaml import MAX_BYTES, parse
from modelgate.errors import InputError


def problems(raw: bytes) -> list[str]:
    with pytest.raises(InputError) as info:
        parse(raw, "m.yaml")
    return [str(p) for p in info.value.problems]


def test_plain_document_with_locations() -> None:
    doc = parse(b"a: 1\nb:\n  - x\n  - {c: true}\n", "m.yaml")
    assert doc.data == {"a": 1, "b": ["x", {"c": True}]}
    assert doc.location(("b", 1, "c")) == (4, 6)
    assert doc.location(("b", 7)) == (2, 1)  # nearest known ancestor


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a: &x 1\n", "m.yaml:1:4: anchor &x is not allowed"),
        (b"a: [1]\nb: *x\n", "m.yaml:2:4: alias *x is not allowed"),
        (b"a: 1\na: 2\n", "m.yaml:2:1: duplicate key 'a'"),
        (b"<<: {a: 1}\n", "m.yaml:1:1: merge key '<<' is not allowed"),
        (b"a: !!binary aGk=\n", "m.yaml:1:4: tag tag:yaml.org,2002:binary is not allowed"),
        (b"a: !custom x\n", "m.yaml:1:4: tag !custom is not allowed"),
        (b"a: 1\n---\na: 2\n", "m.yaml:2:1: more than one YAML document"),
        (b"", "m.yaml:1:1: empty file"),
        (b"a: \xff\n", "m.yaml:1:4: invalid UTF-8"),
        (b"a: .inf\n", "m.yaml:1:4: non-finite number '.inf'"),
        (b"a: -.Inf\n", "m.yaml:1:4: non-finite number '-.Inf'"),
        (b"a: 1e999\n", "m.yaml:1:4: number '1e999' is out of range"),
        (b"a: " + b"9" * 5000 + b"\n", "m.yaml:1:4: integer with more than 19 digits"),
        (b"a: NO\n", "m.yaml:1:4: ambiguous value 'NO'"),
        (b"a: on\n", "m.yaml:1:4: ambiguous value 'on'"),
        (b"a: 0x1F\n", "m.yaml:1:4: ambiguous number '0x1F'"),
        (b"a: 017\n", "m.yaml:1:4: ambiguous number '017'"),
        (b"a: 1_000\n", "m.yaml:1:4: ambiguous number '1_000'"),
        (b"a: 1:30\n", "m.yaml:1:4: ambiguous number '1:30'"),
        (b"? [a]\n: 1\n", "m.yaml:1:3: complex mapping key"),
        (b'a: "x\\e[31m"\n', "m.yaml:1:4: control or bidi character U+001B"),
        (b'a: "\xe2\x80\xae"\n', "m.yaml:1:4: control or bidi character U+202E"),
        # In a key too: a key names a field, and a hidden character would fake one.
        (b'"a\xe2\x80\xaeb": 1\n', "m.yaml:1:1: control or bidi character U+202E"),
        (b'"a\\x01b": 1\n', "m.yaml:1:1: control or bidi character U+0001"),
        (b"\ta: 1\n", "m.yaml:1:1: invalid YAML"),
        (b'a: "\\ud800"\n', "m.yaml:1:7: invalid YAML"),
    ],
)
def test_rejections(raw: bytes, expected: str) -> None:
    assert any(p.startswith(expected) for p in problems(raw)), problems(raw)


def test_alias_bomb_is_rejected_without_expansion() -> None:
    lines = [b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        b"a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]" % ((i, i) + (i - 1,) * 9)
        for i in range(1, 10)
    ]
    found = problems(b"\n".join(lines) + b"\n")
    assert found[0].startswith("m.yaml:1:5: anchor &a0 is not allowed")
    assert len(found) < 200


def test_deep_nesting_stops_at_the_limit() -> None:
    found = problems(b"[" * 100)
    assert found == ["m.yaml:1:65: nesting deeper than 64 levels"]


def test_very_deep_nesting_is_one_problem_not_a_crash() -> None:
    # libyaml in PyYAML >= 6.0.4 stops at depth 1000 while scanning ahead, before the
    # events reach our limit; either way the input is refused at the first line.
    found = problems(b"[" * 100_000)
    assert found in (
        ["m.yaml:1:65: nesting deeper than 64 levels"],
        ["m.yaml:1:1001: invalid YAML: exceeded maximum nesting depth"],
    )


def test_size_limit() -> None:
    assert problems(b"a: " + b"x" * MAX_BYTES) == ["m.yaml:1:1: file is larger than 1024 KiB; a manifest is metadata"]


def test_every_problem_is_collected() -> None:
    found = problems(b"a: yes\nb: &x 1\nc: .nan\nc: 2\n")
    assert [p.split(": ")[0] for p in found] == ["m.yaml:1:4", "m.yaml:2:4", "m.yaml:3:4", "m.yaml:4:1"]


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"a: true", True),
        (b"a: ~", None),
        (b"a: null", None),
        (b"a: 2026-10-01", "2026-10-01"),
        (b"a: 1.5e3", 1500.0),
        (b"a: -0", 0),
        (b"a: 'yes'", "yes"),
        (b'a: "1.10"', "1.10"),
        (b"a: 1.4.0", "1.4.0"),
        (b"\xef\xbb\xbfa: 1", 1),
    ],
)
def test_accepted_scalars(raw: bytes, value: object) -> None:
    assert parse(raw, "m.yaml").data == {"a": value}


def test_version_literal_keeps_source_text() -> None:
    assert parse(b"version: 1.10\n", "m.yaml").literals[("version",)] == "1.10"


# -- properties ---------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

YAMLISH = st.lists(
    st.sampled_from(
        [
            b"a",
            b":",
            b" ",
            b"\n",
            b"-",
            b"[",
            b"]",
            b"{",
            b"}",
            b"&x",
            b"*x",
            b"!!",
            b"<<",
            b"'",
            b'"',
            b"\\",
            b"#",
            b"---",
            b"?",
            b"|",
            b">",
            b"yes",
            b".nan",
            b"0x1",
            b"\t",
            b"\xff",
            b"\xef\xbb\xbf",
            b"\x00",
            b"1.10",
            b"~",
            b"%YAML 1.1",
        ]
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), YAMLISH))
def test_loader_raises_only_input_error(raw: bytes) -> None:
    try:
        doc = parse(raw, "m.yaml")
    except InputError as exc:
        assert exc.problems and all(p.line >= 1 and p.column >= 1 for p in exc.problems)
        return
    assert doc.path == "m.yaml"


# -- exact limits and positions --------------------------------------------------------

import os  # noqa: E402
from pathlib import Path  # noqa: E402

from modelgate.datamodel.strictyaml import read_limited  # noqa: E402


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Depth counts every level, whatever holds it: a value, a merge key's value, a key.
        (b"a: " + b"[" * 100, ["m.yaml:1:67: nesting deeper than 64 levels"]),
        (
            b"<<: " + b"[" * 100,
            [
                "m.yaml:1:1: merge key '<<' is not allowed; write the keys out",
                "m.yaml:1:68: nesting deeper than 64 levels",
            ],
        ),
        (
            b"? " + b"[" * 100,
            [
                "m.yaml:1:3: complex mapping key; keys must be plain strings",
                "m.yaml:1:66: nesting deeper than 64 levels",
            ],
        ),
        (b"\na: 1\nb: \x07\n", ["m.yaml:3:4: invalid YAML: control characters are not allowed"]),
        (b"\nb: \x07\n", ["m.yaml:2:4: invalid YAML: control characters are not allowed"]),  # newline at 0
        (b"\na: \xff", ["m.yaml:2:4: invalid UTF-8; save the file as UTF-8"]),
        (b"a: 1\nb: x\xff\n", ["m.yaml:2:5: invalid UTF-8; save the file as UTF-8"]),
        (b"&k a: 1\n", ["m.yaml:1:1: anchors and tags are not allowed on keys"]),
        (b"!t a: 1\n", ["m.yaml:1:1: anchors and tags are not allowed on keys"]),
        (b"a: 1" + b"0" * 19 + b"\n", ["m.yaml:1:4: integer with more than 19 digits is not allowed"]),
        (b"a: 1." + b"0" * 63 + b"\n", ["m.yaml:1:4: number literal longer than 64 characters is not allowed"]),
    ],
)
def test_exact_problems(raw: bytes, expected: list[str]) -> None:
    assert problems(raw) == expected


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"a: " + b"9" * 19, int("9" * 19)),  # 19 digits: the most allowed
        (b"a: -" + b"9" * 19, -int("9" * 19)),
        (b"a: 1." + b"0" * 62, 1.0),  # 64 characters: the longest number literal allowed
    ],
)
def test_limits_are_inclusive(raw: bytes, value: object) -> None:
    assert parse(raw, "m.yaml").data == {"a": value}


def test_exactly_max_bytes_is_accepted() -> None:
    raw = b"a: " + b"x" * (MAX_BYTES - 4) + b"\n"
    assert len(raw) == MAX_BYTES and parse(raw, "m.yaml").data == {"a": "x" * (MAX_BYTES - 4)}


def test_a_partial_document_comes_with_scalar_problems_not_with_parse_errors() -> None:
    """What did parse is given back for schema checks, unless libyaml gave up midway."""
    with pytest.raises(InputError) as scalar:
        parse(b"<<: {a: 1}\nb: yes\nc: 2\n", "m.yaml")
    assert scalar.value.partial is not None and scalar.value.partial.data == {"b": None, "c": 2}
    with pytest.raises(InputError) as broken:
        parse(b"a: 1\nb: [2\n", "m.yaml")
    assert broken.value.partial is None


def test_a_key_path_without_a_position_falls_back_to_its_nearest_ancestor() -> None:
    doc = parse(b"\n\n  a: {b: 1}\n", "m.yaml")
    assert doc.location(("a", "b")) == (3, 7)
    assert doc.location(("a", "zz")) == (3, 3)
    assert doc.location(("zz",)) == (3, 3)  # the document's own mapping, not line 1
    assert parse(b"hello\n", "m.yaml").location(("zz",)) == (1, 1)  # nothing located at all


def test_read_limited_reads_whole_files_up_to_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(b"x" * 10)
    assert read_limited(path, "m.yaml", limit=10) == b"x" * 10
    path.write_bytes(b"x" * 11)
    with pytest.raises(InputError) as caught:
        read_limited(path, "m.yaml", limit=10)
    assert [str(p) for p in caught.value.problems] == ["m.yaml:1:1: file is larger than 0 KiB; a manifest is metadata"]
    big = os.urandom(3 << 20)[: (2 << 20) + 5]  # several reads of 1 MiB
    path.write_bytes(big)
    assert read_limited(path, "m.yaml", limit=len(big)) == big


@pytest.mark.parametrize("kind", ["fifo", "folder", "missing"])
def test_read_limited_refuses_what_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "m.yaml"
    if kind == "fifo":
        os.mkfifo(path)  # opened non-blocking: no writer, and still no hang
    elif kind == "folder":
        path.mkdir()
    with pytest.raises(InputError) as caught:
        read_limited(path, "m.yaml")
    expected = (
        "m.yaml:1:1: cannot read: No such file or directory"
        if kind == "missing"
        else ("m.yaml:1:1: not a regular file")
    )
    assert [str(p) for p in caught.value.problems] == [expected]


def test_forgotten_data_and_positions_are_made_again_from_the_bytes() -> None:
    doc = parse(b"a: 1\nb:\n  - x\n  - {c: 1.10}\n", "m.yaml")
    data, where, literal = doc.data, doc.location(("b", 1, "c")), doc.literals[("b", 1, "c")]
    doc.forget()
    assert doc._kept == {}  # let go of: a large run keeps thousands of these
    assert (doc.data, doc.location(("b", 1, "c")), doc.literals[("b", 1, "c")]) == (data, where, literal)
    assert data == {"a": 1, "b": ["x", {"c": 1.1}]} and (where, literal) == ((4, 6), "1.10")


def test_the_deepest_nesting_allowed_is_located_too() -> None:
    """Positions are made by a second pass, which counts depth as the first did."""
    from modelgate.datamodel.strictyaml import MAX_DEPTH

    brackets = MAX_DEPTH - 2  # the document's mapping and "a"'s value are two levels
    raw = b"a: " + b"[" * brackets + b"1" + b"]" * brackets + b"\n"
    doc = parse(raw, "m.yaml")
    assert doc.location(("a", *[0] * brackets)) == (1, 4 + brackets)
    assert problems(b"a: " + b"[" * (brackets + 1) + b"1" + b"]" * (brackets + 1) + b"\n") == [
        f"m.yaml:1:{4 + brackets + 1}: nesting deeper than {MAX_DEPTH} levels"
    ]
    raw = b"a: " + b"{b: " * brackets + b"1" + b"}" * brackets + b"\n"
    doc = parse(raw, "m.yaml")
    assert doc.location(("a", *["b"] * brackets)) == (1, 1 + 4 * brackets)  # the deepest key


def test_only_the_keys_asked_for_are_read_the_rest_still_parsed_as_yaml() -> None:
    raw = b"name: m\nmetrics: {auc: yes, nested: [{a: 1}, [2, 3]]}\nversion: 1.10\nlater: x\n"
    doc = parse(raw, "m.yaml", frozenset(("name", "later")))
    assert doc.data == {"name": "m", "metrics": None, "version": None, "later": "x"}
    # What is passed over is not checked (yes, a YAML 1.1 boolean) ...
    with pytest.raises(InputError, match="ambiguous value 'yes'"):
        parse(raw, "m.yaml")
    # ... but it must still be YAML, and a key may still appear once.
    with pytest.raises(InputError, match="invalid YAML"):
        parse(b"name: m\nmetrics: {auc: [1, 2}\n", "m.yaml", frozenset(("name",)))
    with pytest.raises(InputError, match="duplicate key 'metrics'"):
        parse(b"name: m\nmetrics: 1\nmetrics: 2\n", "m.yaml", frozenset(("name",)))
    # Only top-level keys are passed over: a nested key named like one unread is read.
    assert parse(b"name: {metrics: 2}\n", "m.yaml", frozenset(("name",))).data == {"name": {"metrics": 2}}
