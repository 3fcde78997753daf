"""What a run begins before its checks ask (modelgate/pipeline/ahead.py): large files are
hashed ahead in parallel, small ones where their check asks. (Approvals asked ahead:
tests/test_pipeline_session.py; a check's declared digests of data files:
tests/test_checks_lineage.py.)"""

from __future__ import annotations

import os

import pytest

from modelgate.hashing.digest import Hasher
from modelgate.pipeline import ahead
from tests.conftest import Repo, check_in_process


def test_large_files_are_hashed_ahead_small_ones_where_asked(
    repo: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    real = Hasher.prefetch

    def prefetch(self: Hasher, paths: object) -> None:
        listed = list(paths)  # type: ignore[call-overload]
        asked.extend(os.path.relpath(p, repo.root) for p in listed)
        real(self, listed)

    monkeypatch.setattr(Hasher, "prefetch", prefetch)
    repo.manifest("models/big", name="big", artifact_bytes=b"x" * ahead.AHEAD_BYTES)
    repo.manifest("models/small", name="small", artifact_bytes=b"small")
    assert check_in_process(repo, "--no-cache", capsys=capsys).code == 0
    assert asked == ["models/big/model.bin"]  # the small one is hashed where its check asks, as fast
