"""In CI the base comes from the event payload, for every event, and the change under review
never chooses it: the installed command, with the variables and payload files GitHub Actions
gives a step."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from modelgate.errors import UsageError
from modelgate.pipeline import ci
from tests.conftest import MODELGATE, Repo, production_fields, staging_fields

HOSTILE_CONFIG = "policies: [loose.yaml]\nplugins: [evil.py]\nbase: HEAD\n"
LOOSE_POLICY = (
    "apiVersion: modelgate/v1\nkind: Policy\nname: loose\nstages: [staging, production]\n"
    "transitions: {staging: [production]}\n"
)


def _promotion(repo: Repo, marker: Path) -> tuple[str, str]:
    """main: a staging model; feature: its promotion with a worse metric, plus a config that
    names the change itself as the base, a policy without rules and a local plugin that
    leaves ``marker`` when imported. Returns (main, feature) commits."""
    repo.manifest("m", **production_fields(stage="staging"))
    base = repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **production_fields(metrics={"auc": {"value": 0.80, "goal": "maximize"}}))
    repo.write(".modelgate.yaml", HOSTILE_CONFIG)
    repo.write("loose.yaml", LOOSE_POLICY)
    repo.write("evil.py", f"import pathlib\npathlib.Path({str(marker)!r}).write_text('executed')\n")
    return base, repo.commit("promote, and judge me by my own rules")


def _payload(name: str, base: str, head: str) -> dict[str, Any]:
    pull = {"number": 7, "base": {"ref": "main", "sha": base}, "head": {"ref": "feature", "sha": head}}
    if name == "merge_group":
        return {
            "action": "checks_requested",
            "merge_group": {"head_sha": head, "base_sha": base, "base_ref": "refs/heads/main"},
        }
    if name == "push":
        return {"ref": "refs/heads/main", "before": base, "after": head, "deleted": False}
    return {"action": "submitted", "pull_request": pull}


def run_in_ci(
    repo: Repo, name: str | None, payload: Any, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``modelgate check`` as a GitHub Actions step runs it: GITHUB_ACTIONS, CI, the event's
    name and its payload file (``payload`` None: no file; a str: raw text)."""
    ci = {"GITHUB_ACTIONS": "true", "CI": "true"}
    if name is not None:
        ci["GITHUB_EVENT_NAME"] = name
    if payload is not None:
        path = repo.root.parent / "event.json"
        path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
        ci["GITHUB_EVENT_PATH"] = str(path)
    report = repo.root.parent / "r.json"
    report.unlink(missing_ok=True)
    proc = repo.run("check", "--json", str(report), *args, env={**ci, **(env or {})})
    assert "Traceback" not in proc.stderr
    return proc, json.loads(report.read_text()) if report.exists() else {}


@pytest.mark.parametrize(
    "name",
    [
        "pull_request",
        "pull_request_target",
        "pull_request_review",
        "pull_request_review_comment",
        "merge_group",
        "push",
    ],
)
def test_every_event_takes_the_base_from_its_payload(repo: Repo, tmp_path: Path, name: str) -> None:
    """pull_request_review has no GITHUB_BASE_REF, and the change's config says `base: HEAD`:
    the run still compares with the base the event names, by the base's policy, and the
    change's plugin never runs."""
    marker = tmp_path / "plugin-ran"
    base, head = _promotion(repo, marker)
    proc, report = run_in_ci(repo, name, _payload(name, base, head))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert not marker.exists()
    assert report["git"]["base"] == base
    assert [(p["path"], p["source"]) for p in report["policies"]] == [("builtin:default", "builtin")]
    failed = {r["name"] for r in report["results"] if r["outcome"] == "failed"}
    assert {"no-metric-regression", "promotion-immutable"} <= failed
    assert "the edit takes effect after merge" in proc.stdout


@pytest.mark.parametrize("name", ["merge_group", "push"])
def test_the_checkout_must_be_the_commit_the_event_is_about(repo: Repo, tmp_path: Path, name: str) -> None:
    """A merge queue's head_sha, a push's after: a verdict on another checkout would be
    reported as the verdict on that commit."""
    base, head = _promotion(repo, tmp_path / "plugin-ran")
    repo.git("checkout", "-q", "main")
    proc, _ = run_in_ci(repo, name, _payload(name, base, head))
    assert (proc.returncode, proc.stdout) == (4, ""), proc.stdout + proc.stderr
    assert proc.stderr == (
        f"modelgate: error: the {name} event is about commit {head} but the checkout is {base}:"
        " check out the event's commit (actions/checkout does by default)\n"
    )


@pytest.mark.parametrize(
    ("name", "payload", "says"),
    [
        (
            "pull_request_review",
            {"pull_request": {"number": 7, "base": {"ref": "main"}}},
            "the pull_request_review event payload ({event}) has no pull_request.base.sha: the base cannot be"
            " determined; pass --base REF",
        ),
        ("pull_request_target", {"number": 7}, "has no pull_request.base.sha"),
        (
            "merge_group",
            {"merge_group": {"head_sha": "a" * 40, "base_ref": "refs/heads/main"}},
            "has no merge_group.base_sha",
        ),
        ("merge_group", {"merge_group": {"base_sha": "a" * 40}}, "has no merge_group.head_sha"),
        ("pull_request", '{"pull_request": ', "GITHUB_EVENT_PATH {event}: not a JSON event payload"),
        ("pull_request", '"a string"', "GITHUB_EVENT_PATH {event}: the event payload is not a JSON object"),
        (
            "pull_request",
            {"pull_request": {"base": {"sha": "HEAD"}}},
            "pull_request.base.sha 'HEAD' is not a full commit id (40 or 64 lowercase hex digits)",
        ),
        ("pull_request", {"pull_request": {"base": {"sha": "A" * 40}}}, "is not a full commit id"),
        ("pull_request", {"pull_request": {"base": {"sha": 12345}}}, "pull_request.base.sha 12345 is not a full"),
        (
            "pull_request_review",
            None,
            "GITHUB_EVENT_PATH is not set: the pull_request_review event's payload is needed",
        ),
        ("push", {"ref": "refs/heads/main", "after": "a" * 40}, "has no before"),
        (
            "push",
            {"ref": "refs/heads/gone", "before": "a" * 40, "after": "0" * 40, "deleted": True},
            "the push deletes 'refs/heads/gone'; there is nothing to check",
        ),
        (
            "workflow_run",
            {"workflow_run": {"head_sha": "a" * 40}},
            "the workflow_run event does not say what this checkout is compared with; pass --base REF",
        ),
    ],
)
def test_an_event_without_a_determinable_base_is_exit_4(
    repo: Repo, tmp_path: Path, name: str, payload: Any, says: str
) -> None:
    """Never a fallback to the work tree, whose config names a base and a plugin."""
    marker = tmp_path / "plugin-ran"
    _promotion(repo, marker)
    proc, _ = run_in_ci(repo, name, payload)
    event = repo.root.parent / "event.json"
    assert (proc.returncode, proc.stdout) == (4, ""), proc.stdout + proc.stderr
    assert proc.stderr.startswith("modelgate: error: ") and says.format(event=event) in proc.stderr, proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert not marker.exists()


def test_in_ci_without_event_information_the_base_is_named(repo: Repo, tmp_path: Path) -> None:
    """Another CI system: no event to read, and the work tree's config `base` is the change's
    own. `--base REF` or MODELGATE_BASE compares; `--base none` checks the branch as it stands."""
    marker = tmp_path / "plugin-ran"
    base, _ = _promotion(repo, marker)
    for how in ({"CI": "true"}, {"GITHUB_ACTIONS": "true"}):
        proc = repo.run("check", env=how)
        assert proc.returncode == 4, proc.stdout + proc.stderr
        assert proc.stderr == (
            "modelgate: error: in CI the base must be named: --base REF (or MODELGATE_BASE) to"
            " compare with REF, or --base none to check the checkout as it stands (no"
            " GITHUB_EVENT_NAME or GITHUB_EVENT_PATH says which; the work tree's config"
            " `base` is not used in CI)\n"
        )
    assert repo.run("check", "--ci").returncode == 4
    assert not marker.exists()
    proc, report = run_in_ci(repo, None, None, "--base", "main")
    assert (proc.returncode, report["git"]["base"], marker.exists()) == (1, base, False)
    proc, report = run_in_ci(repo, None, None, env={"MODELGATE_BASE": "main"})
    assert (proc.returncode, report["git"]["base"], marker.exists()) == (1, base, False)
    # As it stands: the work tree is the trusted tree (its plugin is the branch's own).
    proc, report = run_in_ci(repo, None, None, "--base", "none")
    assert report["git"]["base"] is None and marker.exists()


def test_base_none_is_refused_for_a_change_under_review(repo: Repo, tmp_path: Path) -> None:
    base, head = _promotion(repo, tmp_path / "plugin-ran")
    for name in ("pull_request", "pull_request_review", "merge_group"):
        for how in (("--base", "none"), ()):
            proc, _ = run_in_ci(
                repo, name, _payload(name, base, head), *how, env={} if how else {"MODELGATE_BASE": "none"}
            )
            assert proc.returncode == 4
            assert proc.stderr == (
                f"modelgate: error: --base none: the {name} event checks a change under review,"
                " which is judged against its base (by the base's configuration and policy),"
                " never as it stands\n"
            )
    assert not (tmp_path / "plugin-ran").exists()


@pytest.mark.parametrize("name", ["schedule", "workflow_dispatch", "push"])
def test_a_branch_as_it_stands(repo: Repo, name: str) -> None:
    """A scheduled or manual run, and the push that creates a branch (`before` all zeros:
    nothing of the branch came before it), check the branch as it stands: there the checkout
    is the trusted tree, so its own configuration applies."""
    repo.write(".modelgate.yaml", "policies: [own.yaml]\n")
    repo.write("own.yaml", LOOSE_POLICY)
    repo.manifest("m", **staging_fields())
    head = repo.commit("a branch")
    payload = (
        {"ref": "refs/heads/new", "before": "0" * 40, "after": head, "created": True}
        if name == "push"
        else {"inputs": {}}
        if name == "workflow_dispatch"
        else {"schedule": "0 4 * * *"}
    )
    proc, report = run_in_ci(repo, name, payload)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["git"]["base"] is None
    assert [(p["path"], p["source"]) for p in report["policies"]] == [("own.yaml", "worktree")]


def test_the_event_names_the_branch_a_change_lands_on(repo: Repo) -> None:
    """`branches: {release: production}`: a review of a pull request into `release` (no
    GITHUB_BASE_REF on that event) is held to it, by the branch the payload names."""
    repo.write(".modelgate.yaml", "policies: [p.yaml]\n")
    repo.write(
        "p.yaml",
        "apiVersion: modelgate/v1\nkind: Policy\nname: p\nextends: [builtin:default]\n"
        "branches: {release: production}\n",
    )
    repo.manifest("m", **staging_fields())
    base = repo.commit("release")
    repo.git("checkout", "-q", "-b", "feature")
    repo.manifest("m", **staging_fields(description="edited"))
    head = repo.commit("edit")
    payload = _payload("pull_request_review", base, head)
    payload["pull_request"]["base"]["ref"] = "release"
    proc, report = run_in_ci(repo, "pull_request_review", payload)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert [r["message"] for r in report["results"] if r["name"] == "branch-stage" and r["outcome"] == "failed"] == [
        "on branch 'release' every manifest must be in 'production', not 'staging'"
    ]


def test_base_none_on_the_command_line_and_in_help(repo: Repo) -> None:
    """On a laptop `--base none` overrides a configured base."""
    repo.manifest("m")
    repo.commit("first")
    repo.write(".modelgate.yaml", "base: HEAD\n")
    proc = repo.run("check", "--base", "none", "--json", "../r.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads((repo.root.parent / "r.json").read_text())["git"]["base"] is None
    help_text = subprocess.run([MODELGATE, "check", "--help"], capture_output=True, text=True).stdout
    assert "--base none" in " ".join(help_text.split())


# What the payload says, read directly: each event's fields, limits and refusals, exactly.

SHA_A, SHA_B = "a" * 40, "b" * 64


def _event(tmp_path: Path, name: str, payload: Any) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_bytes(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    return {"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path)}


def test_each_event_gives_its_base_head_branch_and_whether_it_is_under_review(tmp_path: Path) -> None:
    assert ci.event_base({}) is None
    assert ci.event_base({"GITHUB_EVENT_NAME": "schedule"}) == ci.EventBase("schedule", None, under_review=False)
    review = _event(tmp_path, "pull_request_review", _payload("pull_request_review", SHA_A, SHA_B))
    assert ci.event_base(review) == ci.EventBase("pull_request_review", SHA_A, under_review=True, branch="main")
    queue = _event(tmp_path, "merge_group", _payload("merge_group", SHA_B, SHA_A))
    assert ci.event_base(queue) == ci.EventBase("merge_group", SHA_B, under_review=True, branch="main", head=SHA_A)
    push = _event(tmp_path, "push", _payload("push", SHA_A, SHA_B))
    assert ci.event_base(push) == ci.EventBase("push", SHA_A, under_review=False, branch="main", head=SHA_B)
    created = _event(tmp_path, "push", _payload("push", "0" * 40, SHA_B))  # the push made the branch
    assert ci.event_base(created) == ci.EventBase("push", None, under_review=False, branch="main", head=SHA_B)


def test_the_payload_may_be_32_mib_and_no_more(tmp_path: Path) -> None:
    body = json.dumps(_payload("push", SHA_A, SHA_B)).encode()
    limit = 32 << 20
    env = _event(tmp_path, "push", body + b" " * (limit - len(body)))
    assert ci.event_base(env) is not None and ci.read_event(env)["before"] == SHA_A
    env = _event(tmp_path, "push", body + b" " * (limit + 1 - len(body)))
    with pytest.raises(UsageError) as info:
        ci.read_event(env)
    assert str(info.value) == f"GITHUB_EVENT_PATH {env['GITHUB_EVENT_PATH']}: the event payload is over 32 MiB"


def test_an_unreadable_payload_is_a_usage_error(tmp_path: Path) -> None:
    env = {"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}
    with pytest.raises(UsageError) as info:
        ci.event_base(env)
    assert str(info.value) == (
        f"GITHUB_EVENT_PATH {tmp_path / 'missing.json'}: cannot read the event payload (No such file or directory)"
    )


def test_long_values_are_cut_in_messages(tmp_path: Path) -> None:
    ref = "refs/heads/" + "x" * 300
    env = _event(tmp_path, "push", {"ref": ref, "deleted": True})
    with pytest.raises(UsageError) as info:
        ci.event_base(env)
    assert f"the push deletes {ref[:200]!r}; there is nothing to check" in str(info.value)
    env = _event(tmp_path, "push", {"ref": "refs/heads/main", "before": "f" * 300, "after": SHA_A})
    with pytest.raises(UsageError) as info:
        ci.event_base(env)
    assert str(info.value).endswith(
        f": before {repr('f' * 300)[:100]} is not a full commit id (40 or 64 lowercase hex digits)"
    )


@pytest.mark.parametrize(
    ("ref", "branch"),
    [
        ("main", "main"),
        ("refs/heads/main", "main"),
        ("refs/heads/team/feature", "team/feature"),
        ("refs/tags/v1.0", None),
        ("refs/pull/7/merge", None),
        ("refs/heads/a..b", None),
        ("a..b", None),
        ("-rf", None),
        (7, None),
        (None, None),
    ],
)
def test_only_a_plain_branch_name_is_taken_from_a_ref(ref: Any, branch: str | None) -> None:
    assert ci._branch(ref) == branch


def test_the_base_named_is_the_flags_else_modelgate_base() -> None:
    from modelgate.pipeline.ci import NONE, named_base

    assert named_base("release", {"MODELGATE_BASE": "main"}) == "release"
    assert named_base(None, {"MODELGATE_BASE": "main"}) == "main"
    assert named_base(None, {"MODELGATE_BASE": NONE}) == NONE  # a name too: no base
    assert named_base("", {"MODELGATE_BASE": ""}) is None
    assert named_base(None, {}) is None
