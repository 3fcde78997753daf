"""Where a run happens: in CI or not, and what the CI event says the change is compared with.

One test decides "is this CI" for everything that differs there (approvals that cannot be
verified fail, no hash cache, the base must be known): ``--ci``/``--no-ci``, else ``CI``
or ``GITHUB_ACTIONS``.

On GitHub Actions the event payload (``GITHUB_EVENT_PATH``) says what the checkout is and
what it is compared with; ``GITHUB_BASE_REF`` exists only for two of the events that check
a change under review, so it is not used. The payload is read strictly: a payload that is
not JSON, has another shape, or names a base that is not a full commit id stops the run
(exit 4) rather than fall back to judging the change by its own configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from modelgate.datamodel.records import record
from modelgate.errors import UsageError

MAX_EVENT_BYTES = 32 << 20
# SHA-1 or SHA-256. Used with fullmatch: `$` would let a trailing newline through.
COMMIT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,254}")
# Events whose checkout is a change under review: it is judged against its base, or not at all.
PULL_REQUEST_EVENTS = frozenset(
    {"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"}
)
MERGE_QUEUE_EVENT = "merge_group"
UNDER_REVIEW = PULL_REQUEST_EVENTS | {MERGE_QUEUE_EVENT}
# Events that run on a branch as it stands: there the checkout is the trusted tree.
AS_IT_STANDS = frozenset({"schedule", "workflow_dispatch"})


NONE = "none"  # `--base none`: no base, the checkout is checked as it stands


def named_base(flag: str | None, env: Mapping[str, str]) -> str | None:
    """The base the command line names (``--base``), else ``MODELGATE_BASE``; None when
    neither does. :data:`NONE` is such a name: it names no base."""
    return flag or env.get("MODELGATE_BASE") or None


def in_ci(flag: bool | None, env: Mapping[str, str]) -> bool:
    """``--ci``/``--no-ci`` when given, else whether ``CI`` or ``GITHUB_ACTIONS`` says so."""
    if flag is not None:
        return flag
    return env.get("CI", "").lower() in ("true", "1") or env.get("GITHUB_ACTIONS") == "true"


@record
class EventBase:
    """What a CI event says the checkout is compared with."""

    event: str
    base: str | None  # a full commit id; None: the branch is checked as it stands
    under_review: bool  # the checkout is a change under review (it must have a base)
    branch: str | None = None  # the branch the change lands on, when the event says
    head: str | None = None  # the commit the event is about, when it says (merge queues, pushes)


def event_name(env: Mapping[str, str]) -> str | None:
    """The GitHub Actions event this run is for; None without event information."""
    name = env.get("GITHUB_EVENT_NAME", "")
    if not name and env.get("GITHUB_EVENT_PATH"):
        raise UsageError(
            "GITHUB_EVENT_PATH is set but GITHUB_EVENT_NAME is not: which event this run is for cannot be told"
        )
    return name or None


def read_event(env: Mapping[str, str]) -> dict[str, Any]:
    """The event payload GitHub Actions wrote to ``GITHUB_EVENT_PATH``: a JSON object, or exit 4."""
    import json  # here: only CI runs read a payload

    path = env.get("GITHUB_EVENT_PATH", "")
    if not path:
        raise UsageError(
            f"GITHUB_EVENT_PATH is not set: the {env.get('GITHUB_EVENT_NAME') or 'CI'} event's"
            " payload is needed to know what this run checks"
        )
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_EVENT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"GITHUB_EVENT_PATH {path}: cannot read the event payload ({exc.strerror})") from None
    if len(raw) > MAX_EVENT_BYTES:
        raise UsageError(f"GITHUB_EVENT_PATH {path}: the event payload is over {MAX_EVENT_BYTES >> 20} MiB")
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"GITHUB_EVENT_PATH {path}: not a JSON event payload ({exc})") from None
    if not isinstance(event, dict):
        raise UsageError(f"GITHUB_EVENT_PATH {path}: the event payload is not a JSON object")
    return event


def event_base(env: Mapping[str, str]) -> EventBase | None:
    """The base the CI event names; None when there is no event information at all.

    ``pull_request.base.sha`` for pull-request and review events, ``merge_group.base_sha``
    for merge queues, ``before`` for pushes (all zeros: the push made the branch, which is
    then checked as it stands, like a scheduled run). Exit 4 when an event that checks a
    change under review does not say its base, and for events whose checkout this cannot
    tell (``workflow_run``, ``issue_comment``...): the workflow names the base then.
    """
    name = event_name(env)
    if name is None:
        return None
    if name in AS_IT_STANDS:
        return EventBase(name, None, under_review=False)
    event = read_event(env)
    where = f"the {name} event payload ({env.get('GITHUB_EVENT_PATH')})"
    if name in PULL_REQUEST_EVENTS:
        return EventBase(
            name,
            _commit(event, where, "pull_request", "base", "sha"),
            under_review=True,
            branch=_branch(_dig(event, "pull_request", "base", "ref")),
        )
    if name == MERGE_QUEUE_EVENT:
        return EventBase(
            name,
            _commit(event, where, "merge_group", "base_sha"),
            under_review=True,
            branch=_branch(_dig(event, "merge_group", "base_ref")),
            head=_commit(event, where, "merge_group", "head_sha"),
        )
    if name == "push":
        if event.get("deleted") is True:
            raise UsageError(f"{where}: the push deletes {str(event.get('ref'))[:200]!r}; there is nothing to check")
        before = _commit(event, where, "before")
        after = _commit(event, where, "after")
        branch = _branch(event.get("ref"))
        if set(before) == {"0"}:
            # The push created the branch (or tag): no earlier state of it to compare with.
            return EventBase(name, None, under_review=False, branch=branch, head=after)
        return EventBase(name, before, under_review=False, branch=branch, head=after)
    raise UsageError(
        f"the {name} event does not say what this checkout is compared with; pass --base REF"
        " (the Action's `base` input), or --base none to check the checkout as it stands"
    )


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _commit(event: dict[str, Any], where: str, *keys: str) -> str:
    value = _dig(event, *keys)
    field = ".".join(keys)
    if value is None:
        raise UsageError(f"{where} has no {field}: the base cannot be determined; pass --base REF")
    if not isinstance(value, str) or not COMMIT.fullmatch(value):
        shown = repr(value)[:100]
        raise UsageError(f"{where}: {field} {shown} is not a full commit id (40 or 64 lowercase hex digits)")
    return value


def _branch(ref: Any) -> str | None:
    """``main`` from ``main`` or ``refs/heads/main``; None for a tag or anything odd."""
    if not isinstance(ref, str):
        return None
    if ref.startswith("refs/"):
        if not ref.startswith("refs/heads/"):
            return None
        ref = ref.removeprefix("refs/heads/")
    return ref if _BRANCH.fullmatch(ref) and ".." not in ref else None
