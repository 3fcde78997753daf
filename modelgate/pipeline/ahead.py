"""What a run begins before its checks ask for it: the approvals of the manifests a change
adds or edits, asked on threads of their own, and the large files the checks will hash,
hashed in parallel. Git, the web and the other core answer while the checks run."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import ManifestDoc
    from modelgate.datamodel.policy import Policy
    from modelgate.pipeline.context import Context
    from modelgate.pipeline.rules import RuleSet

AHEAD_BYTES = 1 << 20  # files of at least this size are hashed ahead, in parallel


def ask_approvals(
    rules: RuleSet,
    context: Context,
    docs: list[ManifestDoc],
    base_docs: list[ManifestDoc | None],
    policies: list[Policy],
) -> None:
    """Begin asking, each on a thread of its own, the approvals providers that rules ask
    about the manifests this change adds or edits (``docs``, beside their ``base_docs``). A
    manifest the base holds byte for byte asks none (the approvals rule passes it unasked),
    so a shard or a run without such a change asks nothing."""
    for doc, base_doc in zip(docs, base_docs, strict=True):
        if doc.model is None or (base_doc is not None and base_doc.sha256 == doc.sha256):
            continue
        policy = rules.governing(doc.model.name, policies)
        for name in rules.providers_for(doc, policy, context.approvals_provider):
            context.approvals_ahead(name)


def hash_files(rules: RuleSet, context: Context, docs: list[ManifestDoc], policies: list[Policy]) -> None:
    """Hash, in parallel and before any check runs, the files of every manifest whose
    checks take digests of them (check metadata ``digests`` of ``digests_of``): each file
    once, for every digest its checks take (md5 too where the manifest records one).
    Only files of at least :data:`AHEAD_BYTES` go to the pool: a small file is hashed
    faster where a check asks for it than handed to a thread (hashing 200 files of a few
    KB ahead cost 25-90 ms of a 0.8 s run)."""
    wanted: list[str] = []
    for doc in docs:
        if doc.model is None:
            continue
        policy = rules.governing(doc.model.name, policies)
        kinds: dict[str, bool] = {}  # which files -> whether a check takes every one's md5
        for check, _ in rules.for_doc(doc, policy, removed=False):
            for kind in check.digests_of if check.digests else ():
                kinds[kind] = kinds.get(kind, False) or "md5" in check.digests
        for kind, md5 in kinds.items():
            files = context.files(doc, kind)
            wanted.extend(files)
            context.hasher.md5_paths.update(path for path, recorded in files.items() if recorded or md5)
    large = [path for path in wanted if _size(path) >= AHEAD_BYTES]
    if large:
        context.hasher.prefetch(large)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return AHEAD_BYTES  # hashing it will record why it cannot be read, in the pool as before
