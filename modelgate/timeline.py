"""A model's stage and version timeline from git history (``modelgate history NAME``).

Answers "which version was in production on date X, and who promoted it": every commit
that added a version, moved it between stages, or deleted its manifest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from modelgate.base import History

NEW, DELETED = "(new)", "(deleted)"


@dataclass(frozen=True)
class Step:
    commit: str
    date: str  # UTC, ISO 8601
    author: str
    version: str
    from_stage: str
    to_stage: str
    path: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def steps(history: History, name: str) -> list[Step]:
    """Stage changes of ``name``'s versions, oldest first."""
    at_path: dict[str, tuple[str, str]] = {}  # path -> (version, stage) of `name` there now
    stage_of: dict[str, str] = {}  # version -> stage
    found: list[Step] = []
    for event in history.events:
        when = dt.datetime.fromtimestamp(event.timestamp, dt.UTC).isoformat().replace("+00:00", "Z")
        previous = at_path.pop(event.path, None)
        model = event.model
        if model is None or model.name != name:
            if previous is not None and previous[0] not in {v for v, _ in at_path.values()}:
                version, stage = previous
                found.append(Step(event.commit, when, event.author, version, stage, DELETED, event.path))
                stage_of.pop(version, None)
            continue
        at_path[event.path] = (model.version, model.stage)
        before = stage_of.get(model.version, NEW)
        if before != model.stage:
            found.append(Step(event.commit, when, event.author, model.version, before, model.stage, event.path))
        stage_of[model.version] = model.stage
    return found


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
