"""One ``modelgate check`` run: discover -> load -> policy -> rules -> checks -> summary.

Data flows one way. The session owns the plumbing; what is checked lives in plugins.
"""

from __future__ import annotations

import datetime as dt
import linecache
import os
import sys
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelgate import __version__, discovery, manifest
from modelgate.artifacts import ArtifactPathError, resolve
from modelgate.checkapi import Check, Fail, Skip
from modelgate.config import Config
from modelgate.errors import UsageError
from modelgate.hashing import Digest, Hasher
from modelgate.manifest import ManifestDoc
from modelgate.policy import Policy, PolicyLoader, Rule
from modelgate.results import Location as Loc
from modelgate.results import ManifestInfo, Outcome, PolicyInfo, Result, Summary
from modelgate.results import Waiver as WaiverInfo
from modelgate.yamldoc import read_limited


@dataclass(frozen=True)
class Options:
    paths: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    strict: bool = False
    traceback: bool = False
    policies: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)


class Context:
    """What checks may ask about the run beyond their own manifest (``context``)."""

    def __init__(self, root: str, config: Config, checks: Mapping[str, Check]) -> None:
        self.root = root
        self.config = config
        self.checks = checks
        self.hasher = Hasher()
        self.today = dt.datetime.now(dt.UTC).date()
        self._docs: dict[str, ManifestDoc] = {}
        self._registry: list[ManifestDoc] | None = None

    def load(self, abspath: str) -> ManifestDoc:
        doc = self._docs.get(abspath)
        if doc is None:
            doc = manifest.load(abspath, discovery.relpath(self.root, abspath))
            self._docs[abspath] = doc
        return doc

    def registry(self) -> list[ManifestDoc]:
        """Every manifest in the repository, loaded once on first use.

        Cross-manifest rules (unique versions, exclusive stages, aliases) look at all of
        them, even when only some are checked (pre-commit passes just the changed files).
        """
        if self._registry is None:
            found = discovery.discover(self.root, [], self.config.manifests)
            self._registry = [self.load(path) for path in found.manifests]
        return self._registry

    def versions_of(self, name: str) -> list[ManifestDoc]:
        return [d for d in self.registry() if d.model is not None and d.model.name == name]

    def artifact_path(self, doc: ManifestDoc, path: str) -> str:
        """The artifact's real path; raises ``ArtifactPathError`` when unacceptable."""
        return resolve(self.root, doc.folder, path)

    def digest(self, abspath: str) -> Digest:
        return self.hasher.digest(abspath)


def worktree_reader(root: str) -> Any:
    def read(rel: str) -> bytes:
        path = os.path.join(root, rel)
        if not os.path.exists(path):
            raise FileNotFoundError(rel)
        return read_limited(path, rel)

    return read


def load_policies(refs: Iterable[str], root: str) -> list[Policy]:
    loader = PolicyLoader(worktree_reader(root), "worktree")
    policies: list[Policy] = []
    for ref in refs:
        folder = os.path.join(root, ref)
        if not ref.startswith("builtin:") and os.path.isdir(folder):
            names = sorted(n for n in os.listdir(folder) if n.endswith((".yaml", ".yml")))
            policies.extend(loader.load(discovery.relpath(root, os.path.join(folder, n))) for n in names)
        else:
            policies.append(loader.load(ref))
    return policies


class Session:
    def __init__(self, options: Options, checks: Mapping[str, Check], config: Config, root: str) -> None:
        self.options = options
        self.checks = checks
        self.config = config
        self.root = root
        self.context = Context(root, config, checks)
        self._by_name = {c.name: c for c in checks.values()}
        self._default: Policy | None = None
        self._params: dict[tuple[str, str], Any] = {}

    def find_check(self, ref: str) -> Check | None:
        return self.checks.get(ref) or self._by_name.get(ref)

    def run(self) -> Summary:
        started = time.perf_counter()
        self._validate_selectors()
        policies = load_policies(self.config.policies, self.root)
        for policy in policies:
            self._validate_rules(policy)
        docs = self._collect()
        results: list[Result] = []
        infos: list[ManifestInfo] = []
        used: dict[str, PolicyInfo] = {}
        for doc in docs:
            governing = self._governing(doc, policies)
            if governing is not None:
                used.update((f.path, f) for f in governing.files)
            results.extend(self._check(doc, governing))
            model = doc.model
            infos.append(
                ManifestInfo(doc.path, model.name if model else None, model.version if model else None,
                             model.stage if model else None, None, doc.sha256)
            )
        for policy in policies:
            used.update((f.path, f) for f in policy.files)
        return Summary(
            tool_version=__version__,
            results=tuple(results),
            manifests=tuple(infos),
            policies=tuple(used.values()),
            duration=time.perf_counter() - started,
            strict=self.options.strict,
        )

    # -- collection ---------------------------------------------------------------

    def _collect(self) -> list[ManifestDoc]:
        found = discovery.discover(self.root, list(self.options.paths), self.config.manifests)
        docs = [self.context.load(path) for path in found.manifests]
        if found.others:
            wanted = {os.path.realpath(p) for p in found.others}
            seen = {d.abspath for d in docs}
            for doc in self.context.registry():
                if doc.abspath not in seen and wanted.intersection(self._artifact_paths(doc)):
                    docs.append(doc)
                    seen.add(doc.abspath)
        return sorted(docs, key=lambda d: d.path)

    def _artifact_paths(self, doc: ManifestDoc) -> set[str]:
        paths = set()
        for artifact in doc.model.artifacts if doc.model else ():
            try:
                paths.add(self.context.artifact_path(doc, artifact.path))
            except ArtifactPathError:
                continue
        return paths

    # -- policy and rules ---------------------------------------------------------

    def _governing(self, doc: ManifestDoc, policies: list[Policy]) -> Policy | None:
        """The first listed policy whose ``match`` covers the model, else builtin:default."""
        if doc.model is None:
            return None
        for policy in policies:
            if policy.governs(doc.model.name):
                return policy
        if self._default is None:
            default = load_policies(["builtin:default"], self.root)[0]
            self._validate_rules(default)
            self._default = default
        return self._default

    def _validate_rules(self, policy: Policy) -> None:
        for rule in policy.rules:
            found = self.find_check(rule.check)
            if found is None:
                raise UsageError(
                    f"{rule.origin}: rule names check {rule.check!r}, which no plugin provides;"
                    " see `modelgate list-checks`, or install the plugin that provides it"
                )
            self._validated_params(found, rule)
        for waiver in policy.waivers:
            if self.find_check(waiver.check) is None:
                raise UsageError(f"{waiver.origin}: waiver names unknown check {waiver.check!r}")

    def _validated_params(self, check: Check, rule: Rule) -> Any:
        if check.params is None:
            return rule.params
        key = (rule.origin, rule.check)
        if key not in self._params:
            from pydantic import ValidationError

            try:
                self._params[key] = check.params.model_validate(rule.params)
            except ValidationError as exc:
                detail = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'with'}: {e['msg']}" for e in exc.errors()
                )
                raise UsageError(f"{rule.origin}: invalid `with:` for {check.name}: {detail}") from None
        return self._params[key]

    def _validate_selectors(self) -> None:
        for selector in (*self.options.select, *self.options.ignore):
            if not any(c.matches(selector) for c in self.checks.values()):
                raise UsageError(f"--select/--ignore {selector!r} matches no check; see `modelgate list-checks`")

    def _selected(self, check: Check) -> bool:
        if check.required:
            return True
        if self.options.select and not any(check.matches(s) for s in self.options.select):
            return False
        return not any(check.matches(s) for s in self.options.ignore)

    def _rules_for(self, doc: ManifestDoc, policy: Policy | None) -> list[tuple[Check, Rule]]:
        stage = doc.model.stage if doc.model else None
        pairs: list[tuple[Check, Rule]] = []
        explicit = policy.rules if policy else ()
        mentioned = set()
        for rule in explicit:
            found = self.find_check(rule.check)
            assert found is not None  # validated when the policy was loaded
            mentioned.add(found.id)
            pairs.append((found, rule))
        for check in self.checks.values():
            if check.id not in mentioned and not check.needs_rule:
                pairs.append((check, Rule(check.id, check.stages, None, {}, "default")))
        pairs.sort(key=lambda pair: pair[0].id)
        runnable = []
        for check, rule in pairs:
            if not self._selected(check):
                continue
            needs_model = "manifest" in check.argnames or "policy" in check.argnames
            if doc.model is None and needs_model:
                continue
            if doc.model is not None and not rule.applies_to(stage):
                continue
            runnable.append((check, rule))
        return runnable

    # -- running ------------------------------------------------------------------

    def _check(self, doc: ManifestDoc, policy: Policy | None) -> list[Result]:
        results = []
        for check, rule in self._rules_for(doc, policy):
            severity = rule.severity or check.severity
            for finding in self._call(check, doc, policy, rule):
                line, column = finding.position or doc.location(finding.at)
                hint = finding.hint or (check.hint if finding.outcome == "failed" else None)
                result = Result(
                    check.id, check.name, finding.outcome, severity, doc.path, doc.label,
                    finding.message, Loc(doc.path, line, column), None, hint,
                )
                results.append(self._waive(result, check, doc, policy))
        return results

    def _call(self, check: Check, doc: ManifestDoc, policy: Policy | None, rule: Rule) -> list[Finding]:
        available = {
            "manifest": doc.model,
            "doc": doc,
            "base_manifest": None,
            "base_doc": None,
            "context": self.context,
            "policy": policy,
            "params": self._validated_params(check, rule),
        }
        kwargs = {name: available[name] for name in check.argnames}
        findings: list[Finding] = []
        try:
            returned = check.func(**kwargs)
            if returned is not None and hasattr(returned, "__next__"):
                findings.extend(Finding.of(item) for item in returned)
        except Fail as exc:
            findings.append(Finding.of(exc))
        except Skip as exc:
            return [Finding("skipped", str(exc) or "skipped")]
        except AssertionError as exc:
            findings.append(Finding("failed", _assertion_message(exc, check)))
        except Exception as exc:  # a crashing plugin is an error result, never a pass
            if self.options.traceback:
                traceback.print_exc(file=sys.stderr)
            where = f"plugin {check.plugin!r}" if check.plugin else "its plugin"
            return [Finding("error", f"check crashed in {where}: {type(exc).__name__}: {exc}",
                            hint="report this to the plugin's authors; run with --traceback for details")]
        return findings or [Finding("passed", "ok")]

    def _waive(self, result: Result, check: Check, doc: ManifestDoc, policy: Policy | None) -> Result:
        if result.outcome != "failed" or policy is None or doc.model is None or not check.waivable:
            return result
        for waiver in policy.waivers:
            if waiver.expires >= self.context.today and waiver.covers(
                check.id, check.name, doc.model.name, doc.model.version
            ):
                info = WaiverInfo(waiver.check, waiver.model, waiver.version, waiver.reason,
                                  waiver.expires.isoformat(), waiver.owner, waiver.origin)
                return Result(result.check, result.name, "waived", result.severity, result.manifest,
                              result.model, result.message, result.location, info, result.hint)
        return result


@dataclass(frozen=True)
class Finding:
    """What one call of a check found, before it becomes a located Result."""

    outcome: Outcome
    message: str
    at: str | tuple[str | int, ...] | None = None
    hint: str | None = None
    position: tuple[int, int] | None = None

    @staticmethod
    def of(item: Fail | str) -> Finding:
        if isinstance(item, Fail):
            return Finding("failed", item.message, item.at, item.hint, item.position)
        return Finding("failed", str(item))


def _assertion_message(exc: AssertionError, check: Check) -> str:
    """The assertion's own message, else its source line and the local values it names."""
    if exc.args and str(exc):
        return str(exc)
    tb = exc.__traceback__
    frame_line = None
    while tb is not None:
        if tb.tb_frame.f_code is check.func.__code__:
            frame_line = tb
        tb = tb.tb_next
    if frame_line is None:
        return "assertion failed"
    code = frame_line.tb_frame.f_code
    source = linecache.getline(code.co_filename, frame_line.tb_lineno).strip()
    names = [n for n in frame_line.tb_frame.f_locals if n in source.replace("assert", "", 1)]
    values = ", ".join(f"{n} = {frame_line.tb_frame.f_locals[n]!r}" for n in names)
    return f"{source}" + (f"  (where {values})" if values else "")
