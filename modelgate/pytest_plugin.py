"""Run the gate inside pytest: manifests collected as test items, one per (manifest, check).

Off unless ``pytest --modelgate`` or ``modelgate = true`` in the pytest ini. Node ids look
like ``models/fraud/modelgate.yaml::MG301[auc]``, so ``-k``, ``-x``, ``--junit-xml`` and
pytest-xdist work as for any test. The fixtures ``modelgate_context``,
``modelgate_manifests`` and ``modelgate_manifest`` (parametrized over every manifest) let
teams write governance rules as ordinary pytest tests. Importing this module costs
nothing: modelgate itself is imported only when a manifest is collected or a fixture used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from modelgate.checkapi import Check
    from modelgate.context import Context
    from modelgate.manifest import Manifest, ManifestDoc
    from modelgate.policy import Policy, Rule
    from modelgate.results import Result
    from modelgate.session import Session

_RUN = pytest.StashKey["Session"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("modelgate", "model governance (modelgate)")
    group.addoption("--modelgate", action="store_true", default=False,
                    help="collect model manifests as tests, one per manifest and check")
    group.addoption("--modelgate-base", metavar="REF", default=None,
                    help="compare with REF, like `modelgate check --base`")
    parser.addini("modelgate", type="bool", default=False, help="collect model manifests as tests (--modelgate)")


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("modelgate") or config.getini("modelgate"))


def _session(config: pytest.Config) -> Session:
    """One modelgate session per pytest run, built on first use."""
    if _RUN not in config.stash:
        from modelgate.discovery import find_root
        from modelgate.plugins import collect_checks, load_configured, make_plugin_manager
        from modelgate.session import Options, Session, prepare

        options = Options(base=config.getoption("modelgate_base"), env=dict(os.environ))
        setup = prepare(options, find_root([str(config.rootpath)]))
        config.add_cleanup(setup.close)
        pm = make_plugin_manager()
        load_configured(pm, setup.config.plugins, setup.tree, set())
        session = Session(options, collect_checks(pm), setup)
        session.begin()
        config.add_cleanup(session.end)
        config.stash[_RUN] = session
    return config.stash[_RUN]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if not _enabled(parent.config):
        return None
    from modelgate.discovery import is_manifest_name

    if not is_manifest_name(file_path.name):
        return None
    return ManifestFile.from_parent(parent, path=file_path)


class ManifestFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        session = _session(self.config)
        doc = session.context.load(str(self.path))
        policy, base_doc, rules = session.plan(doc)
        seen: dict[str, int] = {}
        for check, rule in rules:
            name = check.id + _label(rule)
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name}#{seen[name]}"
            yield CheckItem.from_parent(self, name=name, doc=doc, policy=policy, base_doc=base_doc,
                                        check=check, rule=rule)


def _label(rule: Rule) -> str:
    """A bracketed parameter telling several runs of one check apart: MG301[auc]."""
    for key in ("metric", "file"):
        value = rule.params.get(key)
        if isinstance(value, str):
            return f"[{value}]"
    stages = ",".join(rule.stages) if rule.stages and rule.origin != "default" else ""
    return f"[{stages}]" if stages else ""


class ModelgateFailure(Exception):
    def __init__(self, results: list[Result]) -> None:
        super().__init__("\n".join(r.message for r in results))
        self.results = results


class CheckItem(pytest.Item):
    def __init__(self, *, doc: ManifestDoc, policy: Policy | None, base_doc: ManifestDoc | None,
                 check: Check, rule: Rule, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.doc, self.policy, self.base_doc, self.check, self.rule = doc, policy, base_doc, check, rule
        self.user_properties.append(("check", f"{check.id} {check.name}"))

    def runtest(self) -> None:
        session = _session(self.config)
        results = session.run_one(self.doc, self.policy, self.base_doc, self.check, self.rule)
        failing = [r for r in results if r.outcome in ("failed", "error")]
        if failing:
            raise ModelgateFailure(failing)
        if results and all(r.outcome == "skipped" for r in results):
            pytest.skip(results[0].message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if not isinstance(excinfo.value, ModelgateFailure):
            return super().repr_failure(excinfo)
        from modelgate.escaping import terminal

        lines = []
        for r in excinfo.value.results:
            kind = "crashed" if r.outcome == "error" else r.severity
            lines.append(terminal(f"{r.location.path}:{r.location.line}:{r.location.column}: {r.check} {r.name}"
                                  f" ({kind}): {r.message}"))
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
