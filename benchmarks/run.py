"""Measure modelgate against the targets of DESIGN.md section 6, each as a ratio against a
reference measured in the same run on the same machine.

    python benchmarks/run.py [--quick]

Builds its own data in a temporary directory (a 1 GiB artifact, a 10 GiB sparse one, 1000
manifests, a git repository with 200 commits, and the monorepos of benchmarks/monorepo.py)
and prints one line per target. --quick uses
smaller data for a smoke run; its numbers are not the ones to quote.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modelgate.hashing.cache import HashCache  # noqa: E402
from modelgate.hashing.digest import Hasher, hash_file  # noqa: E402

BIN = Path(sys.executable).parent
MODELGATE = str(BIN / "modelgate")
GiB = 1 << 30
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "CI")}
ENV["NO_COLOR"] = "1"


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    """Fastest of ``repeat`` runs, in seconds (the least disturbed by the rest of the machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(
    fns: dict[str, Callable[[], object]], rounds: int = 5, pick: Callable[[list[float]], float] = min
) -> dict[str, float]:
    """The fastest (or ``pick``'s) time of each function over ``rounds`` rounds that run them
    in turn: on a shared machine, a slow spell then hits every side of a ratio, not just one."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: pick(found) for name, found in times.items()}


def median_run(cmd: list[str], cwd: Path, repeat: int = 11) -> float:
    subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True)  # warm: bytecode, page cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def evict(path: Path) -> None:
    """Drop the file from the page cache, so the next read comes from disk (cold)."""
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())
        os.posix_fadvise(stream.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def plain_hashlib(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_random(path: Path, size: int) -> None:
    block = os.urandom(64 << 20)
    with open(path, "wb") as out:
        left = size
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= len(block)


def line(what: str, measured: str, target: str, ok: bool) -> None:
    print(f"{'PASS' if ok else 'MISS'}  {what:<46} {measured:<44} target {target}")


def hashing(work: Path, size: int) -> None:
    big = work / "model.bin"
    write_random(big, size)
    gb = size / 1e9
    # The reference is what DESIGN.md calls the CPU limit, "~1.45 GB/s" for hashlib per
    # stream: a plain read-and-hash loop over the warm file, measured here; the target (1.2
    # of 1.45) scales with it. Hashing a buffer that stays in the CPU cache is printed too:
    # the ceiling with no memory traffic at all.
    block = os.urandom(1 << 20)

    def in_cache() -> None:
        digest = hashlib.sha256()
        for _ in range(256):
            digest.update(block)

    plain_hashlib(big)  # warm the page cache
    timed = interleaved(
        {
            "in_cache": in_cache,
            "ours": lambda: hash_file(str(big)),
            "plain": lambda: plain_hashlib(big),
            "coreutils": lambda: subprocess.run(["sha256sum", str(big)], capture_output=True, check=True),
        }
    )
    ceiling = (256 * len(block) / 1e9) / timed["in_cache"]
    ours_warm, plain, coreutils = timed["ours"], timed["plain"], timed["coreutils"]
    limit = gb / plain
    wanted = max(1.2, 1.2 / 1.45 * limit)

    def cold() -> float:
        evict(big)
        start = time.perf_counter()
        hash_file(str(big))
        return time.perf_counter() - start

    ours_cold = min(cold() for _ in range(3))
    print(
        f"      sha256 of {size / GiB:.0f} GiB: modelgate {gb / ours_warm:.2f} GB/s warm, {gb / ours_cold:.2f} GB/s"
        f" cold; hashlib per stream (plain loop, warm) {limit:.2f} GB/s; sha256sum {gb / coreutils:.2f} GB/s;"
        f" hashlib on a buffer in the CPU cache {ceiling:.2f} GB/s"
    )
    print(
        f"      the target: 1.2 GB/s where hashlib per stream does 1.45, so {wanted:.2f} GB/s here"
        " (and never below 1.2)"
    )
    line(
        "sha256, one large artifact, warm",
        f"{gb / ours_warm:.2f} GB/s ({gb / ours_warm / limit:.0%} of hashlib)",
        f">= {wanted:.2f} GB/s",
        gb / ours_warm >= wanted,
    )
    line(
        "sha256, one large artifact, cold",
        f"{gb / ours_cold:.2f} GB/s ({gb / ours_cold / limit:.0%} of hashlib)",
        f">= {wanted:.2f} GB/s",
        gb / ours_cold >= wanted,
    )
    line("  vs coreutils sha256sum", f"{coreutils / ours_warm:.1f}x faster", "(reference)", True)

    halves = [work / "a.bin", work / "b.bin"]
    for half in halves:
        write_random(half, size // 2)
        plain_hashlib(half)

    def parallel() -> None:
        Hasher(workers=2).prefetch(str(h) for h in halves)

    # The single-stream rate: the faster of modelgate's and a plain read-and-hash loop.
    pair = interleaved(
        {
            "ours": lambda: [hash_file(str(h)) for h in halves],
            "plain": lambda: [plain_hashlib(h) for h in halves],
            "both": parallel,
        }
    )
    single, both = min(pair["ours"], pair["plain"]), pair["both"]
    line(
        "several artifacts in parallel", f"{single / both:.2f}x the single-stream rate", ">= 1.8x", single / both >= 1.8
    )


def cached_recheck(work: Path, size: int) -> None:
    sparse = work / "huge.bin"
    with open(sparse, "wb") as out:
        out.truncate(size)
    past = time.time() - 60  # untouched for a minute: outside the racy window
    os.utime(sparse, (past, past))
    time.sleep(2.1)  # ctime (set by utime) must also be older than the racy window
    db = str(work / "cache" / "hashes.sqlite")
    first = time.perf_counter()
    Hasher(HashCache(db)).digest(str(sparse))
    first = time.perf_counter() - first

    def again() -> None:
        hasher = Hasher(HashCache(db))
        hasher.digest(str(sparse))
        assert hasher.hashed == 0, "cache miss"

    cached = best(again, repeat=5)
    line(
        f"re-verify a {size / GiB:.0f} GiB artifact, cached",
        f"{cached * 1000:.2f} ms (first hash {first:.1f} s)",
        "< 5 ms",
        cached < 0.005,
    )


def manifest(folder: Path, name: str, content: bytes, version: str = "1.0.0", stage: str = "none") -> None:
    """A minimal manifest (~600 bytes): one artifact, one metric."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.bin").write_bytes(content)
    data = {
        "apiVersion": "modelgate/v1",
        "kind": "Model",
        "name": name,
        "version": version,
        "stage": stage,
        "owners": ["@acme/ml"],
        "description": "benchmark model " * 4,
        "artifacts": [{"path": "model.bin", "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}],
        "metrics": {"auc": {"value": 0.9, "goal": "maximize"}},
        "tags": {"team": "ml"},
    }
    (folder / "modelgate.yaml").write_text(json.dumps(data, indent=2))


def full_manifest(folder: Path, name: str, content: bytes, version: str = "1.0.0") -> None:
    """A manifest as a team writes one (~3 KB, the size DESIGN.md's reference parse time is for):
    two artifacts, code and data lineage, a lockfile, a signature, metrics, tags; the same text
    the monorepo benchmark commits (benchmarks/monorepo.py)."""
    from monorepo import LOCK, manifest  # a sibling script: its folder is on sys.path

    folder.mkdir(parents=True, exist_ok=True)
    files = {"model.bin": content, "preprocessor.json": b'{"scaler": "standard"}' + content[-8:]}
    for file, data in {**files, "requirements.lock": LOCK}.items():
        (folder / file).write_bytes(data)
    (folder / "modelgate.yaml").write_bytes(manifest(name, version, "staging", files))


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        env={
            **ENV,
            "GIT_AUTHOR_NAME": "b",
            "GIT_AUTHOR_EMAIL": "b@x",
            "GIT_COMMITTER_NAME": "b",
            "GIT_COMMITTER_EMAIL": "b@x",
        },
    )


PYDANTIC_REFERENCE = "from pydantic import BaseModel\nclass M(BaseModel):\n    x: int\nM(x=1)\n"


def startup(work: Path) -> None:
    one = work / "one"
    one.mkdir()
    git(one, "init", "-q")
    full_manifest(one / "m", "one", b"w" * 1000)
    for path in one.rglob("*"):  # hashes cached: written long enough ago to be trusted (racy-clean rule)
        os.utime(path, (time.time() - 60, time.time() - 60))
    time.sleep(2.1)  # utime moved ctime: let it age past the racy window too
    subprocess.run([MODELGATE, "check"], cwd=one, env=ENV, capture_output=True, check=True)
    # 250 ms is for the reference machine, where `import pydantic` plus one model took ~225 ms
    # (the figure): measured here in the same run, that reference scales the target.
    # The four commands run in turns, so that a slow spell of the machine hits all of them.
    commands = {
        "python": [sys.executable, "-c", "pass"],
        "version": [MODELGATE, "--version"],
        "check": [MODELGATE, "check"],
        "pydantic": [sys.executable, "-c", PYDANTIC_REFERENCE],
    }
    timed = interleaved(
        {
            name: functools.partial(subprocess.run, cmd, cwd=one, env=ENV, capture_output=True)
            for name, cmd in commands.items()
        },
        rounds=11,
        pick=statistics.median,
    )
    python, version, check, pydantic = (timed[name] for name in commands)
    scaled = 0.25 * pydantic / 0.225
    line(
        "modelgate --version",
        f"{version * 1000:.0f} ms = {version / python:.2f}x python -c pass ({python * 1000:.0f} ms)",
        "<= 2x",
        version <= 2 * python,
    )
    line(
        "check of one manifest, hashes cached",
        f"{check * 1000:.0f} ms = {check / pydantic:.2f}x import pydantic + a model ({pydantic * 1000:.0f} ms)",
        f"<= 1.11x: 250 of 225 ms ({scaled * 1000:.0f} ms here)",
        check <= scaled,
    )
    print(
        f"      {check / pydantic * 225:.0f} ms on the reference machine, by that ratio;"
        f" python -c pass here: {python * 1000:.0f} ms"
    )


def lfs_pointer(work: Path) -> None:
    repo = work / "lfs"
    oid = hashlib.sha256(b"pretend this is 10 GB").hexdigest()
    folder = repo / "m"
    folder.mkdir(parents=True)
    git(repo, "init", "-q")
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 10737418240\n"
    (folder / "model.bin").write_text(pointer)
    (repo / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n")  # `git lfs track`
    data = {
        "apiVersion": "modelgate/v1",
        "kind": "Model",
        "name": "lfs",
        "version": "1.0.0",
        "stage": "none",
        "owners": ["@acme/ml"],
        "artifacts": [{"path": "model.bin", "sha256": oid, "size": 10737418240}],
    }
    (folder / "modelgate.yaml").write_text(json.dumps(data))
    proc = subprocess.run([MODELGATE, "check", "-v"], cwd=repo, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    seconds = median_run([MODELGATE, "check", "--no-cache"], repo, repeat=5)
    line(
        "CI clone with an LFS pointer (10 GB object)",
        f"verified by pointer in {seconds * 1000:.0f} ms, no download",
        "no download",
        True,
    )


def parse_time(repo: Path) -> float:
    """The reference: a Python process that parses every manifest with CSafeLoader, nothing else."""
    parse = (
        "import glob, yaml\n"
        "for p in sorted(glob.glob('models/*/modelgate.yaml')):\n"
        "    yaml.load(open(p, 'rb'), Loader=yaml.CSafeLoader)\n"
    )
    return median_run([sys.executable, "-c", parse], repo, repeat=5)


def many(work: Path, count: int) -> None:
    repo = work / "many"
    repo.mkdir()
    git(repo, "init", "-q")
    for index in range(count):
        full_manifest(repo / "models" / f"m{index:04d}", f"model-{index:04d}", f"weights {index}".encode())
    size = (repo / "models" / "m0000" / "modelgate.yaml").stat().st_size
    for path in repo.rglob("*"):  # as a checkout that is not brand new: outside the racy window
        os.utime(path, (time.time() - 60, time.time() - 60))
    parsed = parse_time(repo)
    checked = median_run([MODELGATE, "check"], repo, repeat=5)
    line(
        f"check of {count} manifests vs CSafeLoader parse",
        f"{checked:.2f} s vs {parsed:.2f} s = {checked / parsed:.2f}x ({size / 1000:.1f} KB each)",
        "<= 2x",
        checked <= 2 * parsed,
    )

    small = work / "small"
    small.mkdir()
    git(small, "init", "-q")
    for index in range(count):
        manifest(small / "models" / f"m{index:04d}", f"model-{index:04d}", f"weights {index}".encode())
    tiny = (small / "models" / "m0000" / "modelgate.yaml").stat().st_size
    small_parsed, small_checked = parse_time(small), median_run([MODELGATE, "check"], small, repeat=5)
    print(
        f"      the same with minimal {tiny}-byte manifests: {small_checked:.2f} s vs {small_parsed:.2f} s ="
        f" {small_checked / small_parsed:.2f}x (parsing is less of the work when manifests are tiny)"
    )

    # History: 200 commits touching manifests, then a change compared with the base.
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "c0")
    for commit in range(1, 200):
        index = commit % count
        full_manifest(
            repo / "models" / f"m{index:04d}",
            f"model-{index:04d}",
            f"weights {index} v{commit}".encode(),
            version=f"1.{commit + 1}.0",
        )
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"c{commit}")
    git(repo, "branch", "-M", "main")
    git(repo, "checkout", "-q", "-b", "change")
    full_manifest(repo / "models" / "m0001", "model-0001", b"weights 1 v201", version="1.300.0")
    based = median_run([MODELGATE, "check", "--base", "main"], repo, repeat=3)
    print(f"      check --base main on {count} manifests with 200 commits of history: {based:.2f} s")


def monorepo(work: Path, quick: bool) -> None:
    """The monorepo table of issue #19: see benchmarks/monorepo.py."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import monorepo as table

    if quick:
        table.run([40, 120], 60, 1, work)
    else:
        table.run([100, 1000, 5000], 2000, None, work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, for a smoke run")
    parser.add_argument(
        "--only", choices=["hashing", "cache", "lfs", "startup", "many", "monorepo"], help="run one part"
    )
    options = parser.parse_args()
    big, huge, count = (64 << 20, 1 * GiB, 100) if options.quick else (1 * GiB, 10 * GiB, 1000)
    print(f"modelgate benchmarks on {os.cpu_count()} cores, Python {sys.version.split()[0]}, {sys.platform}")
    work = Path(tempfile.mkdtemp(prefix="modelgate-bench-"))
    parts: dict[str, Callable[[], None]] = {
        "hashing": lambda: hashing(work, big),
        "cache": lambda: cached_recheck(work, huge),
        "lfs": lambda: lfs_pointer(work),
        "startup": lambda: startup(work),
        "many": lambda: many(work, count),
        # Last: its largest repository (5,000 models x 2,000 commits) is the longest part.
        "monorepo": lambda: monorepo(work, options.quick),
    }
    try:
        for name, part in parts.items():
            if options.only in (None, name):
                part()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
