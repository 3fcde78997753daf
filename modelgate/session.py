"""One ``modelgate check`` run: discover -> load -> base -> policy -> rules -> checks -> summary.

Data flows one way. The session owns the plumbing; what is checked lives in plugins.
With a base, config and policies are read from the base commit (never from the change
under review), and every manifest is paired with its version at the merge-base.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelgate import __version__, assertion, config, discovery, trust
from modelgate.artifacts import ArtifactPathError
from modelgate.base import Base, base_ref
from modelgate.checkapi import Check, Fail, Skip
from modelgate.context import Context
from modelgate.errors import ModelgateError, UsageError
from modelgate.gitrepo import GitRepo
from modelgate.hashcache import HashCache
from modelgate.hashing import Hasher
from modelgate.manifest import ManifestDoc
from modelgate.policy import Policy, PolicyLoader, Rule
from modelgate.progress import ProgressBars
from modelgate.results import CheckInfo, GitInfo, ManifestInfo, MetricRow, Outcome, PolicyInfo, Result, Summary
from modelgate.results import Location as Loc
from modelgate.results import Waiver as WaiverInfo
from modelgate.trees import Tree, WorkTree


@dataclass(frozen=True)
class Options:
    paths: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    strict: bool = False
    traceback: bool = False
    policies: tuple[str, ...] | None = None
    base: str | None = None
    changed: bool = False
    cache: bool | None = None  # None: use the hash cache unless CI=true
    deep: bool = False
    shard: tuple[int, int] | None = None  # (k, n): the k-th of n deterministic parts, 1-based
    ci: bool | None = None  # None: CI=true or GITHUB_ACTIONS=true
    env: Mapping[str, str] = field(default_factory=dict)
    # Manifest bytes to check in place of the file at that absolute path: `promote --dry-run`
    # checks the promoted manifest without writing it.
    overlay: Mapping[str, bytes] = field(default_factory=dict)


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


_PASSED = Finding("passed", "ok")  # shared: frozen, and most calls of most checks end here


@dataclass
class Setup:
    """Where this run reads from: the repository, the verified base, and the trusted tree
    (the base commit when there is a base, else the work tree) with its configuration."""

    root: str
    git: GitRepo | None
    base: Base | None
    tree: Tree
    config: config.Config

    def close(self) -> None:
        if self.git is not None:
            self.git.close()


def prepare(options: Options, root: str) -> Setup:
    """Resolve the base and read the configuration from the trusted tree."""
    git = GitRepo(root) if os.path.exists(os.path.join(root, ".git")) else None
    worktree = WorkTree(root)
    flags = {"policies": list(options.policies) if options.policies else None}
    local = config.load(worktree.read, options.env, flags)
    ref = base_ref(options.base, options.env, local.base)
    if ref is None:
        return Setup(root, git, None, worktree, local)
    if git is None:
        raise UsageError(f"a base ({ref}) needs a git repository; {root} is not one")
    base = Base(git, ref, root, local.manifests)
    return Setup(root, git, base, base.tree, config.load(base.tree.read, options.env, flags))


def load_policies(refs: Iterable[str], tree: Tree) -> list[Policy]:
    loader = PolicyLoader(tree.read, tree.source)
    policies: list[Policy] = []
    for ref in refs:
        folder = None if ref.startswith("builtin:") else tree.files_in(ref)
        if folder is not None:
            policies.extend(loader.load(p) for p in folder if p.endswith((".yaml", ".yml")))
        else:
            policies.append(loader.load(ref))
    return policies


class Session:
    def __init__(self, options: Options, checks: Mapping[str, Check], setup: Setup, hook: Any = None) -> None:
        self.hook = hook
        self.options = options
        self.checks = checks
        self.setup = setup
        self.root = setup.root
        self._by_name = {c.name: c for c in checks.values()}
        self._default: Policy | None = None
        self._params: dict[tuple[str, str], Any] = {}
        # Rules depend on the policy, the stage and validity only: work them out once each.
        self._rule_cache: dict[tuple[int, str | None, bool, bool], list[tuple[Check, Rule]]] = {}
        self._results_so_far: tuple[Result, ...] = ()
        self._top: Loc | None = None
        self.notices: list[str] = []

    def find_check(self, ref: str) -> Check | None:
        return self.checks.get(ref) or self._by_name.get(ref)

    def run(self) -> Summary:
        started = time.perf_counter()
        self.begin()
        try:
            return self._judge(self.policies, started)
        finally:
            self.end()

    def begin(self) -> None:
        """Load and validate the policies and build the context; before plan/run_one."""
        self.started_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        self._validate_selectors()
        git, base, tree, settings = self.setup.git, self.setup.base, self.setup.tree, self.setup.config
        self.policies = load_policies(settings.policies, tree)
        self.tree = tree
        for policy in self.policies:
            self._validate_rules(policy)
        if base is not None:
            edited = trust.edited(settings, self.policies, WorkTree(self.root), tree)
            self.notices += [trust.notice(path) for path in edited]
        self.context = Context(self.root, settings, self.checks, git, base, self.options.env, self._hasher(git))
        self.context.deep = self.options.deep
        self.context.tree = tree
        self.context.overlay = dict(self.options.overlay)
        self.context.hook = self.hook
        env = self.options.env
        provider = settings.approvals.get("provider")
        if not provider and env.get("GITHUB_ACTIONS") == "true":
            provider = "github"  # pull-request reviews: what a workflow has to verify with
        self.context.approvals_provider = str(provider) if provider else None
        self.context.in_ci = self.options.ci if self.options.ci is not None else (
            env.get("CI", "").lower() in ("true", "1") or env.get("GITHUB_ACTIONS") == "true")

    def end(self) -> None:
        if self.context.hasher.cache is not None:
            self.context.hasher.cache.close()

    def plan(self, doc: ManifestDoc, removed: bool = False
             ) -> tuple[Policy | None, ManifestDoc | None, list[tuple[Check, Rule]]]:
        """What one manifest is checked against: its policy, its base version, its rules.
        ``removed``: ``doc`` is a base manifest gone from the work tree (see :meth:`removed`)."""
        policy = self._governing(doc.model.name if doc.model else None, self.policies)
        base = self.setup.base
        base_doc = doc if removed else base.match(doc) if base is not None else None
        return policy, base_doc, self._rules_for(doc, policy, removed=removed)

    def removed(self) -> list[ManifestDoc]:
        """Manifests of the base that the change deletes (none without a base)."""
        return self._removed(self.setup.base) if self.setup.base is not None else []

    def after(self, doc: ManifestDoc) -> list[tuple[Check, Rule]]:
        """The ``scope="after"`` checks for ``doc``: they run once its other checks have."""
        if doc.model is None:
            return []
        found = []
        for check in sorted(self.checks.values(), key=lambda c: c.id):
            if check.scope == "after" and self._selected(check):
                rule = Rule(check.id, check.stages, None, {}, "default")
                if rule.applies_to(doc.model.stage):
                    found.append((check, rule))
        return found

    def run_after(self, doc: ManifestDoc, policy: Policy | None, base_doc: ManifestDoc | None,
                  check: Check, rule: Rule, results: Iterable[Result]) -> list[Result]:
        """Run one ``scope="after"`` check, given the results of the manifest's other checks."""
        self._results_so_far = tuple(results)
        return self.run_one(doc, policy, base_doc, check, rule)

    def run_one(self, doc: ManifestDoc, policy: Policy | None, base_doc: ManifestDoc | None,
                check: Check, rule: Rule, removed: bool = False) -> list[Result]:
        """The results of one check under one rule on one manifest, waivers applied."""
        severity = rule.severity or check.severity
        results = []
        label = doc.label
        for finding in self._call(check, doc, policy, rule, base_doc, removed):
            if finding.position is None and finding.at is None:
                where = self._top_of(doc)
            else:
                line, column = finding.position or doc.location(finding.at)
                where = Loc(doc.path, line, column)
            hint = finding.hint or (check.hint if finding.outcome == "failed" else None)
            result = Result(check.id, check.name, finding.outcome, severity, doc.path, label, finding.message,
                            where, None, hint)
            results.append(self._waive(result, check, doc, policy) if finding.outcome == "failed" else result)
        return results

    def _top_of(self, doc: ManifestDoc) -> Loc:
        """The location of results about the whole file (most of them: every pass), made once
        per manifest: at 19 checks a manifest, building it each time showed in profiles."""
        if self._top is None or self._top.path != doc.path:
            line, column = doc.location(None)
            self._top = Loc(doc.path, line, column)
        return self._top

    def _hasher(self, git: GitRepo | None) -> Hasher:
        use = self.options.cache
        if use is None:
            use = self.options.env.get("CI", "").lower() not in ("true", "1")
        cache = HashCache(os.path.join(git.common_dir(), "modelgate", "hashes.sqlite")) if use and git else None
        hasher = Hasher(cache)
        if sys.stderr.isatty():
            hasher.progress = ProgressBars()
        return hasher

    def _judge(self, policies: list[Policy], started: float) -> Summary:
        env, git, base = self.options.env, self.setup.git, self.setup.base
        docs = self._collect(git, base)
        if base is not None:
            base.reuse(docs)
        if any(c.name == "artifact-hash" and self._selected(c) for c in self.checks.values()):
            # DVC records md5: where a dvc-artifact rule applies, one read gives both digests.
            self.context.hasher.md5_paths.update(
                p for d in docs if d.model is not None and any(
                    c.name == "dvc-artifact" for c, _ in self._rules_for(d, self._governing(d.model.name, policies),
                                                                           removed=False))
                for p in self._artifact_paths(d))
            self.context.hasher.prefetch(p for d in docs for p in self._artifact_paths(d))
        results: list[Result] = []
        infos: list[ManifestInfo] = []
        used: dict[str, PolicyInfo] = {}
        for doc in docs:
            governing = self._governing(doc.model.name if doc.model else None, policies)
            if governing is not None:
                used.update((f.path, f) for f in governing.files)
            base_doc = base.match(doc) if base is not None else None
            results.extend(self._check(doc, governing, base_doc))
            infos.append(_info(doc, base_doc))
        if isinstance(self.context.hasher.progress, ProgressBars):
            self.context.hasher.progress.close()
        if base is not None:
            for gone in self._removed(base):
                assert gone.model is not None
                governing = self._governing(gone.model.name, policies)
                results.extend(self._check(gone, governing, gone, removed=True))
        for policy in policies:
            used.update((f.path, f) for f in policy.files)
        if self.context.hasher.cache is not None:
            self.notices.extend(self.context.hasher.cache.warnings)
        return Summary(
            tool_version=__version__,
            results=tuple(results),
            manifests=tuple(infos),
            policies=tuple(used.values()),
            git=GitInfo(
                head=git.head() if git is not None else None,
                base=base.commit if base else None,
                merge_base=base.merge_base if base else None,
            ),
            duration=time.perf_counter() - started,
            strict=self.options.strict,
            # --changed and --shard may legitimately select nothing: nothing to gate is a pass.
            selection_may_be_empty=self.options.changed or self.options.shard is not None,
            notices=tuple(self.notices),
            checks=check_infos(self.checks.values(), results),
            started_at=self.started_at,
            ci=tuple((k, env[k]) for k in CI_VARIABLES if env.get(k)),
            approvals=self.context.verified_approvals(),
            rejected_approvals=self.context.rejected_approvals(),
        )

    # -- collection ---------------------------------------------------------------

    def _collect(self, git: GitRepo | None, base: Base | None) -> list[ManifestDoc]:
        if not self.options.paths:  # the whole repository: the registry, so it is listed once
            docs = {d.abspath: d for d in self.context.registry()}
        else:
            found = discovery.discover(self.root, list(self.options.paths), self.context.config.manifests)
            docs = {path: self.context.load(path) for path in found.manifests}
            if found.others:
                wanted = {os.path.realpath(p) for p in found.others}
                for doc in self.context.registry():
                    if doc.abspath not in docs and wanted.intersection(self._artifact_paths(doc)):
                        docs[doc.abspath] = doc
        if self.options.changed:
            docs = self._only_changed(docs, git, base)
        return sorted((d for d in docs.values() if self._in_shard(d.path)), key=lambda d: d.path)

    def _in_shard(self, path: str) -> bool:
        """Deterministic partition by path, so a CI matrix covers each manifest exactly once."""
        if self.options.shard is None:
            return True
        k, n = self.options.shard
        return int(hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest(), 16) % n == k - 1

    def _only_changed(
        self, docs: dict[str, ManifestDoc], git: GitRepo | None, base: Base | None
    ) -> dict[str, ManifestDoc]:
        """Manifests whose file or artifacts changed, plus the other versions of their models
        (exclusive stages and aliases span versions)."""
        if git is None:
            raise UsageError("--changed needs a git repository")
        changed = {os.path.realpath(os.path.join(self.root, p))
                   for p in git.changed_paths(base.merge_base if base else None)}
        kept = {
            path: doc for path, doc in docs.items()
            if os.path.realpath(path) in changed or changed.intersection(self._artifact_paths(doc))
        }
        names = {d.model.name for d in kept.values() if d.model is not None}
        for doc in self.context.registry():
            if doc.model is not None and doc.model.name in names:
                kept.setdefault(doc.abspath, doc)
        return kept

    def _artifact_paths(self, doc: ManifestDoc) -> set[str]:
        paths = set()
        for artifact in doc.model.artifacts if doc.model else ():
            try:
                paths.add(self.context.artifact_path(doc, artifact.path))
            except ArtifactPathError:
                continue
        return paths

    def _removed(self, base: Base) -> list[ManifestDoc]:
        """Base manifests whose name@version is gone from the work tree. A manifest edited in
        place to another version removes the old one; one that no longer loads is reported
        as invalid, not as removed."""
        head = self.context.registry()
        refs = {(d.model.name, d.model.version) for d in head if d.model is not None}
        paths = {d.path for d in head if d.model is None}
        return [
            d for d in base.manifests()
            if d.model is not None and (d.model.name, d.model.version) not in refs and d.path not in paths
            and self._in_shard(d.path)
        ]

    # -- policy and rules ---------------------------------------------------------

    def _governing(self, name: str | None, policies: list[Policy]) -> Policy | None:
        """The first listed policy whose ``match`` covers the model, else builtin:default."""
        if name is None:
            return None
        for policy in policies:
            if policy.governs(name):
                return policy
        if self._default is None:
            default = load_policies(["builtin:default"], self.tree)[0]
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

    def _rules_for(self, doc: ManifestDoc, policy: Policy | None, removed: bool) -> list[tuple[Check, Rule]]:
        key = (id(policy), doc.model.stage if doc.model else None, doc.model is None, removed)
        if key not in self._rule_cache:
            self._rule_cache[key] = self._select_rules(doc, policy, removed)
        return self._rule_cache[key]

    def _select_rules(self, doc: ManifestDoc, policy: Policy | None, removed: bool) -> list[tuple[Check, Rule]]:
        stage = doc.model.stage if doc.model else None
        pairs: list[tuple[Check, Rule]] = []
        mentioned = set()
        for rule in policy.rules if policy else ():
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
            if check.scope == "after" or (check.scope == "removed") != removed or not self._selected(check):
                continue
            needs_model = bool({"manifest", "policy"} & set(check.argnames))
            if doc.model is None and needs_model:
                continue
            if doc.model is not None and not rule.applies_to(stage):
                continue
            runnable.append((check, rule))
        return runnable

    # -- running ------------------------------------------------------------------

    def _check(self, doc: ManifestDoc, policy: Policy | None, base_doc: ManifestDoc | None,
               removed: bool = False) -> list[Result]:
        results = []
        for check, rule in self._rules_for(doc, policy, removed):
            results.extend(self.run_one(doc, policy, base_doc, check, rule, removed))
        if not removed and doc.model is not None:
            self._results_so_far = tuple(results)
            for check in sorted(self.checks.values(), key=lambda c: c.id):
                if check.scope == "after" and self._selected(check):
                    rule = Rule(check.id, check.stages, None, {}, "default")
                    if rule.applies_to(doc.model.stage):
                        results.extend(self.run_one(doc, policy, base_doc, check, rule))
        return results

    def _call(self, check: Check, doc: ManifestDoc, policy: Policy | None, rule: Rule,
              base_doc: ManifestDoc | None, removed: bool) -> list[Finding]:
        kwargs = {name: self._argument(name, check, doc, policy, rule, base_doc, removed) for name in check.argnames}
        findings: list[Finding] = []
        note = None
        try:
            returned = check.func(**kwargs)
            if isinstance(returned, str):
                note = returned
            elif returned is not None and hasattr(returned, "__next__"):
                while True:
                    try:
                        findings.append(Finding.of(next(returned)))
                    except StopIteration as stop:
                        note = stop.value if isinstance(stop.value, str) else None
                        break
        except Fail as exc:
            findings.append(Finding.of(exc))
        except Skip as exc:
            return [Finding("skipped", str(exc) or "skipped")]
        except AssertionError as exc:
            message, at = assertion.explain(exc, check.func)
            findings.append(Finding("failed", message, at))
        except ModelgateError:
            raise  # a configuration problem found while checking (a broken schema file): exit 4
        except Exception as exc:  # a crashing plugin is an error result, never a pass
            if self.options.traceback:
                import traceback

                traceback.print_exc(file=sys.stderr)
            where = f"plugin {check.plugin!r}" if check.plugin else "its plugin"
            return [Finding("error", f"check crashed in {where}: {type(exc).__name__}: {exc}",
                            hint="report this to the plugin's authors; run with --traceback for details")]
        return findings or [Finding("passed", note) if note else _PASSED]

    def _argument(self, name: str, check: Check, doc: ManifestDoc, policy: Policy | None, rule: Rule,
                  base_doc: ManifestDoc | None, removed: bool) -> Any:
        """The value of the check's parameter ``name`` (see checkapi.ARGUMENTS)."""
        if name == "manifest":
            return None if removed else doc.model
        if name == "doc":
            return None if removed else doc
        if name == "base_manifest":
            return base_doc.model if base_doc else None
        if name == "base_doc":
            return base_doc
        if name == "context":
            return self.context
        if name == "policy":
            return policy
        if name == "params":
            return self._validated_params(check, rule)
        if name == "results":
            return self._results_so_far
        raise KeyError(name)  # checkapi refuses other names when the check is declared

    def _waive(self, result: Result, check: Check, doc: ManifestDoc, policy: Policy | None) -> Result:
        if result.outcome != "failed" or policy is None or doc.model is None:
            return result
        if not (check.waivable or check.id in policy.waivable or check.name in policy.waivable):
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


def _info(doc: ManifestDoc, base_doc: ManifestDoc | None) -> ManifestInfo:
    model = doc.model
    base_model = base_doc.model if base_doc else None
    rows = []
    if model is not None:
        before = base_model.metrics if base_model else {}
        for name in sorted(set(model.metrics) | set(before)):
            mine, theirs = model.metrics.get(name), before.get(name)
            goal = (mine.goal if mine else None) or (theirs.goal if theirs else None)
            rows.append(MetricRow(name, mine.value if mine else None, theirs.value if theirs else None, goal))
    return ManifestInfo(
        doc.path,
        model.name if model else None,
        model.version if model else None,
        model.stage if model else None,
        base_model.stage if base_model else None,
        doc.sha256,
        tuple(rows),
    )


CI_VARIABLES = ("GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_ACTOR",
                "GITHUB_EVENT_NAME", "GITHUB_SHA", "GITHUB_REF", "GITHUB_WORKFLOW", "GITHUB_SERVER_URL")


def check_infos(checks: Iterable[Check], results: Iterable[Result]) -> tuple[CheckInfo, ...]:
    ran = {r.check for r in results}
    return tuple(
        CheckInfo(c.id, c.name, c.summary, c.explain, c.hint, c.severity, c.plugin)
        for c in sorted(checks, key=lambda c: c.id) if c.id in ran
    )
