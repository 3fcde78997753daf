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
        (b"a: \"x\\e[31m\"\n", "m.yaml:1:4: control or bidi character U+001B"),
        (b"a: \"\xe2\x80\xae\"\n", "m.yaml:1:4: control or bidi character U+202E"),
        (b"\ta: 1\n", "m.yaml:1:1: invalid YAML"),
        (b"a: \"\\ud800\"\n", "m.yaml:1:7: invalid YAML"),
    ],
)
def test_rejections(raw: bytes, expected: str) -> None:
    assert any(p.startswith(expected) for p in problems(raw)), problems(raw)


def test_alias_bomb_is_rejected_without_expansion() -> None:
    lines = [b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [b"a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]" % ((i, i) + (i - 1,) * 9)
              for i in range(1, 10)]
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
    assert found in (["m.yaml:1:65: nesting deeper than 64 levels"],
                     ["m.yaml:1:1001: invalid YAML: exceeded maximum nesting depth"])


def test_size_limit() -> None:
    assert problems(b"a: " + b"x" * MAX_BYTES) == [
        "m.yaml:1:1: file is larger than 1024 KiB; a manifest is metadata"
    ]


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
        (b"a: \"1.10\"", "1.10"),
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
    st.sampled_from([b"a", b":", b" ", b"\n", b"-", b"[", b"]", b"{", b"}", b"&x", b"*x", b"!!", b"<<",
                     b"'", b'"', b"\\", b"#", b"---", b"?", b"|", b">", b"yes", b".nan", b"0x1", b"\t",
                     b"\xff", b"\xef\xbb\xbf", b"\x00", b"1.10", b"~", b"%YAML 1.1"]),
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
