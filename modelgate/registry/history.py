"""A model's stage and version timeline from git history (``modelgate history NAME``).

Answers "which version was in production on date X, who promoted it and who approved
it": every commit that added a version, moved it between stages, or deleted its manifest,
along the first-parent line of the ref read (what that branch itself went through: a
merged pull request is one step, its intermediate commits are not promotions of the
branch), and for each step the approvers git or a signed audit note can prove
(:mod:`modelgate.registry.trail`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from dataclasses import asdict, field
from typing import TYPE_CHECKING, Any

from modelgate.datamodel.records import record
from modelgate.pipeline.base import Event, History

if TYPE_CHECKING:
    from modelgate.registry.trail import Approver, Trail, Unverified

NEW, DELETED = "(new)", "(deleted)"


@record
class Step:
    commit: str  # on the first-parent line of the ref read: a merge commit for a merged pull request
    date: str  # UTC, ISO 8601
    author: str
    version: str
    from_stage: str
    to_stage: str
    path: str
    approvers: tuple[Approver, ...] = field(default=())  # who approved it, where it can be proven
    unverified: tuple[Unverified, ...] = field(default=())  # approval evidence that did not verify

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def with_approvers(found: list[Step], trail: Trail, name: str) -> list[Step]:
    """``found`` with each promotion's approvers (see :mod:`modelgate.registry.trail`)."""
    out = []
    for step in found:
        if step.to_stage != DELETED:
            approvers, unverified = trail.approvers(step.commit, f"{name}@{step.version}", step.to_stage)
            step = dataclasses.replace(step, approvers=tuple(approvers), unverified=tuple(unverified))
        out.append(step)
    return out


def steps(history: History, name: str) -> list[Step]:
    """Stage changes of ``name``'s versions, oldest first."""
    at_path: dict[str, tuple[str, str]] = {}  # path -> (version, stage) of `name` there now
    stage_of: dict[str, str] = {}  # version -> stage
    found: list[Step] = []
    for commit, group in itertools.groupby(history.events, key=lambda e: e.commit):
        events = list(group)
        # A whole commit at once: a rename is a deletion and an addition in one commit, and
        # a version is gone only if no path holds it once the commit is applied.
        left: list[tuple[str, Event]] = []
        for event in events:
            previous = at_path.pop(event.path, None)
            if _ours(event, name):
                assert event.model is not None
                at_path[event.path] = (event.model.version, event.model.stage)
            if previous is not None:
                left.append((previous[0], event))
        when = dt.datetime.fromtimestamp(events[0].timestamp, dt.UTC).isoformat().replace("+00:00", "Z")
        author = events[0].author
        for event in events:
            model = event.model
            if model is not None and _ours(event, name):
                before = stage_of.get(model.version, NEW)
                if before != model.stage:
                    found.append(Step(commit, when, author, model.version, before, model.stage, event.path))
                stage_of[model.version] = model.stage
        live = {version for version, _ in at_path.values()}
        for version, event in left:
            if version not in live and version in stage_of:
                found.append(Step(commit, when, author, version, stage_of.pop(version), DELETED, event.path))
    return found


def names(history: History) -> list[str]:
    """Every model name the history holds, sorted."""
    return sorted({e.model.name for e in history.events if e.model is not None})


def _ours(event: Event, name: str) -> bool:
    return event.model is not None and event.model.name == name


def state_on(found: list[Step], date: str) -> dict[str, str]:
    """version -> stage as of the end of ``date`` (YYYY-MM-DD)."""
    state: dict[str, str] = {}
    for step in found:
        if step.date[:10] > date:
            break
        if step.to_stage == DELETED:
            state.pop(step.version, None)
        else:
            state[step.version] = step.to_stage
    return state
