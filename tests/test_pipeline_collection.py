"""Which manifests a run collects (modelgate/pipeline/collection.py): --shard K/N checks every
manifest in exactly one shard."""

from __future__ import annotations

import json

import pytest
import yaml

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


def test_shards_hold_as_many_manifests_as_each_other(repo: Repo) -> None:
    """Names are dealt out, not hashed apart: 20 models and one with three versions over 4
    shards are 6, 6, 6 and 5 manifests, the three versions in one shard."""
    written = [repo.manifest(f"models/m{index:02d}", name=f"model-{index:02d}") for index in range(20)]
    written += [repo.manifest(f"models/big/{v}", name="big", version=v) for v in ("1.0.0", "1.1.0", "2.0.0")]
    for path in written:  # as people write them: a `name:` line, which is what shards go by
        path.write_text(yaml.safe_dump(json.loads(path.read_text()), sort_keys=False))
    held: dict[int, list[str]] = {}
    for k in range(1, 5):
        proc = repo.run("check", "--shard", f"{k}/4", "--json", "r.json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        held[k] = [m["path"] for m in json.loads((repo.root / "r.json").read_text())["manifests"]]
    assert sorted(len(paths) for paths in held.values()) == [5, 6, 6, 6]
    [big] = [k for k, paths in held.items() if "models/big/1.0.0/modelgate.yaml" in paths]
    assert {f"models/big/{v}/modelgate.yaml" for v in ("1.0.0", "1.1.0", "2.0.0")} <= set(held[big])


@pytest.mark.parametrize("bad", ["0/3", "4/3", "1/0", "a/b", "1"])
def test_bad_shard_is_a_usage_error(repo: Repo, bad: str) -> None:
    repo.manifest("m")
    proc = repo.run("check", "--shard", bad)
    assert proc.returncode == 4
    assert "use K/N with 1 <= K <= N" in proc.stderr


def test_a_manifest_the_change_edits_weighs_more_in_the_deal(repo: Repo) -> None:
    """A manifest the change adds or edits is compared with its base and its history and
    asks the approvals provider: its shard holds fewer others. One edited among 24 over 4
    shards holds that shard alone; without a base the same tree is dealt by counts."""
    written = [repo.manifest(f"models/m{index:02d}", name=f"model-{index:02d}") for index in range(24)]
    for path in written:
        path.write_text(yaml.safe_dump(json.loads(path.read_text()), sort_keys=False))
    repo.commit("registry")
    repo.git("checkout", "-q", "-b", "change")
    edited = yaml.safe_load(written[5].read_text()) | {"owners": ["@acme/risk"]}
    written[5].write_text(yaml.safe_dump(edited, sort_keys=False))
    repo.commit("model-05 changes hands")

    def deal(*base: str) -> list[list[str]]:
        held = []
        for k in range(1, 5):
            proc = repo.run("check", *base, "--shard", f"{k}/4", "--json", "../r.json")
            assert proc.returncode == 0, proc.stdout + proc.stderr
            held.append([m["path"] for m in json.loads((repo.root.parent / "r.json").read_text())["manifests"]])
        assert sorted(path for paths in held for path in paths) == sorted(
            f"models/m{i:02d}/modelgate.yaml" for i in range(24)
        )
        return held

    weighed = deal("--base", "main")
    assert sorted(len(paths) for paths in weighed) == [1, 7, 8, 8]
    assert ["models/m05/modelgate.yaml"] in weighed
    assert sorted(len(paths) for paths in deal("--base", "none")) == [6, 6, 6, 6]
