"""Policy v1: which stages exist, how models move between them, and which rules apply.

A policy file may ``extends`` others (``builtin:NAME`` or a repo-relative path). The
extending file's ``stages``, ``transitions``, ``exclusive``, ``branches``, ``aliases`` and
``match`` replace the inherited ones when given; waivers accumulate. A rule for the same
check and the same stages as an inherited rule adds to it when the check's requirements
add up (check metadata ``adds_up``: ``required-fields``' fields, ``required-metrics``'
metrics and minimum), unless it says ``replace: true``; for other checks (a threshold, a
tolerance, approvals) it replaces the inherited rule. Every replacement is kept on the
policy, and each run names it in a notice: an inherited requirement never goes silently.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import field
from typing import Annotated, Any, Literal

from modelgate.datamodel import strictyaml, validation
from modelgate.datamodel.manifest import problems_from
from modelgate.datamodel.records import record
from modelgate.datamodel.results import PolicyInfo
from modelgate.datamodel.validation import Constraint, Strict, Verdicts
from modelgate.errors import ConfigError, InputError, Problem

Text = Annotated[str, Constraint(min_length=1, max_length=4096)]
StageName = Annotated[str, Constraint(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]

# (repo-relative path) -> file bytes, from the work tree or from the base commit.
Reader = Callable[[str], bytes]
# A rule's check (id or name) -> the check's id and its ``adds_up`` keys; None for a check
# no plugin provides (the rule set refuses it once the policy is loaded: exit 4).
Traits = Callable[[str], tuple[str, tuple[str, ...]] | None]


@record(kw_only=True)
class RuleSpec(Strict):
    __pydantic_config__ = Strict.renamed(with_="with")

    check: Text
    stages: list[StageName] | None = None
    severity: Literal["error", "warning"] | None = None
    with_: dict[str, Any] = field(default_factory=dict)
    replace: Annotated[
        bool,
        Constraint(
            description=(
                "Replace the inherited rule for the same check and stages instead of adding to it"
                " (required-fields, required-metrics); every run names the replacement in a notice."
            )
        ),
    ] = False


@record(kw_only=True)
class WaiverSpec(Strict):
    check: Text
    model: Text
    version: Text | None = None
    reason: Text
    expires: dt.date
    owner: Text


def _every_name() -> list[str]:
    # A named function, not a lambda: the committed pydantic-core schema names it.
    return ["*"]


@record(kw_only=True)
class MatchSpec(Strict):
    names: list[Text] = field(default_factory=_every_name)


@record(kw_only=True)
class AliasSpec(Strict):
    requires: Annotated[
        str,
        Constraint(
            pattern=r"^[a-z][a-z0-9_-]{0,63}$",
            description=(
                "The stage a version must stand in to carry this alias; moving the alias needs what that"
                " stage needs, approvals included."
            ),
        ),
    ]


@record(kw_only=True)
class PolicyFile(Strict):
    __pydantic_config__ = Strict.renamed(api_version="apiVersion")

    api_version: Literal["modelgate/v1"]
    kind: Literal["Policy"]
    name: Annotated[str, Constraint(pattern=r"^[a-z0-9][a-z0-9._-]{0,127}$")]
    description: Text | None = None
    extends: list[Text] = field(default_factory=list)
    match: MatchSpec | None = None
    stages: Annotated[list[StageName] | None, Constraint(min_length=1)] = None
    transitions: dict[StageName, list[StageName]] | None = None
    exclusive: list[StageName] | None = None
    branches: dict[Text, StageName] | None = None
    aliases: Annotated[
        dict[Annotated[str, Constraint(pattern=r"^[a-z0-9][a-z0-9._-]{0,127}$")], AliasSpec] | None,
        Constraint(description="Protected aliases: alias -> {requires: STAGE}."),
    ] = None
    rules: list[RuleSpec] = field(default_factory=list)
    waivers: list[WaiverSpec] = field(default_factory=list)
    waivable: Annotated[
        list[Text] | None, Constraint(description="Checks that may be waived although they normally cannot be.")
    ] = None


@record
class Rule:
    """A rule as it applies: which check, where, how severe, with which parameters."""

    check: str
    stages: tuple[str, ...] | None
    severity: Literal["error", "warning"] | None
    params: dict[str, Any]
    origin: str  # "path:line" of the rule, for messages

    def applies_to(self, stage: str | None) -> bool:
        return self.stages is None or stage in self.stages

    @property
    def label(self) -> str:
        """What tells this rule apart from another run of the same check: its metric or
        file parameter (``auc``), else the stages a policy gave it (``staging,production``);
        empty for a check's own default run."""
        for key in ("metric", "file"):
            value = self.params.get(key)
            if isinstance(value, str):
                return value
        return ",".join(self.stages) if self.stages and self.origin != "default" else ""


@record
class Waiver:
    check: str
    model: str
    version: str | None
    reason: str
    expires: dt.date
    owner: str
    origin: str

    def covers(self, check_id: str, check_name: str, model: str, version: str) -> bool:
        return self.check in (check_id, check_name) and self.model == model and self.version in (None, version)


@record
class Policy:
    """A policy with its ``extends`` chain resolved."""

    name: str
    path: str
    match: tuple[str, ...]
    stages: tuple[str, ...]
    transitions: dict[str, tuple[str, ...]]
    exclusive: tuple[str, ...]
    branches: dict[str, str]
    rules: tuple[Rule, ...]
    waivers: tuple[Waiver, ...]
    files: tuple[PolicyInfo, ...]
    waivable: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)  # protected alias -> the stage it requires
    # "policy acme replaces builtin:default's required-fields at production (acme.yaml:7:5)",
    # for every inherited rule an extending file replaced, along the whole ``extends`` chain.
    replacements: tuple[str, ...] = ()

    def governs(self, model_name: str) -> bool:
        return any(fnmatch.fnmatchcase(model_name, pattern) for pattern in self.match)

    def may_waive(self, check_id: str, check_name: str, waivable: bool) -> bool:
        """Whether a waiver may turn this check's failure into ``waived`` (``waivable``: by the
        check's own declaration; a policy's ``waivable:`` list can add more)."""
        return waivable or check_id in self.waivable or check_name in self.waivable

    def waiver_for(
        self, check_id: str, check_name: str, waivable: bool, model: str, version: str, today: dt.date
    ) -> Waiver | None:
        """The unexpired waiver that covers a failure of this check, if the check may be waived
        (see :meth:`may_waive`)."""
        if not self.may_waive(check_id, check_name, waivable):
            return None
        for waiver in self.waivers:
            if waiver.expires >= today and waiver.covers(check_id, check_name, model, version):
                return waiver
        return None


BUILTIN_PREFIX = "builtin:"


def is_builtin(origin: str) -> bool:
    """Whether a rule's origin is a built-in policy's file: a reference with the prefix is
    always read from the package (:meth:`PolicyLoader._fetch`), never from the repository,
    and a rule that adds up with an extending file's takes that file's origin."""
    return origin.startswith(BUILTIN_PREFIX)


def _builtin_folder() -> str:
    # The package's own files (pip installs it unzipped): importlib.resources would cost
    # six more imports on every start.
    from modelgate import policies

    return os.path.dirname(os.path.abspath(policies.__file__ or ""))


def builtin_names() -> list[str]:
    return sorted(name[: -len(".yaml")] for name in os.listdir(_builtin_folder()) if name.endswith(".yaml"))


def _read_builtin(name: str) -> bytes:
    known = builtin_names()
    if name not in known:
        available = ", ".join(BUILTIN_PREFIX + n for n in known)
        raise ConfigError(f"unknown built-in policy {BUILTIN_PREFIX}{name}; available: {available}")
    with open(os.path.join(_builtin_folder(), f"{name}.yaml"), "rb") as handle:
        return handle.read()


class PolicyLoader:
    """Loads policies through ``reader`` and records where each file came from."""

    def __init__(
        self,
        reader: Reader,
        source: Literal["base", "worktree"],
        verdicts: Verdicts | None = None,
        traits: Traits | None = None,
    ) -> None:
        self.reader = reader
        self.source: Literal["base", "worktree"] = source
        self.verdicts = verdicts
        self.traits = traits

    def load(self, ref: str, referrer: str | None = None) -> Policy:
        return self._load(ref, referrer, ())

    def _load(self, ref: str, referrer: str | None, seen: tuple[str, ...]) -> Policy:
        if ref in seen:
            raise ConfigError(f"{ref}: policy extends itself through {' -> '.join(seen)}")
        raw, info = self._fetch(ref, referrer)
        doc = strictyaml.parse(raw, ref)
        if not isinstance(doc.data, dict):
            raise InputError([Problem(ref, 1, 1, "a policy must be a YAML mapping")])
        try:
            spec = validation.load(PolicyFile, doc.data, self.verdicts, info.sha256, shipped=info.source == "builtin")
        except validation.Invalid as exc:
            raise InputError(problems_from(exc.errors, doc, PolicyFile)) from None
        parents = [self._load(parent, ref, (*seen, ref)) for parent in spec.extends]
        return _resolve(spec, doc, info, parents, self.traits)

    def _fetch(self, ref: str, referrer: str | None) -> tuple[bytes, PolicyInfo]:
        if ref.startswith(BUILTIN_PREFIX):
            raw = _read_builtin(ref[len(BUILTIN_PREFIX) :])
            return raw, PolicyInfo(ref, hashlib.sha256(raw).hexdigest(), "builtin")
        try:
            raw = self.reader(ref)
        except FileNotFoundError:
            where = f" (extended by {referrer})" if referrer else ""
            raise ConfigError(f"policy file {ref} not found{where}") from None
        except InputError:
            raise
        return raw, PolicyInfo(ref, hashlib.sha256(raw).hexdigest(), self.source)


def _resolve(
    spec: PolicyFile, doc: strictyaml.YamlDoc, info: PolicyInfo, parents: list[Policy], traits: Traits | None = None
) -> Policy:
    def inherited(attr: str, default: Any) -> Any:
        return getattr(parents[-1], attr) if parents else default

    stages = tuple(spec.stages) if spec.stages is not None else inherited("stages", ())
    if not stages:
        raise ConfigError(f"{info.path}:1:1: policy defines no stages and extends none")
    transitions = (
        {k: tuple(v) for k, v in spec.transitions.items()}
        if spec.transitions is not None
        else inherited("transitions", {})
    )
    exclusive = tuple(spec.exclusive) if spec.exclusive is not None else inherited("exclusive", ())
    branches = dict(spec.branches) if spec.branches is not None else inherited("branches", {})
    aliases = (
        {alias: protection.requires for alias, protection in spec.aliases.items()}
        if spec.aliases is not None
        else inherited("aliases", {})
    )
    match = tuple(spec.match.names) if spec.match is not None else inherited("match", ("*",))

    inherited_rules: list[Rule] = [rule for parent in parents for rule in parent.rules]
    own: list[tuple[Rule, bool]] = []
    for index, rule_spec in enumerate(spec.rules):
        line, column = doc.location(("rules", index))
        own.append(
            (
                Rule(
                    rule_spec.check,
                    tuple(rule_spec.stages) if rule_spec.stages is not None else None,
                    rule_spec.severity,
                    dict(rule_spec.with_),
                    f"{info.path}:{line}:{column}",
                ),
                rule_spec.replace,
            )
        )
    rules, replacements = _merge_rules(spec.name, inherited_rules, own, traits)
    waivers = [w for parent in parents for w in parent.waivers]
    for index, w in enumerate(spec.waivers):
        line, column = doc.location(("waivers", index))
        waivers.append(
            Waiver(w.check, w.model, w.version, w.reason, w.expires, w.owner, f"{info.path}:{line}:{column}")
        )
    waivable = tuple(spec.waivable) if spec.waivable is not None else inherited("waivable", ())
    policy = Policy(
        spec.name,
        info.path,
        match,
        stages,
        transitions,
        exclusive,
        branches,
        tuple(rules),
        tuple(waivers),
        (*(f for parent in parents for f in parent.files), info),
        waivable,
        aliases,
        tuple(dict.fromkeys([*(r for parent in parents for r in parent.replacements), *replacements])),
    )
    _validate_stage_names(policy, doc)
    return policy


def _merge_rules(
    name: str, inherited: list[Rule], own: list[tuple[Rule, bool]], traits: Traits | None
) -> tuple[list[Rule], list[str]]:
    """The extending file's rules over the inherited ones, and a notice per replacement.

    An own rule meets the inherited rules for the same check and the same stages: with
    ``replace: true`` it replaces them; for a check whose requirements add up it joins them
    (one rule, the inherited requirements and its own); for another check it replaces them.
    Own rules never replace each other (two thresholds on two metrics are two rules).
    """

    def key(rule: Rule) -> tuple[str, tuple[str, ...] | None]:
        found = traits(rule.check) if traits is not None else None
        return (found[0] if found else rule.check), rule.stages

    def adds_up(rule: Rule) -> tuple[str, ...]:
        found = traits(rule.check) if traits is not None else None
        return found[1] if found else ()

    kept = list(inherited)
    added: list[Rule] = []
    replacements: list[str] = []
    for rule, replace in own:
        same = [r for r in kept if key(r) == key(rule)]
        if replace and not same:
            raise ConfigError(
                f"{rule.origin}: replace: true, but policy {name} inherits no {rule.check} rule"
                f" at {_stages(rule.stages)} to replace; drop `replace`, or name the inherited"
                " rule's stages"
            )
        keys = adds_up(rule)
        joined = [r for r in same if r.severity == rule.severity] if keys and not replace else []
        if joined:
            params = rule.params
            for earlier in reversed(joined):
                params = _add_up(earlier.params, params, keys)
            rule = Rule(rule.check, rule.stages, rule.severity, params, rule.origin)
            same = joined
        elif keys and not replace:
            same = []  # another severity: both rules stand, nothing is dropped
        for gone in same:
            kept.remove(gone)
            if not joined:
                replacements.append(
                    f"policy {name} replaces {_file_of(gone.origin)}'s {gone.check}"
                    f" at {_stages(gone.stages)} ({rule.origin})"
                )
        added.append(rule)
    return kept + added, replacements


def _add_up(inherited: dict[str, Any], own: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """``own``'s parameters with the inherited requirements added: for each of ``keys``, two
    lists are joined (inherited first, without repeats) and two numbers give the larger."""
    merged = {**inherited, **own}
    for k in keys:
        if k not in inherited or k not in own:
            continue
        a, b = inherited[k], own[k]
        if isinstance(a, list) and isinstance(b, list):
            seen = {_identity(item) for item in a}  # linear: a policy may list many
            merged[k] = a + [item for item in b if _identity(item) not in seen]
        elif _number(a) and _number(b):
            merged[k] = max(a, b)
    return merged


def _identity(item: Any) -> str:
    return json.dumps(item, sort_keys=True, default=repr)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _file_of(origin: str) -> str:
    return origin.rsplit(":", 2)[0]


def _stages(stages: tuple[str, ...] | None) -> str:
    return ", ".join(stages) if stages is not None else "every stage"


def _validate_stage_names(policy: Policy, doc: strictyaml.YamlDoc) -> None:
    known = set(policy.stages)
    problems = []

    def need(stage: str, keypath: tuple[str | int, ...], what: str) -> None:
        if stage not in known:
            line, column = doc.location(keypath)
            problems.append(
                Problem(
                    policy.path,
                    line,
                    column,
                    f"{what} names stage {stage!r}, which is not in stages {list(policy.stages)}",
                )
            )

    for source, targets in policy.transitions.items():
        need(source, ("transitions", source), "transition")
        for index, target in enumerate(targets):
            need(target, ("transitions", source, index), "transition")
    for index, stage in enumerate(policy.exclusive):
        need(stage, ("exclusive", index), "exclusive")
    for branch, stage in policy.branches.items():
        need(stage, ("branches", branch), "branches")
    for alias, stage in policy.aliases.items():
        need(stage, ("aliases", alias, "requires"), f"protected alias {alias!r}")
    for rule in policy.rules:
        for stage in rule.stages or ():
            if stage not in known:
                problems.append(_origin_problem(rule.origin, f"rule for {rule.check} names unknown stage {stage!r}"))
    if problems:
        raise InputError(problems)


def _origin_problem(origin: str, message: str) -> Problem:
    path, line, column = origin.rsplit(":", 2)
    return Problem(path, int(line), int(column), message)
