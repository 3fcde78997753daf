"""Run the gate inside pytest: manifests collected as test items, one per (manifest, check).

Off unless ``pytest --modelgate`` or ``modelgate = true`` in the pytest ini. Node ids look
like ``models/fraud/modelgate.yaml::MG301[auc]``, so ``-k``, ``-x``, ``--junit-xml`` and
pytest-xdist work as for any test; ``-k`` matches the check's name too (``-k
artifact-hash``). The fixtures ``modelgate_context``,
``modelgate_manifests`` and ``modelgate_manifest`` (parametrized over every manifest) let
teams write governance rules as ordinary pytest tests. Importing this module costs
nothing: modelgate itself is imported only when a manifest is collected or a fixture used.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from modelgate.checkapi.decorator import Check
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.datamodel.policy import Policy, Rule
    from modelgate.datamodel.results import Result
    from modelgate.pipeline.context import Context
    from modelgate.pipeline.session import Session

_RUN = pytest.StashKey["Session"]()
_BROKEN = pytest.StashKey[str]()
_FOUND = pytest.StashKey["set[str]"]()
# Results of the items run in this process, by node id: "after" checks (stale waivers)
# read the results of the manifest's other checks.
_DONE = pytest.StashKey["dict[str, list[Result]]"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("modelgate", "model governance (modelgate)")
    group.addoption(
        "--modelgate",
        action="store_true",
        default=False,
        help="collect model manifests as tests, one per manifest and check",
    )
    group.addoption(
        "--modelgate-base",
        metavar="REF",
        default=None,
        help="compare with REF, like `modelgate check --base REF` (default: as modelgate check:"
        " the pull request's base, else config `base`)",
    )
    parser.addini("modelgate", type="bool", default=False, help="collect model manifests as tests (--modelgate)")


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("modelgate") or config.getini("modelgate"))


def _session(config: pytest.Config) -> Session:
    """One modelgate session per pytest run, built on first use.

    A configuration error (a bad policy, a rule naming a check no plugin provides) fails
    whatever asked for the session with modelgate's one-line message, never a traceback.
    """
    if _BROKEN in config.stash:
        pytest.fail(config.stash[_BROKEN], pytrace=False)
    if _RUN not in config.stash:
        from modelgate.errors import ModelgateError

        try:
            config.stash[_RUN] = _build(config)
        except ModelgateError as exc:
            from modelgate.escaping import error_lines

            config.stash[_BROKEN] = "\n".join(f"modelgate: error: {line}" for line in error_lines(exc))
            pytest.fail(config.stash[_BROKEN], pytrace=False)
    return config.stash[_RUN]


def _build(config: pytest.Config) -> Session:
    import contextlib

    from modelgate.pipeline.session import open_session
    from modelgate.pipeline.workspace import Options, find_root
    from modelgate.plugins import make_plugin_manager

    # pytest's own `-p no:NAME` disables modelgate's plugin NAME too, as `modelgate check -p no:NAME` does.
    disabled = [value[3:] for value in config.option.plugins or () if value.startswith("no:")]
    pm = make_plugin_manager(disabled)
    options = Options(base=config.getoption("modelgate_base"), env=dict(os.environ))
    stack = contextlib.ExitStack()
    session = stack.enter_context(open_session(options, pm, disabled, find_root([str(config.rootpath)])))
    config.add_cleanup(stack.close)
    return session


def pytest_sessionstart(session: pytest.Session) -> None:
    """With --modelgate, a configuration error stops the run before collection (exit 4, as
    ``modelgate check`` does), instead of failing every manifest file."""
    if _enabled(session.config):
        try:
            _session(session.config)
        except pytest.fail.Exception as exc:
            raise pytest.UsageError(exc.msg) from None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if not _enabled(parent.config):
        return None
    from modelgate.pipeline.discovery import is_manifest_name

    if not is_manifest_name(file_path.name):
        return None
    # The manifests `modelgate check` would find (config `manifests:` globs, nothing git
    # ignores), and any manifest named on the command line.
    config = parent.config
    if _FOUND not in config.stash:
        config.stash[_FOUND] = {d.abspath for d in _session(config).context.registry()}
    if not parent.session.isinitpath(file_path) and str(file_path) not in config.stash[_FOUND]:
        return None
    return ManifestFile.from_parent(parent, path=file_path)


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect items
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Manifests the change deletes have no file to collect; their checks (a production
    model must not be deleted) become items of the session, as in ``modelgate check``."""
    if not _enabled(config):
        return
    run = _session(config)
    roots = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
    for doc in run.removed():
        where = Path(run.root, doc.path)
        if not any(root == where or root in where.parents for root in roots):
            continue
        collector = RemovedManifest.from_parent(session, path=where, doc=doc)
        # Reported like any collected file, so counts, -k and -x treat its items as usual.
        report = collector.ihook.pytest_make_collect_report(collector=collector)
        collector.ihook.pytest_collectreport(report=report)
        items.extend(node for node in report.result if isinstance(node, pytest.Item))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """modelgate's notices (an edited policy that takes effect after merge, ...)."""
    if _RUN in config.stash and config.stash[_RUN].notices:
        terminalreporter.section("modelgate notices")
        from modelgate.escaping import terminal

        for notice in config.stash[_RUN].notices:
            terminalreporter.write_line(terminal(notice))


class ManifestFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        session = _session(self.config)
        doc = session.context.load(str(self.path))
        policy, base_doc, rules = session.plan(doc)
        named = list(_named(rules))
        for name, check, rule in named:
            yield CheckItem.from_parent(
                self, name=name, doc=doc, policy=policy, base_doc=base_doc, check=check, rule=rule
            )
        for check, rule in session.after(doc):
            yield CheckItem.from_parent(
                self, name=check.id, doc=doc, policy=policy, base_doc=base_doc, check=check, rule=rule, others=named
            )


class RemovedManifest(pytest.File):
    """A manifest of the base that the change deletes: its file is gone, its checks are not."""

    def __init__(self, *, doc: ManifestDoc, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.doc = doc

    def collect(self) -> Iterator[pytest.Item]:
        policy, base_doc, rules = _session(self.config).plan(self.doc, removed=True)
        for name, check, rule in _named(rules):
            yield CheckItem.from_parent(
                self, name=name, doc=self.doc, policy=policy, base_doc=base_doc, check=check, rule=rule, removed=True
            )


def _named(rules: list[tuple[Check, Rule]]) -> Iterator[tuple[str, Check, Rule]]:
    """Unique item names: the check id, the rule's parameter when several rules run it."""
    seen: dict[str, int] = {}
    for check, rule in rules:
        name = check.id + _label(rule)
        seen[name] = seen.get(name, 0) + 1
        yield (f"{name}#{seen[name]}" if seen[name] > 1 else name), check, rule


def _label(rule: Rule) -> str:
    """A bracketed parameter telling several runs of one check apart: MG301[auc]."""
    return f"[{rule.label}]" if rule.label else ""


def _describe(r: Result) -> str:
    kind = "crashed" if r.outcome == "error" else r.severity
    return f"{r.location.path}:{r.location.line}:{r.location.column}: {r.check} {r.name} ({kind}): {r.message}"


class ModelgateWarning(UserWarning):
    """A failed check of severity ``warning``: reported, and the test passes."""


class ModelgateFailure(Exception):
    def __init__(self, results: list[Result]) -> None:
        super().__init__("\n".join(r.message for r in results))
        self.results = results


class CheckItem(pytest.Item):
    def __init__(
        self,
        *,
        doc: ManifestDoc,
        policy: Policy | None,
        base_doc: ManifestDoc | None,
        check: Check,
        rule: Rule,
        removed: bool = False,
        others: list[tuple[str, Check, Rule]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.doc, self.policy, self.base_doc, self.check, self.rule = doc, policy, base_doc, check, rule
        self.removed = removed
        self.others = others  # for an "after" check: the manifest's other items
        self.user_properties.append(("check", f"{check.id} {check.name}"))
        # `-k artifact-hash` selects by the check's name as `-k MG102` does by its id.
        self.extra_keyword_matches.add(check.name)

    def runtest(self) -> None:
        results = self._results()
        failing = [r for r in results if r.fails]
        if failing:
            raise ModelgateFailure(failing)
        for r in results:
            if r.is_warning:  # as `modelgate check`: reported, not failing (-W error makes it fail)
                warnings.warn(ModelgateWarning(_describe(r)), stacklevel=1)
        if results and all(r.outcome == "skipped" for r in results):
            pytest.skip(results[0].message)

    def _results(self) -> list[Result]:
        session = _session(self.config)
        done = self.config.stash.setdefault(_DONE, {})
        if self.others is None:
            results = session.run_one(self.doc, self.policy, self.base_doc, self.check, self.rule, self.removed)
            done[self.nodeid] = results
            return results
        # Deselected with -k, or run on another xdist worker: run the others here too.
        others = []
        for name, check, rule in self.others:
            found = done.get(f"{self.parent.nodeid}::{name}") if self.parent else None
            others.extend(
                found if found is not None else session.run_one(self.doc, self.policy, self.base_doc, check, rule)
            )
        return session.run_after(self.doc, self.policy, self.base_doc, self.check, self.rule, others)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if not isinstance(excinfo.value, ModelgateFailure):
            return super().repr_failure(excinfo)
        from modelgate.escaping import terminal

        lines = []
        for r in excinfo.value.results:
            lines.append(terminal(_describe(r)))
            if r.hint:
                lines.append(terminal(f"    hint: {r.hint}"))
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.doc.label}: {self.check.id} {self.check.name}"


@pytest.fixture(scope="session")
def modelgate_context(request: pytest.FixtureRequest) -> Context:
    """The modelgate context of this repository: registry, git, base, hasher."""
    return _session(request.config).context


@pytest.fixture(scope="session")
def modelgate_manifests(modelgate_context: Context) -> list[Manifest]:
    """Every valid manifest in the repository."""
    return [d.model for d in modelgate_context.registry() if d.model is not None]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``modelgate_manifest``: a test runs once per manifest, with the manifest's path as id."""
    if "modelgate_manifest" not in metafunc.fixturenames:
        return
    docs = [d for d in _session(metafunc.config).context.registry() if d.model is not None]
    metafunc.parametrize("modelgate_manifest", [d.model for d in docs], ids=[d.path for d in docs])
