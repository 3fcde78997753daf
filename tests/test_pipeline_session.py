"""What a run reads: ``--changed`` and ``--shard`` parse only their models' manifests, at the
work tree, at the merge-base and in the base branch's history, and find what a full run finds
about them (counted through the ``parsed`` lists of the work index, the base and the history)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from modelgate.approvals.evidence import ApprovalRequest, Approvals
from modelgate.hookspecs import hookimpl
from modelgate.pipeline.session import open_session
from modelgate.pipeline.workspace import Options
from modelgate.plugins import make_plugin_manager
from tests.conftest import Repo, staging_fields

MODELS = 10
CHANGED = "model-05"


def _manifest(
    repo: Repo, folder: str, name: str, version: str, stage: str = "staging", weights: bytes | None = None, **extra: Any
) -> None:
    """A manifest as people write them (a ``name:`` line, which is what shards go by)."""
    content = weights if weights is not None else f"weights of {name} {version}".encode()
    repo.write(f"{folder}/model.bin", content)
    data = {
        "apiVersion": "modelgate/v1",
        "kind": "Model",
        "name": name,
        "version": version,
        "owners": ["@acme/ml"],
        "artifacts": [{"path": "model.bin", "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}],
        **staging_fields(stage=stage),
        **extra,
    }
    repo.write(f"{folder}/modelgate.yaml", yaml.safe_dump(data, sort_keys=False))


def _monorepo(repo: Repo) -> None:
    """Ten models with a history of version bumps on main, one malformed old state of the
    model the change touches, and failures of their own: an artifact that does not match
    (model-02), a manifest that is no manifest (model-07), a second production version of
    one model (model-08). The change (branch ``change``) moves model-05 to a new version in
    a second folder, next to its old one."""
    for index in range(MODELS):
        _manifest(repo, f"models/m{index:02d}", f"model-{index:02d}", "1.0.0")
    repo.commit("the registry")
    for index in range(0, MODELS, 3):
        _manifest(repo, f"models/m{index:02d}", f"model-{index:02d}", "1.1.0")
        repo.commit(f"model-{index:02d} 1.1.0")
    # A state of model-05 that cannot be read, once, at the version the change brings.
    repo.write("models/m05/modelgate.yaml", 'name: model-05\nversion: "1.2.0"\nstage: [staging\n')
    repo.commit("model-05: a broken edit")
    _manifest(repo, "models/m05", CHANGED, "1.0.0")
    repo.commit("model-05: the edit undone")
    _manifest(repo, "models/m08", "model-08", "1.0.0", stage="production")
    _manifest(repo, "models/m08b", "model-08", "0.9.0", stage="production")
    repo.write("models/m07/modelgate.yaml", "name: model-07\nversion: [1\n")
    repo.write("models/m02/model.bin", b"not the weights the manifest names")
    repo.commit("the failures")
    repo.git("checkout", "-q", "-b", "change")
    _manifest(repo, "models/m05-next", CHANGED, "1.2.0")
    repo.commit("model-05 1.2.0")


@dataclass
class Run:
    results: set[tuple[str, str, str, str]]  # (check, outcome, manifest, message)
    notices: list[str]
    work: list[str]  # the work tree's manifests parsed
    base: list[str]  # the merge-base's manifests parsed (those the work tree does not hold)
    history: list[str]  # paths of the history's states parsed


def _run(repo: Repo, monkeypatch: pytest.MonkeyPatch, plugins: tuple[object, ...] = (), **options: Any) -> Run:
    monkeypatch.chdir(repo.root)
    pm = make_plugin_manager(autoload=False)
    for plugin in plugins:
        pm.register(plugin)
    with open_session(Options(base="main", env={}, cache=False, **options), pm, root=str(repo.root)) as session:
        summary = session.run()
        base = session.setup.base
        assert base is not None
        history = base.history_read()
        return Run(
            {(r.check, r.outcome, r.manifest, r.message) for r in summary.results},
            list(summary.notices),
            list(session.context.index.parsed),
            list(base.parsed),
            [path for path, _ in history.parsed] if history is not None else [],
        )


def _of(run: Run, manifests: set[str]) -> set[tuple[str, str, str, str]]:
    return {result for result in run.results if result[2] in manifests}


def test_changed_parses_only_the_changed_model_and_finds_what_a_full_run_does(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _monorepo(repo)
    full = _run(repo, monkeypatch)
    changed = _run(repo, monkeypatch, changed=True)
    mine = {"models/m05/modelgate.yaml", "models/m05-next/modelgate.yaml"}
    # Its manifests at head (the new version and its rival, the old one), nothing else.
    assert sorted(changed.work) == sorted(mine)
    # The merge-base's side: the work tree holds m05's bytes unchanged; nothing else to parse.
    assert changed.base == []
    # Its history: the states of model-05 that may hold 1.2.0, the malformed one among them.
    assert changed.history and set(changed.history) <= {"models/m05/modelgate.yaml"}
    assert {r[2] for r in changed.results} == mine
    assert changed.results == _of(full, mine)
    # The malformed old state is reported by both, never a crash.
    broken = [n for n in changed.notices if "models/m05/modelgate.yaml as of commit" in n]
    assert len(broken) == 1 and broken[0] in full.notices, changed.notices
    # The full run reads everything (so the counters count), and its failures are real.
    assert len(full.work) == MODELS + 2
    assert {("MG102", "models/m02/modelgate.yaml"), ("MG001", "models/m07/modelgate.yaml")} <= {
        (r[0], r[2]) for r in full.results if r[1] in ("failed", "error")
    }, full.results


def test_a_change_the_base_side_must_parse_is_parsed_there_alone(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited manifest: its merge-base blob is parsed (the work tree's bytes differ),
    and no other base manifest."""
    _monorepo(repo)
    _manifest(
        repo,
        "models/m03",
        "model-03",
        "1.1.0",
        stage="production",
        lineage={**staging_fields()["lineage"], "environment": {"python": "3.11"}},
    )
    repo.commit("model-03 to production")
    changed = _run(repo, monkeypatch, changed=True)
    assert changed.base == ["models/m03/modelgate.yaml"]
    assert sorted(changed.work) == [
        "models/m03/modelgate.yaml",
        "models/m05-next/modelgate.yaml",
        "models/m05/modelgate.yaml",
    ]
    assert set(changed.history) <= {"models/m03/modelgate.yaml", "models/m05/modelgate.yaml"}
    full = _run(repo, monkeypatch)
    assert changed.results == _of(full, set(changed.work))


@pytest.mark.parametrize("n", [2, 3])
def test_each_shard_parses_only_its_models_and_the_shards_add_up_to_one_run(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    _monorepo(repo)
    full = _run(repo, monkeypatch)
    union: set[tuple[str, str, str, str]] = set()
    owners: dict[str, int] = {}
    for k in range(1, n + 1):
        shard = _run(repo, monkeypatch, shard=(k, n))
        checked = {r[2] for r in shard.results}
        # Parsed: exactly the manifests it checks, and only history of their models.
        assert set(shard.work) == checked, (k, shard.work, checked)
        assert set(shard.base) <= checked
        assert set(shard.history) <= checked
        for path in checked:
            assert path not in owners, f"{path} checked in shards {owners[path]} and {k}"
            owners[path] = k
        union |= shard.results
    assert union == full.results
    # A model's versions stay together (the rules across them see them all in one shard).
    assert owners["models/m08/modelgate.yaml"] == owners["models/m08b/modelgate.yaml"]
    assert owners["models/m05/modelgate.yaml"] == owners["models/m05-next/modelgate.yaml"]
    # The injected failures are in the union, each once.
    failing = {(r[0], r[2]) for r in union if r[1] in ("failed", "error")}
    assert ("MG102", "models/m02/modelgate.yaml") in failing and ("MG001", "models/m07/modelgate.yaml") in failing


class _Provider:
    """Approvals from nowhere, noting the thread that asked."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    @hookimpl
    def modelgate_approval_providers(self) -> list[str]:
        return ["test"]

    @hookimpl
    def modelgate_collect_approvals(self, request: ApprovalRequest) -> Approvals | None:
        self.threads.append(threading.current_thread())
        return Approvals("test") if request.provider == "test" else None


def test_approvals_are_asked_ahead_for_a_change_a_rule_asks_about_and_only_where_it_is_checked(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write(".modelgate.yaml", "approvals: {provider: test}\n")
    _monorepo(repo)  # model-08's production versions need approvals; model-05, which changes, does not
    unasked = _Provider()
    ran = _run(repo, monkeypatch, plugins=(unasked,))
    assert ("MG603", "passed", "models/m08/modelgate.yaml", "unchanged since the base") in ran.results
    assert unasked.threads == []  # no change a rule asks about: no provider asked, ahead or not
    _manifest(repo, "models/m08", "model-08", "1.0.1", stage="production")
    repo.commit("model-08 1.0.1")
    for options in ({}, {"changed": True}):
        provider = _Provider()
        ran = _run(repo, monkeypatch, plugins=(provider,), **options)
        asked = "needs 1 verified approval(s) for model-08@1.0.1 -> production, has 0"
        assert ("MG603", "failed", "models/m08/modelgate.yaml", asked) in ran.results
        assert len(provider.threads) == 1 and provider.threads[0] is not threading.current_thread()
    holding = []
    for k in (1, 2):  # only the shard that checks model-08 asks, ahead
        sharded = _Provider()
        ran = _run(repo, monkeypatch, plugins=(sharded,), shard=(k, 2))
        holds = any(r[2] == "models/m08/modelgate.yaml" for r in ran.results)
        assert len(sharded.threads) == (1 if holds else 0)
        assert all(thread is not threading.current_thread() for thread in sharded.threads)
        holding.append(holds)
    assert sorted(holding) == [False, True]
