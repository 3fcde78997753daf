"""One ``modelgate check`` run: discover -> load -> base -> policy -> rules -> checks -> summary.

Data flows one way. The session owns the plumbing; what is checked lives in plugins.
With a base, config and policies are read from the base commit (never from the change
under review), and every manifest is paired with its version at the merge-base.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from modelgate import __version__
from modelgate.checkapi.decorator import Check
from modelgate.checkapi.invocation import Finding, invoke
from modelgate.datamodel.manifest import ManifestDoc
from modelgate.datamodel.policy import Policy, Rule, Waiver
from modelgate.datamodel.results import GitInfo, ManifestInfo, PolicyInfo, Readiness, Result, Summary
from modelgate.datamodel.results import Location as Loc
from modelgate.errors import UsageError
from modelgate.git.repo import GitRepo
from modelgate.git.trees import WorkTree
from modelgate.hashing.digest import Hasher
from modelgate.hashing.progress import ProgressBars
from modelgate.pipeline import ahead, readiness, trust, waivers
from modelgate.pipeline.ci import in_ci
from modelgate.pipeline.collection import Collection
from modelgate.pipeline.context import AuditLog, Context
from modelgate.pipeline.rules import RuleSet, load_policies
from modelgate.pipeline.summary import CI_VARIABLES, check_infos, manifest_info
from modelgate.pipeline.workspace import Options, Setup, find_root, prepare

if TYPE_CHECKING:
    import pluggy


@contextmanager
def open_session(
    options: Options,
    pm: pluggy.PluginManager,
    disabled: Iterable[str] = (),
    root: str | None = None,
    setup: Setup | None = None,
) -> Iterator[Session]:
    """The one way to run checks: prepare the workspace, load the configured plugins, begin
    the session; on the way out, errors included, close what was opened.

    ``modelgate check``, ``modelgate promote`` and the pytest plugin all open their session
    here, so they see the same plugins, providers and trusted tree. ``setup``: the
    workspace prepared already for these options (``check`` begins it while the plugins
    load), closed here like one prepared here.
    """
    from modelgate.plugins import collect_checks, load_configured

    if setup is None:
        setup = prepare(options, root if root is not None else find_root(list(options.paths)))
    try:
        load_configured(pm, setup.config.plugins, setup.tree, set(disabled))
        session = Session(options, collect_checks(pm), setup, pm.hook)
        try:
            session.begin()
            yield session
        finally:
            session.end()
    finally:
        setup.close()


class Session:
    """One check run over one workspace: :meth:`begin`, then :meth:`run` (or, as the pytest
    plugin does, :meth:`plan` and :meth:`run_one` per manifest), then :meth:`end`."""

    def __init__(self, options: Options, checks: Mapping[str, Check], setup: Setup, hook: Any = None) -> None:
        self.hook = hook
        self.options = options
        self.checks = checks
        self.setup = setup
        self.root = setup.root
        self.audit = AuditLog()
        self.notices: list[str] = []
        self._hashes: Hasher | None = None
        self._top: Loc | None = None
        self._label: tuple[ManifestDoc, str] | None = None

    def run(self) -> Summary:
        """Check every selected manifest; after :meth:`begin`."""
        with _collecting_rarely():
            return self._judge(self.policies, time.perf_counter())

    def begin(self) -> None:
        """Load and validate the policies and build the context; before plan/run_one."""
        self.started_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        git, base, tree, settings = self.setup.git, self.setup.base, self.setup.tree, self.setup.config
        hasher = self._hashes = self._hasher(git)
        if hasher.cache is None and not self.options.changed:
            # No verdicts (CI) and a run over every manifest (or a shard of them): each will
            # be validated, so pydantic's schema is built while git answers. (A --changed
            # run may have nothing to check: it imports pydantic only when it has.)
            from modelgate.datamodel import validation
            from modelgate.datamodel.manifest import Manifest

            validation.prepare(Manifest)
        if base is not None:
            base.verdicts = hasher.cache
        self.rules = RuleSet(self.checks, self.options.select, self.options.ignore, tree, hasher.cache)
        self.preview = readiness.Preview(self.rules, self.run_one)
        self.policies = load_policies(settings.policies, tree, hasher.cache, self.rules.traits)
        for policy in self.policies:
            self.rules.validate(policy)
        # An extending policy that replaced an inherited rule says so in every run.
        self.notices += dict.fromkeys(n for policy in self.policies for n in policy.replacements)
        named = self.rules.providers_named(self.policies)
        if settings.approvals.get("provider"):
            named.insert(0, ("configuration approvals.provider", str(settings.approvals["provider"])))
        if named and self.hook is not None:
            from modelgate.approvals.evidence import require_installed

            require_installed(named, self.hook.modelgate_approval_providers())
        added: dict[str, tuple[Waiver, ...]] = {}  # policy path -> waivers the change adds
        if base is not None:
            edited = trust.edited(settings, self.policies, WorkTree(self.root), tree)
            self.notices += [trust.notice(path) for path in edited]
            if edited:
                added = waivers.added(self.policies, settings.policies, WorkTree(self.root), hasher.cache)
        env = self.options.env
        provider = settings.approvals.get("provider")
        if not provider and env.get("GITHUB_ACTIONS") == "true":
            provider = "github"  # pull-request reviews: what a workflow has to verify with
        self.context = Context(
            root=self.root,
            config=settings,
            checks=self.checks,
            tree=tree,
            git=git,
            base=base,
            env=env,
            hasher=hasher,
            deep=self.options.deep,
            overlay=dict(self.options.overlay),
            hook=self.hook,
            approvals_provider=str(provider) if provider else None,
            in_ci=in_ci(self.options.ci, env),
        )
        self.waiving = waivers.Waiving(self.context, added, self.notices)
        if base is not None:
            # The base stands for its unchanged manifests by the work tree's.
            base.attach(self.context.index)
        self.collection = Collection(self.options, self.context, self.rules, self.policies)

    def end(self) -> None:
        """Close the hash cache and clear the progress bars; safe after a :meth:`begin`
        that failed half-way, and on Ctrl-C (a bar left standing would hide the message
        under it, and the terminal's cursor with it)."""
        context: Context | None = getattr(self, "context", None)  # None: begin failed before it
        if context is not None:
            context.close()
        if self._hashes is not None and isinstance(self._hashes.progress, ProgressBars):
            self._hashes.progress.close()
        if self._hashes is not None and self._hashes.cache is not None:
            self._hashes.cache.close()

    def policy_for(self, name: str) -> Policy | None:
        """The policy that governs model ``name`` (the first whose ``match`` covers it)."""
        return self.rules.governing(name, self.policies)

    def plan(
        self, doc: ManifestDoc, removed: bool = False
    ) -> tuple[Policy | None, ManifestDoc | None, list[tuple[Check, Rule]]]:
        """What one manifest is checked against: its policy, its base version, its rules.
        ``removed``: ``doc`` is a base manifest gone from the work tree (see :meth:`removed`)."""
        policy = self.rules.governing(doc.model.name if doc.model else None, self.policies)
        base = self.setup.base
        base_doc = doc if removed else base.match(doc) if base is not None else None
        return policy, base_doc, self.rules.for_doc(doc, policy, removed=removed)

    def removed(self) -> list[ManifestDoc]:
        """Manifests of the base that the change deletes (none without a base)."""
        return self.collection.removed(self.setup.base) if self.setup.base is not None else []

    def after(self, doc: ManifestDoc) -> list[tuple[Check, Rule]]:
        """The ``scope="after"`` checks for ``doc``: they run once its other checks have."""
        return self.rules.after(doc)

    def run_after(
        self,
        doc: ManifestDoc,
        policy: Policy | None,
        base_doc: ManifestDoc | None,
        check: Check,
        rule: Rule,
        results: Iterable[Result],
    ) -> list[Result]:
        """Run one ``scope="after"`` check, given the results of the manifest's other checks."""
        self._results_so_far = tuple(results)
        return self.run_one(doc, policy, base_doc, check, rule)

    def run_one(
        self,
        doc: ManifestDoc,
        policy: Policy | None,
        base_doc: ManifestDoc | None,
        check: Check,
        rule: Rule,
        removed: bool = False,
    ) -> list[Result]:
        """The results of one check under one rule on one manifest, waivers applied."""
        severity = rule.severity or check.severity
        results = []
        label, rule_label = self._label_of(doc), rule.label
        for finding in self._call(check, doc, policy, rule, base_doc, removed):
            if finding.position is None and finding.at is None:
                where = self._top_of(doc)
            else:
                line, column = finding.position or doc.location(finding.at)
                where = Loc(doc.path, line, column)
            hint = finding.hint or (check.hint if finding.outcome == "failed" else None)
            # A finding may only lower its severity (a deadline near, not yet passed).
            level = "warning" if finding.severity == "warning" else severity
            result = Result(
                check.id,
                check.name,
                finding.outcome,
                level,
                doc.path,
                label,
                finding.message,
                where,
                None,
                hint,
                finding.reason,
                rule_label,
            )
            results.append(self.waiving.apply(result, check, doc, policy) if finding.outcome == "failed" else result)
        return results

    def _top_of(self, doc: ManifestDoc) -> Loc:
        """The location of results about the whole file (most of them: every pass), made once
        per manifest: at 19 checks a manifest, building it each time showed in profiles."""
        if self._top is None or self._top.path != doc.path:
            line, column = doc.location(None)
            self._top = Loc(doc.path, line, column)
        return self._top

    def _label_of(self, doc: ManifestDoc) -> str:
        """``name@version`` (or the path), made once per manifest and shared by its results:
        a copy in each of a registry's results showed in memory."""
        if self._label is None or self._label[0] is not doc:
            self._label = (doc, doc.label)
        return self._label[1]

    def _hasher(self, git: GitRepo | None) -> Hasher:
        # CI never opens the cache, whatever asks: in CI the checkout (and possibly what ran
        # before the gate) is the change under review, and a remembered digest or verdict
        # is one it could have planted. Every artifact is hashed, every document validated.
        use = self.options.cache
        if in_ci(self.options.ci, self.options.env):
            if use:
                raise UsageError(
                    "--cache: the hash cache is never used in CI (CI, GITHUB_ACTIONS or --ci); drop --cache"
                )
            use = False
        elif use is None:
            use = True
        cache = None
        if use and git:
            from modelgate.hashing.cache import HashCache  # here: CI never opens it (sqlite3 is 2 ms to import)

            cache = HashCache(os.path.join(git.common_dir(), "modelgate", "hashes.sqlite"))
        hasher = Hasher(cache)
        if sys.stderr.isatty():
            hasher.progress = ProgressBars()
        return hasher

    def _judge(self, policies: list[Policy], started: float) -> Summary:
        env, git, base = self.options.env, self.setup.git, self.setup.base
        docs = self.collection.manifests(git, base)
        # What was loaded lives to the end of the run: the garbage collector need not
        # look at it again (a quarter of a large run went to that).
        gc.freeze()
        # The models checked: the rules that look across manifests and into the history ask
        # about these names, and the bytes are searched for all of them in one pass.
        self.context.index.expect(d.model.name for d in docs if d.model is not None)
        if base is not None:
            base.expect((d.model.name, d.model.version) for d in docs if d.model is not None)
        base_docs: list[ManifestDoc | None] = [base.match(doc) if base is not None else None for doc in docs]
        ahead.ask_approvals(self.rules, self.context, docs, base_docs, policies)
        ahead.hash_files(self.rules, self.context, docs, policies)
        results: list[Result] = []
        infos: list[ManifestInfo] = []
        ready: list[Readiness] = []
        used: dict[str, PolicyInfo] = {}
        for doc, base_doc in zip(docs, base_docs, strict=True):
            governing = self.rules.governing(doc.model.name if doc.model else None, policies)
            if governing is not None:
                used.update((f.path, f) for f in governing.files)
            found = self._check(doc, governing, base_doc)
            results.extend(found)
            infos.append(manifest_info(doc, base_doc, self.audit.comparisons(doc.path), found))
            ready.extend(self.preview.of(doc, governing, base_doc))
        if isinstance(self.context.hasher.progress, ProgressBars):
            self.context.hasher.progress.close()
        if base is not None:
            for gone in self.collection.removed(base):
                assert gone.model is not None
                governing = self.rules.governing(gone.model.name, policies)
                results.extend(self._check(gone, governing, gone, removed=True))
        for policy in policies:
            used.update((f.path, f) for f in policy.files)
        if base is not None:
            self.notices.extend(base.unreadable_history())
        if self.context.hasher.cache is not None:
            self.context.hasher.cache.flush()  # now, so that a failed write is in the notices
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
            approvals=self.audit.counted,
            rejected_approvals=self.audit.refused,
            readiness=tuple(ready),
        )

    # -- running ------------------------------------------------------------------

    def _check(
        self, doc: ManifestDoc, policy: Policy | None, base_doc: ManifestDoc | None, removed: bool = False
    ) -> list[Result]:
        results = []
        for check, rule in self.rules.for_doc(doc, policy, removed):
            found = self.run_one(doc, policy, base_doc, check, rule, removed)
            results.extend(found if removed else readiness.before_promotion(check, rule, doc, base_doc, found))
        if not removed and doc.model is not None:
            self._results_so_far = tuple(results)
            for check, rule in self.rules.after(doc):
                results.extend(self.run_one(doc, policy, base_doc, check, rule))
        return results

    def _call(
        self,
        check: Check,
        doc: ManifestDoc,
        policy: Policy | None,
        rule: Rule,
        base_doc: ManifestDoc | None,
        removed: bool,
    ) -> list[Finding]:
        kwargs = {name: self._argument(name, check, doc, policy, rule, base_doc, removed) for name in check.argnames}
        return invoke(check, kwargs, self.options.traceback)

    def _argument(
        self,
        name: str,
        check: Check,
        doc: ManifestDoc,
        policy: Policy | None,
        rule: Rule,
        base_doc: ManifestDoc | None,
        removed: bool,
    ) -> Any:
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
            return self.rules.params(check, rule)
        if name == "results":
            return self._results_so_far
        if name == "audit":
            return self.audit
        raise KeyError(name)  # checkapi refuses other names when the check is declared


@contextmanager
def _collecting_rarely() -> Iterator[None]:
    """A run allocates millions of small objects that live to its end and leaves few
    cycles behind: the garbage collector's default pace (a young collection every 700
    allocations) cost a fifth of a large run. Restored, and the frozen objects released to
    the collector, when the run ends."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
