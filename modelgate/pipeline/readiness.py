"""Readiness: what the next stage will ask of a manifest, said while it can still change.

A promotion may change only stage, aliases and tags, so a requirement that first applies
at the next stage (production's lockfile, say) cannot be met in the promotion itself: it
has to be added in a change of its own, before. So from every stage, the rules the
governing policy adds at each stage the manifest may move to next (its ``transitions``
that lead forward in ``stages``) run on the manifest as if it stood there, and what they
would fail on is reported as a notice: never a result, never counted by the verdict, the
exit code or ``--strict``.

Which rules take part is check metadata (``readiness``), never a check's name: a rule
that judges the stage move or the change itself (``"change"``) waits for the promotion; a
rule only CI can verify (``"ci"``) is listed as verified in CI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from modelgate.checkapi.decorator import Check
from modelgate.datamodel.manifest import ManifestDoc
from modelgate.datamodel.policy import Policy, Rule
from modelgate.datamodel.results import Readiness, Result
from modelgate.pipeline.rules import RuleSet

# Runs one check under one rule on one manifest: the session's ``run_one``.
Runner = Callable[[ManifestDoc, Policy, ManifestDoc | None, Check, Rule], list[Result]]

PROMOTION_MAY_CHANGE = "a promotion may change only stage, aliases and tags"


def next_stages(policy: Policy, stage: str) -> list[str]:
    """The stages a manifest at ``stage`` may move to next: the targets of its transitions
    that come later in the policy's ``stages`` (from staging: production and rejected, not
    back to none)."""
    if stage not in policy.stages:
        return []
    here = policy.stages.index(stage)
    return [t for t in policy.transitions.get(stage, ()) if t in policy.stages and policy.stages.index(t) > here]


def when(hint: str | None, stage: str) -> str:
    """A hint for something a later stage needs, made while the version is at ``stage``:
    the change to make, in a change of its own, before the promotion."""
    change = hint or "make the change this check asks for"
    return f"{change} in a pull request of its own {_before(stage)}"


def _before(stage: str) -> str:
    return f"while the version is still at {stage} ({PROMOTION_MAY_CHANGE}), then promote"


class Preview:
    """Readiness of the manifests of one run (one per session: the rule pairs it works out
    depend only on the policy and the two stages, so they are kept)."""

    def __init__(self, rules: RuleSet, run: Runner) -> None:
        self.rules = rules
        self.run = run
        self._pairs: dict[tuple[int, str, str], tuple[list[tuple[Check, Rule]], list[Check]]] = {}

    def of(self, doc: ManifestDoc, policy: Policy | None, base_doc: ManifestDoc | None) -> list[Readiness]:
        """What ``doc`` still needs at each stage it may move to next (an entry per stage,
        with nothing needed when it is ready)."""
        if doc.model is None or policy is None:
            return []
        stage = doc.model.stage
        found = []
        for target in next_stages(policy, stage):
            evaluated, in_ci = self.pairs(doc, policy, target)
            needs = []
            if evaluated:
                there = replace(doc, model=replace(doc.model, stage=target))
                for check, rule in evaluated:
                    for result in self.run(there, policy, base_doc, check, rule):
                        if result.outcome in ("failed", "error"):
                            needs.append(result)
            found.append(
                Readiness(
                    doc.path,
                    doc.label,
                    stage,
                    target,
                    tuple(needs),
                    tuple((c.id, c.name) for c in in_ci),
                    f"make these changes in a pull request of their own {_before(stage)}",
                )
            )
        return found

    def pairs(self, doc: ManifestDoc, policy: Policy, target: str) -> tuple[list[tuple[Check, Rule]], list[Check]]:
        """The rules ``target`` adds to those of the stage ``doc`` stands at: those to
        evaluate, and the checks only CI verifies."""
        assert doc.model is not None
        stage = doc.model.stage
        key = (id(policy), stage, target)
        if key not in self._pairs:
            there = replace(doc, model=replace(doc.model, stage=target))
            evaluated, in_ci = [], []
            for check, rule in self.rules.for_doc(there, policy, removed=False):
                if rule.applies_to(stage):
                    continue  # it runs where the manifest stands: its failure is a result already
                if check.readiness == "evaluate":
                    evaluated.append((check, rule))
                elif check.readiness == "ci" and check not in in_ci:
                    in_ci.append(check)
            self._pairs[key] = (evaluated, in_ci)
        return self._pairs[key]


def before_promotion(
    check: Check, rule: Rule, doc: ManifestDoc, base_doc: ManifestDoc | None, results: Iterable[Result]
) -> list[Result]:
    """``results`` with the hint a promotion's failure needs: when the manifest moves to a
    stage whose rule it fails (and the rule did not apply where it stood), the fix cannot
    be part of the promotion. The hint says which change to make first, and where."""
    results = list(results)
    base = base_doc.model if base_doc is not None else None
    model = doc.model
    if (
        model is None
        or base is None
        or base.version != model.version
        or base.stage == model.stage
        or check.readiness != "evaluate"
        or rule.applies_to(base.stage)
    ):
        return results
    return [replace(r, hint=when(r.hint, base.stage)) if r.outcome == "failed" else r for r in results]
