"""Questions asked of a manifest's bytes before parsing: a "no" must never be wrong.

The property behind :mod:`modelgate.datamodel.textscan`: whatever way YAML writes a string,
if the strict loader reads it from the bytes, the bytes "may hold" it. Hypothesis writes
documents every way PyYAML can (plain, quoted, literal and folded blocks, flow style, long
lines folded, escapes, unicode) and checks the answer for every string the loader reads.
"""

from __future__ import annotations

import posixpath
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelgate.datamodel import strictyaml, textscan
from modelgate.errors import InputError

SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
# Names as manifests have them, and strings of anything (paths with spaces, quotes,
# backslashes, non-ASCII, line breaks).
names = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)
texts = st.one_of(
    names,
    st.text(alphabet=SAFE + "/ '\"\\:#,[]{}\n\t\u00e9\u2028.", min_size=1, max_size=30),
    st.lists(st.sampled_from(["data", "..", ".", "", "x y", "a.b", "w\u00e9"]), min_size=1, max_size=5).map("/".join),
)
documents = st.recursive(
    texts,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=12,
).map(lambda body: {"name": "m", "body": body})
styles = st.fixed_dictionaries(
    {
        "default_style": st.sampled_from([None, '"', "'", "|", ">"]),
        "default_flow_style": st.sampled_from([None, True, False]),
        "width": st.sampled_from([10, 20, 80, 1000]),
        "allow_unicode": st.booleans(),
    }
)


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def read(data: Any, style: dict[str, Any]) -> tuple[bytes, Any] | None:
    raw = yaml.safe_dump(data, **style).encode()
    try:
        return raw, strictyaml.parse(raw, "m.yaml").data
    except InputError:
        return None  # not a document the strict loader reads: nothing to answer for


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, styles)
def test_every_string_the_loader_reads_is_one_the_bytes_may_hold(data: dict[str, Any], style: dict[str, Any]) -> None:
    found = read(data, style)
    if found is None:
        return
    raw, parsed = found
    values = strings(parsed)
    for value in values:
        assert textscan.may_hold(raw, value), (raw, value)
        # What a search of many documents at once looks for: one of the needles is there.
        needles = textscan.needles(value)
        assert needles is None or any(needle in raw for needle in needles), (raw, value)
    assert textscan.Values(values).held(raw) == set(values)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, styles)
def test_every_path_the_loader_reads_is_one_the_bytes_may_write(data: dict[str, Any], style: dict[str, Any]) -> None:
    found = read(data, style)
    if found is None:
        return
    raw, parsed = found
    for value in strings(parsed):
        if not value or value.startswith("/"):
            continue  # empty, or absolute: never read as a repository path
        parts = value.split("/")
        normal = posixpath.normpath(value)
        if ".." in parts or normal == ".":
            assert textscan.climbs(raw), (raw, value)  # reaches a folder the text need not name
            continue
        components = normal.split("/")
        for component in components:
            assert textscan.may_write_component(raw, component, ending=False), (raw, value, component)
        # The path ends at its last component: a data folder above a changed file.
        assert textscan.may_write_component(raw, components[-1], ending=True), (raw, value)


def test_answers_by_example() -> None:
    raw = b'name: fraud-detector\nversion: "1.4.0"\nartifacts:\n  - {path: ../common/model.bin}\nuri: data/\n'
    assert textscan.may_hold(raw, "fraud-detector") and textscan.may_hold(raw, "1.4.0")
    assert not textscan.may_hold(raw, "fraud") and not textscan.may_hold(raw, "detector")
    assert textscan.Values(["fraud-detector", "fraud", "1.4"]).held(raw) == {"fraud-detector"}
    assert textscan.may_write_component(raw, "model.bin", ending=False)
    assert textscan.may_write_component(raw, "common", ending=False)
    assert not textscan.may_write_component(raw, "common", ending=True)  # a path goes on below it
    assert textscan.may_write_component(raw, "data", ending=True)  # "data/" ends there
    assert textscan.climbs(raw)  # "../"
    assert not textscan.climbs(b"a: b.c\nv: .5\nw: x/y.\n")
    assert all(textscan.climbs(t) for t in (b"uri: .\n", b"u: ./\n", b"u: [x, './.']\n", b"."))
    # A backslash may write anything: every question is answered yes.
    assert textscan.may_hold(b'name: "fr\\x61ud"\n', "fraud")
    assert textscan.may_write_component(b'p: "a\\u002fb"\n', "zzz", ending=True)


def test_needles_are_the_longest_safe_run_and_a_backslash() -> None:
    assert textscan.needles("fraud-detector") == (b"\\", b"fraud-detector")
    assert textscan.needles("my model/v2") == (b"\\", b"model")
    assert textscan.needles("/ ?") is None  # nothing safe in it: every document may hold it


def test_the_name_guess_is_only_a_guess() -> None:
    assert textscan.guess_name(b"kind: Model\nname: fraud-detector  # the model\n") == "fraud-detector"
    assert textscan.guess_name(b"name: 'quoted'\n") == "quoted"
    # In a flow mapping or a multi-line quoted scalar, a "name:" line is not the model's
    # name: the guess can be wrong, which is why nothing but the shard a manifest goes to
    # follows from it.
    assert textscan.guess_name(b"tags: {a: b,\nname: decoy\n}\nname: real\n") is None
    assert textscan.guess_name(b'"name": real\ndescription: "x\nname: decoy"\n') == "decoy"
    assert textscan.guess_name(b"{name: flow}\n") is None


_LINES = st.sampled_from(
    [b"name: a", b"name: b-1", b"name: 'q'", b"name:x", b"name: A", b" name: c", b"xname: d", b"name: e # c", b""]
)


@given(st.lists(_LINES, max_size=6), st.sampled_from([b"\n", b"\r\n"]), st.booleans())
def test_the_name_guess_is_the_one_name_line_at_a_line_start(lines: list[bytes], end: bytes, last: bool) -> None:
    """The fast guess answers as the pattern would, tried at every line start."""
    raw = end.join(lines) + (end if last else b"")
    found = textscan._NAME_LINE.findall(raw)
    assert textscan.guess_name(raw) == (found[0].decode("ascii") if len(found) == 1 else None)
