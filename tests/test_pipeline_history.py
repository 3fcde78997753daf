"""History: which of a history's blobs may hold the (name, version) pairs asked about."""

from __future__ import annotations

import random

import pytest

from modelgate.pipeline import history


def _manifest(name: str, version: str, extra: str = "") -> bytes:
    return (
        f"apiVersion: modelgate/v1\nkind: Model\nname: {name}\nversion: '{version}'\nstage: staging\n"
        f"artifacts:\n  - {{path: m.bin, sha256: {'0' * 64}, size: 1}}\n"
        f"lineage: {{environment: {{python: '3.11', requires: [numpy==1.26.4]}}}}\n{extra}"
    ).encode()


@pytest.mark.parametrize("versions", [2, 8, 40])
def test_looking_for_versions_first_or_for_names_first_finds_the_same_blobs(
    versions: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Few versions are searched for one by one, many through the document's words: the
    two ways answer alike, for blobs that hold a pair, its name or version alone, a name
    inside a longer word, or an escape."""
    rng = random.Random(versions)
    names = [f"model-{i}" for i in range(30)]
    numbers = [f"{1 + i // 10}.{i % 10}.0" for i in range(versions)]
    pairs = {(rng.choice(names), rng.choice(numbers)) for _ in range(40)}
    blobs = [_manifest(rng.choice(names), rng.choice(numbers)) for _ in range(300)]
    blobs += [
        _manifest("other", "9.9.9", "tags: [model-1x, 1.0.0-rc]\n"),
        _manifest("oth\\x65r", "9.9.9"),
        _manifest("model-0", "1.0.0+build"),
    ]
    pairs.add(("model-0", "1.0.0+build"))
    monkeypatch.setattr(history, "_FEW", 10**6)
    first = [history._holding(pairs)(raw) for raw in blobs]
    monkeypatch.setattr(history, "_FEW", 0)
    words = [history._holding(pairs)(raw) for raw in blobs]
    assert first == words
    assert any(first) and not all(first)
    assert first[-3:] == [False, True, True]
