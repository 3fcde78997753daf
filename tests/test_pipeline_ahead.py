"""What a run begins before its checks ask (modelgate/pipeline/ahead.py): large files are
hashed ahead in parallel, small ones where their check asks. (Approvals asked ahead:
tests/test_pipeline_session.py; a check's declared digests of data files:
tests/test_checks_lineage.py.)"""

from __future__ import annotations

import pytest

from modelgate.pipeline import ahead
from tests.conftest import Repo, check_in_process, prefetched


def test_large_files_are_hashed_ahead_small_ones_where_asked(
    repo: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = prefetched(repo, monkeypatch)
    repo.manifest("models/big", name="big", artifact_bytes=b"x" * ahead.AHEAD_BYTES)
    repo.manifest("models/small", name="small", artifact_bytes=b"small")
    assert check_in_process(repo, "--no-cache", capsys=capsys).code == 0
    assert asked == ["models/big/model.bin"]  # the small one is hashed where its check asks, as fast
