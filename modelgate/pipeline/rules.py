"""Which checks run on a manifest, under which rules: the policies' rules resolved against
the installed checks, ``--select``/``--ignore`` applied, ``with:`` params validated once.

Rules depend only on the governing policy, the stage and whether the manifest is valid,
so each combination is worked out once per run, not once per manifest.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

from modelgate.checkapi.decorator import Check
from modelgate.datamodel import validation
from modelgate.datamodel.manifest import ManifestDoc
from modelgate.datamodel.policy import Policy, PolicyLoader, Rule, Traits, is_builtin
from modelgate.datamodel.validation import Verdicts
from modelgate.errors import ConfigError, UsageError
from modelgate.git.trees import Tree

Pairs = list[tuple[Check, Rule]]


def load_policies(
    refs: Iterable[str], tree: Tree, verdicts: Verdicts | None = None, traits: Traits | None = None
) -> list[Policy]:
    """The policies ``refs`` name (files, folders of them, ``builtin:NAME``), read from ``tree``;
    ``traits`` tells how each check's rules combine across ``extends`` (:meth:`RuleSet.traits`)."""
    loader = PolicyLoader(tree.read, tree.source, verdicts, traits)
    policies: list[Policy] = []
    for ref in refs:
        folder = None if ref.startswith("builtin:") else tree.files_in(ref)
        if folder is not None:
            files = [p for p in folder if p.endswith((".yaml", ".yml"))]
            if not files:
                # A folder that holds no policy would quietly leave builtin:default in charge.
                raise ConfigError(f"policies: folder {ref} holds no .yaml or .yml policy file")
            policies.extend(loader.load(p) for p in files)
        else:
            policies.append(loader.load(ref))
    return policies


def default_rule(check: Check) -> Rule:
    """The rule a check runs under when no policy names it."""
    return Rule(check.id, check.stages, None, {}, DEFAULT_ORIGIN)


DEFAULT_ORIGIN = "default"  # the origin of a rule no policy wrote


class RuleSet:
    def __init__(
        self,
        checks: Mapping[str, Check],
        select: tuple[str, ...],
        ignore: tuple[str, ...],
        tree: Tree,
        verdicts: Verdicts | None = None,
    ) -> None:
        self.checks = checks
        self.verdicts = verdicts
        self.select = select
        self.ignore = ignore
        self.tree = tree
        self._by_name = {c.name: c for c in checks.values()}
        self._default: Policy | None = None
        self._params: dict[tuple[str, str], Any] = {}
        self._cache: dict[tuple[int, str | None, bool, bool], Pairs] = {}
        for selector in (*select, *ignore):
            if not any(c.matches(selector) for c in checks.values()):
                raise UsageError(f"--select/--ignore {selector!r} matches no check; see `modelgate list-checks`")

    def find_check(self, ref: str) -> Check | None:
        """A check by id (MG301) or name (artifact-hash)."""
        return self.checks.get(ref) or self._by_name.get(ref)

    def traits(self, ref: str) -> tuple[str, tuple[str, ...]] | None:
        """What policy loading needs to know of a rule's check: its id (a rule may name it by
        id or name) and the ``with:`` keys whose requirements add up across ``extends``."""
        found = self.find_check(ref)
        return (found.id, found.adds_up) if found is not None else None

    def governing(self, name: str | None, policies: list[Policy]) -> Policy | None:
        """The first listed policy whose ``match`` covers the model, else builtin:default."""
        if name is None:
            return None
        for policy in policies:
            if policy.governs(name):
                return policy
        if self._default is None:
            default = load_policies(["builtin:default"], self.tree, self.verdicts, self.traits)[0]
            self.validate(default)
            self._default = default
        return self._default

    def validate(self, policy: Policy) -> None:
        """Every rule and waiver names an installed check, and every ``with:`` is valid for it."""
        for rule in policy.rules:
            found = self.find_check(rule.check)
            if found is None:
                raise UsageError(
                    f"{rule.origin}: rule names check {rule.check!r}, which no plugin provides;"
                    " see `modelgate list-checks`, or install the plugin that provides it"
                )
            self.params(found, rule)
        for waiver in policy.waivers:
            if self.find_check(waiver.check) is None:
                raise UsageError(f"{waiver.origin}: waiver names unknown check {waiver.check!r}")

    def providers_named(self, policies: Iterable[Policy]) -> list[tuple[str, str]]:
        """(where, provider) for each rule whose check takes an approvals provider as a
        parameter (check metadata ``provider_param``) and names one."""
        named = ((rule, self._provider(self.find_check(rule.check), rule)) for p in policies for rule in p.rules)
        return [(rule.origin, provider) for rule, provider in named if provider]

    def providers_for(self, doc: ManifestDoc, policy: Policy | None, default: str | None) -> list[str]:
        """The approval providers the rules run on ``doc`` ask: each rule's named one, or
        ``default`` (the configured provider) for a rule that names none."""
        asked = (
            self._provider(check, rule) or default
            for check, rule in self.for_doc(doc, policy, removed=False)
            if check.provider_param is not None
        )
        return list(dict.fromkeys(p for p in asked if p))

    def _provider(self, check: Check | None, rule: Rule) -> str | None:
        """The approvals provider ``rule`` names for ``check``; None if it names none, or
        the check takes none."""
        if check is None or check.provider_param is None:
            return None
        provider = getattr(self.params(check, rule), check.provider_param, None)
        return str(provider) if provider else None

    def params(self, check: Check, rule: Rule) -> Any:
        """The rule's ``with:`` as the check's params class (validated once per rule)."""
        if check.params is None:
            return rule.params
        key = (rule.origin, rule.check)
        if key not in self._params:
            try:
                # Shipped: a built-in policy's rule, or the default rule (no `with:`), for a
                # check whose parameters class is modelgate's own too (a plugin's class is
                # validated, whatever the data).
                shipped = (is_builtin(rule.origin) or rule.origin == DEFAULT_ORIGIN) and getattr(
                    check.params, "__module__", ""
                ).startswith("modelgate.")
                self._params[key] = self._validated(check.params, rule.params, shipped=shipped)
            except validation.Invalid as exc:
                detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'with'}: {e['msg']}" for e in exc.errors)
                raise UsageError(f"{rule.origin}: invalid `with:` for {check.name}: {detail}") from None
        return self._params[key]

    def _validated(self, cls: Any, params: dict[str, Any], *, shipped: bool) -> Any:
        # Built-in checks declare dataclasses: no pydantic when the verdict is known, or for
        # a built-in policy's own rule (shipped: see validation.load).
        if isinstance(cls, type) and dataclasses.is_dataclass(cls):
            content = json.dumps(params, sort_keys=True, default=repr)
            return validation.load(cls, params, self.verdicts, content, shipped=shipped)
        from pydantic import ValidationError  # a plugin's own pydantic model

        try:
            return cls.model_validate(params)
        except ValidationError as exc:
            raise validation.Invalid(list(exc.errors())) from None  # type: ignore[arg-type]

    def selected(self, check: Check) -> bool:
        """Whether ``--select``/``--ignore`` let the check run (required checks always run)."""
        if check.required:
            return True
        if self.select and not any(check.matches(s) for s in self.select):
            return False
        return not any(check.matches(s) for s in self.ignore)

    def for_doc(self, doc: ManifestDoc, policy: Policy | None, removed: bool) -> Pairs:
        """The (check, rule) pairs to run on ``doc``, in check-id order (not ``after`` checks)."""
        key = (id(policy), doc.model.stage if doc.model else None, doc.model is None, removed)
        if key not in self._cache:
            self._cache[key] = self._select(doc, policy, removed)
        return self._cache[key]

    def after(self, doc: ManifestDoc) -> Pairs:
        """The ``scope="after"`` checks for ``doc``: they run once its other checks have."""
        if doc.model is None:
            return []
        found = []
        for check in sorted(self.checks.values(), key=lambda c: c.id):
            if check.scope == "after" and self.selected(check):
                rule = default_rule(check)
                if rule.applies_to(doc.model.stage):
                    found.append((check, rule))
        return found

    def _select(self, doc: ManifestDoc, policy: Policy | None, removed: bool) -> Pairs:
        stage = doc.model.stage if doc.model else None
        pairs: Pairs = []
        mentioned = set()
        for rule in policy.rules if policy else ():
            found = self.find_check(rule.check)
            assert found is not None  # validated when the policy was loaded
            mentioned.add(found.id)
            pairs.append((found, rule))
        for check in self.checks.values():
            if check.id not in mentioned and not check.needs_rule:
                pairs.append((check, default_rule(check)))
        pairs.sort(key=lambda pair: pair[0].id)
        runnable = []
        for check, rule in pairs:
            if check.scope == "after" or (check.scope == "removed") != removed or not self.selected(check):
                continue
            needs_model = bool({"manifest", "policy"} & set(check.argnames))
            if doc.model is None and needs_model:
                continue
            if doc.model is not None and not rule.applies_to(stage):
                continue
            runnable.append((check, rule))
        return runnable
