"""Files replaced atomically: all or nothing, permissions kept, no temporary file left."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TextIO

import pytest

from modelgate import atomicfile


def test_a_new_file_is_readable_by_others_and_an_old_one_keeps_its_mode(tmp_path: Path) -> None:
    new = tmp_path / "report.json"
    atomicfile.replace(str(new), lambda s: s.write("{}\r\n"))
    assert new.read_bytes() == b"{}\r\n"  # no newline translation
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    old = tmp_path / "modelgate.yaml"
    old.write_text("x")
    os.chmod(old, 0o600)
    atomicfile.replace(str(old), lambda s: s.write("\ufeffy"))
    assert old.read_bytes() == b"\xef\xbb\xbfy"
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_a_failure_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")

    def half(stream: TextIO) -> None:
        stream.write("half a rep")
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        atomicfile.replace(str(path), half)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["report.json"]


def test_an_unwritable_folder_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        atomicfile.replace(str(tmp_path / "missing" / "report.json"), lambda s: s.write("x"))
