"""Verified approvals: who approved promoting which model version, and the evidence.

An approval written into a manifest proves nothing (its author wrote it). Approvals come
from a provider behind the ``modelgate_collect_approvals`` hook, selected in config
(``approvals: {provider: signed-commits}``). Providers report what they accepted and what
they rejected, and why; the ``approvals`` check counts the accepted ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelgate.gitrepo import GitRepo
    from modelgate.trees import Tree

# "Approved-by: fraud-detector@1.4.0 -> production" as a commit trailer.
TRAILER = re.compile(r"^Approved-by:\s*([a-z0-9][a-z0-9._-]{0,127})@(\S+)\s*->\s*([a-z][a-z0-9_-]{0,63})\s*$", re.M)


@dataclass(frozen=True)
class ApprovalRequest:
    """What a provider needs to find the approvals of this change."""

    provider: str
    settings: Mapping[str, Any]
    git: GitRepo | None
    merge_base: str | None
    head: str | None
    tree: Tree  # the trusted tree (base commit): allowed signers, CODEOWNERS
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Approval:
    who: str
    model: str  # name@version
    stage: str
    when: str  # ISO 8601, UTC
    provider: str
    evidence: str  # "commit <sha> signed with <fingerprint>", "review <id> on <sha>"


@dataclass(frozen=True)
class Rejection:
    who: str
    model: str
    stage: str
    reason: str
    evidence: str


@dataclass(frozen=True)
class Approvals:
    """A provider's answer: accepted approvals, rejected ones with the reason, and the
    authors of the change (who may not approve it)."""

    provider: str
    accepted: tuple[Approval, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    change_authors: tuple[str, ...] = ()
    error: str | None = None  # the provider could not verify anything (fail closed)
