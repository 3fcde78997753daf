"""The monorepo benchmark: ``check --base main`` on thousands of models with a long history.

    python benchmarks/monorepo.py [--quick] [--sizes 100,1000,5000] [--commits 2000] [--rounds N]

(also ``python benchmarks/run.py --only monorepo``). For each size it builds, with ``git
fast-import`` in seconds, a repository of one folder per model (a 2.9 KB manifest, two
artifacts and a lockfile) whose ``main`` has ``--commits`` commits of history that bump
versions and promote, and a branch ``change`` that promotes one staging model to production
with a signed approval (``signed-commits``, an SSH key made for the run). Then, with
``CI=true``, it times in turns, round after round (peak memory from ``wait4``):

- the reference: one Python process that runs ``git log`` over the whole history and parses
  every manifest with ``yaml.CSafeLoader``;
- ``check --base main`` (the full run), ``check --base main --changed``, and each
  ``check --base main --shard K/4``;
- start-up: a run that checks nothing (``--changed`` against the commit checked out);

and prints each ratio against its target (issue #19): the full run <= 2x the reference, no
faster-growing term; ``--changed`` <= 0.25x the reference at 5,000 models and never slower
than the full run; a shard <= 1.3/4 of the full run plus start-up; peak memory of the full
run <= 2x the reference's at 5,000 models. A ratio is the median of the ratios taken round
by round, between runs seconds apart, so a drift of the machine's speed moves both sides
alike; times are medians. ``--rounds`` defaults to as many rounds as fit in about 90 s (5 to
15). ``--quick`` builds small repositories for a smoke run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
MODELGATE = str(BIN / "modelgate")
SHARDS = 4
ROUNDS, ROUNDS_BUDGET = (5, 15), 90.0  # rounds per size: as many as fit in the budget, within these
FEATURES = [
    "amount",
    "currency",
    "merchant_id",
    "merchant_category",
    "country",
    "card_age_days",
    "hour_of_day",
    "day_of_week",
    "txn_count_1h",
    "txn_count_24h",
    "avg_amount_7d",
    "device_id",
    "ip_risk_score",
    "email_domain",
    "billing_shipping_match",
    "distance_home_km",
    "prior_chargebacks",
    "account_age_days",
    "velocity_score",
    "bin_country",
    "is_recurring",
    "mcc_risk",
    "session_length_s",
    "failed_logins_24h",
]
LOCK = b"numpy==2.1.3\nscikit-learn==1.5.2\nxgboost==2.1.0\n"
# The reference: what reading the repository costs at least, in one Python process.
REFERENCE = (
    "import glob, subprocess, yaml\n"
    "subprocess.run(['git', 'log', '--raw', '--no-abbrev', '--no-renames', '-z',"
    " '--format=%H%x00%ct%x00%an <%ae>', 'main'], check=True, stdout=subprocess.DEVNULL)\n"
    "for path in sorted(glob.glob('models/*/modelgate.yaml')):\n"
    "    with open(path, 'rb') as stream:\n"
    "        yaml.load(stream, Loader=yaml.CSafeLoader)\n"
)


def environment() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "MODELGATE_BASE") and not k.startswith(("GITHUB_", "PRE_COMMIT"))
    }
    env.update(
        CI="true",
        NO_COLOR="1",
        GIT_AUTHOR_NAME="b",
        GIT_AUTHOR_EMAIL="b@x",
        GIT_COMMITTER_NAME="b",
        GIT_COMMITTER_EMAIL="b@x",
    )
    return env


ENV = environment()


def manifest(name: str, version: str, stage: str, files: dict[str, bytes]) -> bytes:
    """A manifest as a team writes one (~2.9 KB): two artifacts, code and data lineage, a
    lockfile, a signature, metrics, tags."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    artifacts = "".join(
        f"  - path: {file}\n    sha256: {hashlib.sha256(data).hexdigest()}\n    size: {len(data)}\n"
        for file, data in files.items()
    )
    inputs = "".join(
        f"    - {{name: {feature}, type: {'string' if index % 3 == 1 else 'float64'}}}\n"
        for index, feature in enumerate(FEATURES)
    )
    return f"""# {name} {version}: trained by the nightly pipeline.
apiVersion: modelgate/v1
kind: Model
name: {name}
version: "{version}"
stage: {stage}
description: Gradient-boosted fraud classifier on card transactions, retrained nightly on the last 90 days
owners: ["@acme/fraud", "ana@acme.io"]
license: proprietary
artifacts:
{artifacts}lineage:
  code:
    commit: {digest[:40]}
    repo: "https://github.com/acme/fraud"
    paths: [train/, features/]
  data:
    - {{name: train, uri: "s3://acme-data/fraud/train/2026-11-01.parquet", sha256: {digest}}}
    - {{name: holdout, uri: "s3://acme-data/fraud/holdout/2026-11-01.parquet", revision: "2026-11-01"}}
  params: {{learning_rate: 0.05, n_estimators: 400, max_depth: 6, subsample: 0.8, colsample_bytree: 0.7,
           min_child_weight: 3, gamma: 0.1, reg_lambda: 1.0, scale_pos_weight: 12.5, seed: 42}}
  environment:
    python: "3.11"
    framework: {{name: xgboost, version: "2.1.0"}}
    lockfile: {{path: requirements.lock, sha256: {hashlib.sha256(LOCK).hexdigest()}}}
  run: {{tracker: mlflow, id: {digest[:32]}, url: "https://mlflow.acme.io/#/runs/{digest[:32]}"}}
signature:
  inputs:
{inputs}  outputs:
    - {{name: score, type: float64}}
metrics:
  auc: {{value: 0.931, goal: maximize, dataset: holdout-2026-11}}
  precision_at_1pct: {{value: 0.72, goal: maximize, dataset: holdout-2026-11}}
  recall: {{value: 0.81, goal: maximize, dataset: holdout-2026-11}}
  latency_p95_ms: {{value: 12.5, goal: minimize}}
  f1: 0.88
tags: {{cost_center: "42", team: fraud, pipeline: nightly, region: eu-west-1}}
""".encode()


class Model:
    """One model's folder as the history leaves it."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.name = f"model-{index:05d}"
        self.folder = f"models/m{index:05d}"
        self.minor = 0
        self.stage = "staging"

    @property
    def version(self) -> str:
        return f"1.{self.minor}.0"

    def files(self) -> dict[str, bytes]:
        return {
            "model.bin": f"weights of {self.name} {self.version}\n".encode() * 4,
            "preprocessor.json": f'{{"scaler": "standard", "model": "{self.name}", "fit": {self.minor}}}'.encode(),
        }

    def blobs(self) -> dict[str, bytes]:
        """Repo-relative path -> bytes of every file in the folder."""
        files = self.files()
        return {
            **{f"{self.folder}/{k}": v for k, v in files.items()},
            f"{self.folder}/requirements.lock": LOCK,
            f"{self.folder}/modelgate.yaml": manifest(self.name, self.version, self.stage, files),
        }


def git(repo: Path, *args: str, env: dict[str, str] | None = None, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, env=env or ENV, input=input, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode()


def generate(repo: Path, models: int, commits: int, key: Path) -> str:
    """Build the repository; returns the promoted model's name@version."""
    started = time.perf_counter()
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    public = key.with_suffix(".pub").read_text().strip()
    state = [Model(i) for i in range(models)]
    chunks: list[bytes] = []
    clock = 1_780_000_000

    def data(payload: bytes) -> None:
        chunks.append(b"data %d\n" % len(payload) + payload + b"\n")

    def commit(message: str, files: dict[str, bytes]) -> None:
        nonlocal clock
        clock += 60
        chunks.append(b"commit refs/heads/main\n")
        chunks.append(b"committer b <b@x> %d +0000\n" % clock)
        data(message.encode())  # later commits continue the branch: fast-import keeps its tip
        for path, payload in files.items():
            chunks.append(b"M 100644 inline " + path.encode() + b"\n")
            data(payload)

    every: dict[str, bytes] = {
        ".modelgate.yaml": b"approvals: {provider: signed-commits}\n",
        ".github/allowed_signers": f"reviewer@acme.io {public}\n".encode(),
    }
    for model in state:
        every.update(model.blobs())
    commit("the registry", every)
    for number in range(1, commits):
        model = state[(number * 7919) % models]
        if model.stage == "staging" and number % 3 == 0:
            model.stage = "production"
        else:
            model.minor += 1
            model.stage = "staging"
        commit(f"{model.name}: {model.version} {model.stage}", model.blobs())
    chunks.append(b"done\n")
    proc = subprocess.run(
        ["git", "fast-import", "--quiet", "--done"], cwd=repo, env=ENV, input=b"".join(chunks), capture_output=True
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace"))
    git(repo, "checkout", "-q", "-b", "change", "main")
    # The change: one staging model promoted, and a reviewer's signed approval of it.
    chosen = next(m for m in state[1:] + state[:1] if m.stage == "staging")
    chosen.stage = "production"
    (repo / chosen.folder / "modelgate.yaml").write_bytes(chosen.blobs()[f"{chosen.folder}/modelgate.yaml"])
    git(repo, "commit", "-q", "-am", f"promote {chosen.name}@{chosen.version} to production")
    reviewer = {
        **ENV,
        "GIT_AUTHOR_NAME": "reviewer",
        "GIT_AUTHOR_EMAIL": "reviewer@acme.io",
        "GIT_COMMITTER_NAME": "reviewer",
        "GIT_COMMITTER_EMAIL": "reviewer@acme.io",
    }
    git(
        repo,
        "-c",
        "gpg.format=ssh",
        "-c",
        f"user.signingkey={key}",
        "commit",
        "-q",
        "-S",
        "--allow-empty",
        "-m",
        f"LGTM\n\nApproved-by: {chosen.name}@{chosen.version} -> production",
        env=reviewer,
    )
    print(f"      built {models} models x {commits} commits in {time.perf_counter() - started:.1f} s", flush=True)
    return f"{chosen.name}@{chosen.version}"


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """(seconds, peak MiB of the process and the children it waited for, exit code, output)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / (1 << 20)
    return seconds, peak, proc.returncode, out.decode(errors="replace")


def line(what: str, measured: str, target: str, ok: bool | None) -> None:
    mark = "    " if ok is None else "PASS" if ok else "MISS"
    print(f"{mark}  {what:<56} {measured:<58} target {target}", flush=True)


def measure(repo: Path, models: int, rounds: int | None, judge_changed_absolute: bool) -> dict[str, float]:
    check = [MODELGATE, "check", "--base", "main", "-q"]
    commands: dict[str, list[str]] = {
        "reference": [sys.executable, "-c", REFERENCE],
        "full": check,
        "changed": [*check, "--changed"],
        **{f"shard {k}/{SHARDS}": [*check, "--shard", f"{k}/{SHARDS}"] for k in range(1, SHARDS + 1)},
        # Start-up: a run that checks nothing. --changed against the commit checked out
        # selects no manifest, as --changed on main itself would, without a checkout, so it
        # is timed in the same turns as the rest.
        "start-up": [MODELGATE, "check", "--base", "HEAD", "-q", "--changed"],
    }
    warm = 0.0
    for name, cmd in commands.items():  # warm: bytecode, page cache; and every run must finish
        seconds, _, code, out = timed(cmd, repo)
        warm += seconds
        if code not in (0, 1):
            raise RuntimeError(f"{name}: exit {code}\n{out[-2000:]}")
    if rounds is None:  # as many rounds as fit in about ROUNDS_BUDGET seconds, within ROUNDS
        rounds = max(ROUNDS[0], min(ROUNDS[1], int(ROUNDS_BUDGET / warm)))
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            seconds, mib, _, _ = timed(cmd, repo)
            times[name].append(seconds)
            peaks[name].append(mib)
    med = {name: statistics.median(found) for name, found in times.items()}
    peak = {name: max(found) for name, found in peaks.items()}

    def paired(numerator: list[float], denominator: list[float]) -> float:
        """The median of the ratios round by round: each pair was timed minutes apart at
        most, so a drift of the machine's speed between rounds moves both alike."""
        return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))

    ref, full, changed, startup = (times[name] for name in ("reference", "full", "changed", "start-up"))
    label = f"{models} models ({rounds} rounds)"
    line(
        f"{label}: reference", f"{med['reference']:.2f} s, {peak['reference']:.0f} MiB", "(git log + CSafeLoader)", None
    )
    full_ratio = paired(full, ref)
    line(
        f"{label}: check --base main",
        f"{med['full']:.2f} s = {full_ratio:.2f}x, {peak['full']:.0f} MiB",
        "<= 2x",
        full_ratio <= 2,
    )
    changed_ratio, changed_to_full = paired(changed, ref), paired(changed, full)
    changed_ok = changed_to_full <= 1 and (not judge_changed_absolute or changed_ratio <= 0.25)
    target = "<= 0.25x, <= full" if judge_changed_absolute else "<= full"
    line(
        f"{label}: check --base main --changed",
        f"{med['changed']:.2f} s = {changed_ratio:.2f}x ({changed_to_full:.2f} of full), {peak['changed']:.0f} MiB",
        target,
        changed_ok,
    )
    allowed = [1.3 / SHARDS * f + s for f, s in zip(full, startup, strict=True)]
    shard_ratios = [paired(times[f"shard {k}/{SHARDS}"], allowed) for k in range(1, SHARDS + 1)]
    shards = " ".join(f"{med[f'shard {k}/{SHARDS}']:.2f}" for k in range(1, SHARDS + 1))
    line(
        f"{label}: each --shard K/{SHARDS}",
        f"{shards} s (start-up {med['start-up']:.2f} s): {max(shard_ratios):.2f} of allowed",
        f"<= 1.3/{SHARDS} full + start-up ({statistics.median(allowed):.2f} s)",
        max(shard_ratios) <= 1,
    )
    if judge_changed_absolute:
        line(
            f"{label}: peak memory, full run",
            f"{peak['full']:.0f} MiB = {peak['full'] / peak['reference']:.2f}x",
            "<= 2x the reference's",
            peak["full"] <= 2 * peak["reference"],
        )
    return {**med, **{f"peak {k}": v for k, v in peak.items()}}


def run(sizes: list[int], commits: int, rounds: int | None, work: Path | None = None) -> None:
    own = work is None
    work = work or Path(tempfile.mkdtemp(prefix="modelgate-monorepo-"))
    try:
        key = work / "reviewer"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "reviewer", "-f", str(key)], check=True)
        largest = max(sizes)
        for models in sizes:
            repo = work / f"repo-{models}"
            generate(repo, models, commits, key)
            measure(repo, models, rounds, judge_changed_absolute=models == largest)
            shutil.rmtree(repo, ignore_errors=True)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small repositories, one round: a smoke run")
    parser.add_argument("--sizes", default=None, help="models per repository, comma-separated (100,1000,5000)")
    parser.add_argument("--commits", type=int, default=None, help="commits of history (2000)")
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed rounds per command (default: as many as fit in 90 s, 5 to 15)"
    )
    parser.add_argument("--build", metavar="DIR", help="only build the repositories, in DIR/repo-<models>")
    options = parser.parse_args()
    sizes = [int(s) for s in (options.sizes or ("40,120" if options.quick else "100,1000,5000")).split(",")]
    commits = options.commits or (60 if options.quick else 2000)
    rounds = options.rounds or (1 if options.quick else None)
    if options.build:
        work = Path(options.build)
        key = work / "reviewer"
        work.mkdir(parents=True, exist_ok=True)
        if not key.exists():
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "reviewer", "-f", str(key)], check=True
            )
        for models in sizes:
            generate(work / f"repo-{models}", models, commits, key)
        return
    run(sizes, commits, rounds)


if __name__ == "__main__":
    main()
