"""SECURITY.md names a test for each guarantee; every named test must exist."""

from __future__ import annotations

import re

from tests.conftest import REPO


def test_every_test_named_in_security_md_exists() -> None:
    text = (REPO / "SECURITY.md").read_text()
    named: list[tuple[str, str]] = []
    current = None
    for match in re.finditer(r"`(tests/[\w/]+\.py)?::(\w+)(?:\[[^\]]*\])?`|`(tests/[\w/]+\.py)`", text):
        if match.group(1):
            current = match.group(1)
        if match.group(3):
            continue
        assert current is not None, match.group(0)
        named.append((current, match.group(2)))
    assert len(named) >= 15
    for path, name in named:
        source = (REPO / path).read_text()
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name} named in SECURITY.md does not exist"
