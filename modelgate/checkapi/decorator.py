"""What a check is, and how one is written.

A check is a plain function decorated with :func:`check`. It asks for what it needs by
parameter name, like a pytest fixture: ``manifest``, ``doc``, ``base_manifest``,
``context``, ``policy`` and ``params`` (the rule's ``with:``). It passes by returning (a
string it returns, also from a generator, says how it passed), and fails by ``assert``, by
raising :class:`Fail`, or by yielding several :class:`Fail` (or plain strings). Raising
:class:`Skip` skips it. The docstring is its ``explain`` text.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import field
from typing import Any, Literal

from modelgate.datamodel.records import record

Severity = Literal["error", "warning"]
Scope = Literal["manifest", "removed", "after"]
# How a later stage's rule of this check is previewed on a manifest that has not reached
# that stage yet (see pipeline/readiness.py): "evaluate" runs it on the manifest as if it
# stood there; "change" skips it (it judges the stage move or the change itself, which
# only the promotion makes); "ci" names it as verified in CI (it needs what only CI has).
Readiness = Literal["evaluate", "change", "ci"]

ARGUMENTS = ("manifest", "doc", "base_manifest", "base_doc", "context", "policy", "params", "results", "audit")
_ID = re.compile(r"^[A-Z][A-Z0-9]{1,15}[0-9]{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,63}$")


class Fail(Exception):
    """A finding: the check failed, ``at`` a dotted key path of the manifest.

    ``line``/``column`` give the position directly, for findings that are not about a key
    (a YAML syntax error, say). ``severity="warning"`` makes this one finding a warning
    (a deadline coming near, say) where the check's others are errors; a finding cannot
    raise its severity above the rule's.
    """

    def __init__(
        self,
        message: str,
        at: str | None = None,
        hint: str | None = None,
        *,
        line: int | None = None,
        column: int | None = None,
        severity: Severity | None = None,
    ) -> None:
        super().__init__(message)
        if severity not in (None, "error", "warning"):
            raise ValueError(f"severity must be 'error' or 'warning', not {severity!r}")
        self.message = message
        self.at = at
        self.hint = hint
        self.position = (line, column or 1) if line is not None else None
        self.severity: Severity | None = severity


class Skip(Exception):
    """The check does not apply here; the message says why.

    ``reason`` is a machine-readable slug for code that acts on skips (``promote`` lists the
    ``verified-in-ci`` ones as what only CI can verify); see :data:`SKIP_REASONS`.
    """

    def __init__(self, message: str = "", *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


# The skip reasons modelgate's own checks give; a plugin may use these or its own slugs.
SKIP_REASONS = {
    "verified-in-ci": "only CI can verify this (approvals need the provider a workflow has)",
    "verified-on-pull-request": "verified by the pull request's required check (merge queue, push to the default"
    " branch)",
    "no-base": "a change rule needs a base to compare with (--base REF, or the pull request's base)",
}


@record
class Check:
    """A registered check. ``plugin`` is filled in when the plugin manager collects it."""

    id: str
    name: str
    func: Callable[..., Any] = field(repr=False, compare=False)
    stages: tuple[str, ...] | None = None
    severity: Severity = "error"
    needs_rule: bool = False
    required: bool = False
    waivable: bool = True
    hint: str | None = None
    params: Any = None  # the class of the rule's ``with:`` (pydantic model or Strict dataclass), or None
    scope: Scope = "manifest"
    argnames: tuple[str, ...] = ()  # what the function asks for, read once at declaration
    digests: tuple[str, ...] = ()  # digests it takes of each artifact ("sha256", "md5"): hashed ahead, in one read
    digests_of: tuple[str, ...] = ("artifacts",)  # which of the manifest's files: artifacts, data, lockfile
    provider_param: str | None = None  # the params field that names an approvals provider
    adds_up: tuple[str, ...] = ()  # ``with:`` keys whose requirements add up across ``extends``
    readiness: Readiness = "evaluate"  # how a later stage's rule is previewed (see Readiness)
    help_uri: str | None = None  # where the check is documented (SARIF's helpUri)
    plugin: str = ""

    @property
    def explain(self) -> str:
        return inspect.cleandoc(self.func.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.explain.split("\n\n")[0].replace("\n", " ")

    def matches(self, selector: str) -> bool:
        """``--select``/``--ignore`` match an id prefix (``MG3``) or a name."""
        return self.id.startswith(selector.upper()) or self.name == selector.lower()


def check(
    id: str,
    *,
    name: str,
    stages: list[str] | tuple[str, ...] | None = None,
    severity: Severity = "error",
    needs_rule: bool = False,
    required: bool = False,
    waivable: bool = True,
    hint: str | None = None,
    params: Any = None,
    scope: Scope = "manifest",
    digests: list[str] | tuple[str, ...] = (),
    provider_param: str | None = None,
    digests_of: list[str] | tuple[str, ...] = ("artifacts",),
    adds_up: list[str] | tuple[str, ...] = (),
    readiness: Readiness = "evaluate",
    help_uri: str | None = None,
) -> Callable[[Callable[..., Any]], Check]:
    """Declare a check.

    ``stages``: where it runs when no policy rule names it (None: every stage).
    ``needs_rule``: runs only where a policy rule names it (it needs the rule's ``with:``).
    ``required``: always runs, even when deselected (e.g. manifest validity; fail closed).
    ``waivable``: whether a policy waiver may turn its failure into ``waived``.
    ``params``: the class of the rule's ``with:``, a pydantic model or a frozen dataclass
    deriving from :class:`modelgate.datamodel.validation.Strict`; a rule that does not validate is a
    configuration error (exit 4), and the check receives the instance as ``params``.
    ``scope``: ``"manifest"`` runs once per manifest; ``"removed"`` runs once per manifest that
    existed at the base and is gone (it gets ``base_manifest``/``base_doc``, no ``manifest``);
    ``"after"`` runs once per manifest after all the others, and may ask for their ``results``.
    ``digests``: the digests the check takes of each artifact of the manifest (``"sha256"``,
    ``"md5"``); before any check runs, the session hashes those artifacts in parallel, every
    digest asked for from one read of each file, and ``context.digest`` answers from that.
    ``digests_of``: which of the manifest's files those are: ``"artifacts"`` (the default),
    ``"data"`` (``lineage.data`` entries whose uri is a path in the repository and that
    record a digest), ``"lockfile"``. A file whose entry records an ``md5`` is hashed for
    its md5 too.
    ``provider_param``: the field of ``params`` that names an approvals provider; a rule naming
    a provider that no plugin implements is then a configuration error (exit 4).
    ``adds_up``: the keys of the rule's ``with:`` that list requirements: when a policy
    ``extends`` another, its rule for this check at the same stages adds to the inherited
    rule instead of replacing it (lists are joined, numbers, minimums, take the larger),
    unless the rule says ``replace: true``.
    ``readiness``: how a rule of this check at a stage the manifest has not reached yet is
    previewed (the readiness notices): ``"evaluate"`` runs it on the manifest as if it stood
    at that stage; ``"change"`` leaves it out (it judges the stage move or the change, which
    only the promotion makes: transitions, immutability, version bumps, exclusive stages);
    ``"ci"`` lists it as verified in CI (approvals).
    ``help_uri``: the page that documents the check (SARIF viewers link it). Without it, a
    plugin module's ``MODELGATE_DOCS`` (a page with one section per check) is used, with the
    section's anchor: ``#acme001-model-card-linked``.
    """
    if not _ID.match(id):
        raise ValueError(f"check id {id!r} must look like MG301 or ACME001")
    if not _NAME.match(name):
        raise ValueError(f"check name {name!r} must be a lowercase slug like metric-threshold")
    if severity not in ("error", "warning"):
        raise ValueError(f"check {id}: severity must be 'error' or 'warning'")
    unknown_digests = set(digests) - {"sha256", "md5"}
    if unknown_digests:
        raise ValueError(f"check {id}: digests may be 'sha256' and 'md5', not {sorted(unknown_digests)}")
    unknown_files = set(digests_of) - {"artifacts", "data", "lockfile"}
    if unknown_files:
        raise ValueError(
            f"check {id}: digests_of may be 'artifacts', 'data' and 'lockfile', not {sorted(unknown_files)}"
        )
    if readiness not in ("evaluate", "change", "ci"):
        raise ValueError(f"check {id}: readiness must be 'evaluate', 'change' or 'ci'")

    def decorate(func: Callable[..., Any]) -> Check:
        argnames = tuple(inspect.signature(func).parameters)
        unknown = [p for p in argnames if p not in ARGUMENTS]
        if unknown:
            raise TypeError(
                f"check {id} asks for unknown argument(s) {', '.join(unknown)}; available: {', '.join(ARGUMENTS)}"
            )
        return Check(
            id,
            name,
            func,
            tuple(stages) if stages is not None else None,
            severity,
            needs_rule,
            required,
            waivable,
            hint,
            params,
            scope,
            argnames,
            tuple(digests),
            tuple(digests_of),
            provider_param,
            tuple(adds_up),
            readiness,
            help_uri,
        )

    return decorate
