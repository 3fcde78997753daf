"""Which manifests a run collects (modelgate/pipeline/collection.py): --shard K/N checks every
manifest in exactly one shard."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Repo


@pytest.mark.parametrize("n", [1, 3, 4])
def test_shards_cover_every_manifest_exactly_once(repo: Repo, n: int) -> None:
    for index in range(17):
        repo.manifest(f"models/m{index:02d}", name=f"model-{index:02d}")
    seen: list[str] = []
    for k in range(1, n + 1):
        proc = repo.run("check", "--shard", f"{k}/{n}", "--json", "r.json")
        assert proc.returncode == 0, proc.stdout + proc.stderr  # an empty shard is nothing to gate
        seen += [m["path"] for m in json.loads((repo.root / "r.json").read_text())["manifests"]]
    assert sorted(seen) == sorted(f"models/m{i:02d}/modelgate.yaml" for i in range(17))


@pytest.mark.parametrize("bad", ["0/3", "4/3", "1/0", "a/b", "1"])
def test_bad_shard_is_a_usage_error(repo: Repo, bad: str) -> None:
    repo.manifest("m")
    proc = repo.run("check", "--shard", bad)
    assert proc.returncode == 4
    assert "use K/N with 1 <= K <= N" in proc.stderr
