"""A manifest's state in the history (modelgate/datamodel/snapshot.py): read strictly, for
what the rules about change compare."""

from __future__ import annotations

from modelgate.datamodel import snapshot
from modelgate.errors import Problem


def test_a_history_snapshot_keeps_dvcs_md5_and_refuses_a_malformed_one() -> None:
    """version-immutable compares past states by their snapshots: new DVC bytes under an old
    sha256 differ only in md5, so a snapshot must carry it (and read it strictly)."""
    head = (
        "apiVersion: modelgate/v1\nkind: Model\nname: churn\nversion: 1.0.0\nstage: staging\n"
        "artifacts:\n  - {path: model.pkl, sha256: " + "a" * 64 + ", size: 3"
    )
    kept = snapshot.snapshot((head + ", md5: " + "b" * 32 + "}\n").encode(), "m.yaml")
    assert isinstance(kept, snapshot.Snapshot) and kept.artifacts[0].md5 == "b" * 32
    plain = snapshot.snapshot((head + "}\n").encode(), "m.yaml")
    assert isinstance(plain, snapshot.Snapshot) and plain.artifacts[0].md5 is None
    wrong = snapshot.snapshot((head + ", md5: B}\n").encode(), "m.yaml")
    assert isinstance(wrong, Problem)
    assert wrong.message == "artifacts[0].md5 is not an md5 (32 lowercase hex characters)"


def test_a_history_snapshot_reads_its_fields_strictly_and_passes_over_the_rest() -> None:
    """An old state is read for what the rules about change compare; a field they do not
    read is parsed as YAML and passed over, as an older release may have written it."""
    head = "apiVersion: modelgate/v1\nkind: Model\nname: churn\nversion: 1.0.0\nstage: staging\n"
    pinned = "artifacts:\n  - {path: model.pkl, sha256: " + "a" * 64 + ", size: 3}\n"
    kept = snapshot.snapshot((head + pinned + "metrics: {auc: yes}\nlineage: {code: {commit: 1_0}}\n").encode(), "m")
    assert isinstance(kept, snapshot.Snapshot) and kept.ref == "churn@1.0.0"
    refused = snapshot.snapshot((head + pinned.replace("size: 3", "size: 0x3")).encode(), "m")
    assert isinstance(refused, Problem) and "ambiguous number '0x3'" in refused.message
    broken = snapshot.snapshot((head + pinned + "metrics: {auc: [1}\n").encode(), "m")
    assert isinstance(broken, Problem) and broken.message.startswith("invalid YAML")
