"""MG2xx: where the model came from (code, data, params, environment)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

from modelgate.checkapi.decorator import Fail, Skip, check
from modelgate.checks import DOCS
from modelgate.checks.pinning import PinnedFile, how_verified, verify
from modelgate.datamodel.validation import Strict
from modelgate.hashing.digest import HashError
from modelgate.pipeline.paths import ArtifactPathError, is_repository_path

MODELGATE_DOCS = DOCS  # each check's section there is its SARIF helpUri

if TYPE_CHECKING:
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.pipeline.context import Context

# Names that move: a "revision" like these pins nothing.
MOVING_REVISIONS = frozenset(
    {"head", "main", "master", "latest", "dev", "develop", "trunk", "current", "stable", "default"}
)


@check(
    "MG201",
    name="required-fields",
    needs_rule=True,
    adds_up=["fields"],
    hint="add the missing field; the policy requires it at this stage",
)
def required_fields(manifest: Manifest, params: dict[str, Any]) -> Iterator[Fail]:
    """Fields the policy requires at this stage are present and not empty.

    ``with: {fields: [license, lineage.code.commit, lineage.data, ...]}`` lists dotted
    paths into the manifest. A field that is missing, null, or an empty list or mapping
    fails. ``builtin:default`` requires ``license``, ``lineage.code.commit``,
    ``lineage.data`` and ``lineage.params`` from staging on, and
    ``lineage.environment.lockfile`` at production.
    """
    fields = params.get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise Fail("rule misconfigured: with.fields must be a list of dotted field names")
    for dotted in fields:
        value: Any = manifest
        parent = []
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict | Strict) else None
            if value is None:
                break
            parent.append(part)
        if value is None or value == [] or value == {} or value == "":
            # Point at the deepest part that exists, else at the stage that requires it.
            yield Fail(
                f"{dotted} is required at stage {manifest.stage!r}",
                at=".".join(parent) or "stage",
                hint=f"add {dotted}",
            )


@check(
    "MG202",
    name="data-pinned",
    hint="give each data entry a sha256, or a revision that never moves (a commit, a dated snapshot)",
)
def data_pinned(manifest: Manifest) -> Iterator[Fail]:
    """Every training-data entry is pinned by a digest or an immutable revision.

    A data entry needs ``sha256`` or ``revision`` (or DVC's ``md5``); a revision that names
    something that moves (``main``, ``latest``, ``HEAD``...) pins nothing and fails. This is
    what makes "which dataset trained the model in production?" answerable. Whether a data
    file in the repository matches its digest is ``data-hash``'s question.
    """
    for index, entry in enumerate(manifest.lineage.data if manifest.lineage else ()):
        at = f"lineage.data[{index}]"
        if entry.sha256 is None and entry.md5 is None and entry.revision is None:
            yield Fail(f"data {entry.name!r} has neither sha256 nor revision", at=at)
        elif (
            entry.sha256 is None and entry.md5 is None and entry.revision and entry.revision.lower() in MOVING_REVISIONS
        ):
            yield Fail(
                f"data {entry.name!r} revision {entry.revision!r} moves; pin an immutable one", at=f"{at}.revision"
            )


@check(
    "MG205",
    name="data-hash",
    waivable=False,
    digests=["sha256"],
    digests_of=["data"],
    hint="if the data changed on purpose, record its digests with `modelgate hash --update` (a new dataset"
    " is a new model version)",
)
def data_hash(manifest: Manifest, doc: ManifestDoc, context: Context) -> Generator[Fail, None, str | None]:
    """Every training-data file in the repository is what the manifest's digest says.

    A ``lineage.data`` entry whose ``uri`` has no scheme is a path in the repository,
    relative to the manifest's folder like an artifact's: ``..`` reaches a repository-level
    folder (``../../data/train.csv`` from ``models/churn/``) but never leaves the repository
    or enters ``.git``. Its ``sha256``, and ``size`` and ``md5`` when given, are verified as
    an artifact's are: from the file, from a Git LFS pointer where git says ``filter=lfs``,
    or, for a file a ``.dvc`` file or ``dvc.lock`` tracks and the clone lacks (no ``dvc
    pull``), against the md5 and size DVC recorded. A missing, unreadable or different file
    fails; a folder is not hashed (list its files). A uri with a scheme (``s3://``,
    ``https://``, ``dvc://``...) names nothing here; an entry pinned by a ``revision`` alone
    is not hashed (``data-pinned`` judges it), and the passing result names it.
    """
    entries = manifest.lineage.data if manifest.lineage else []
    local = [(index, entry) for index, entry in enumerate(entries) if is_repository_path(entry.uri)]
    if not local:
        raise Skip("no lineage.data entry is a path in the repository")
    verified: dict[str, list[str]] = {}
    unhashed = []
    for index, entry in local:
        if entry.sha256 is None and entry.md5 is None:
            unhashed.append(entry.uri)
            continue
        pinned = PinnedFile(entry.uri, entry.sha256, entry.size, entry.md5, f"lineage.data[{index}]", "uri", "data")
        how = yield from verify(pinned, doc, context)
        if how is not None:
            verified.setdefault(how, []).append(entry.uri)
    said = [how_verified(verified) or ""]
    if unhashed:
        said.append(f"not hashed, pinned by revision only: {', '.join(unhashed)}")
    return "; ".join(s for s in said if s) or None


@check(
    "MG203",
    name="lockfile-hash",
    digests=["sha256"],
    digests_of=["lockfile"],
    hint="regenerate the sha256 of the lockfile, or commit the lockfile the model was trained with",
)
def lockfile_hash(manifest: Manifest, doc: ManifestDoc, context: Context) -> Iterator[Fail]:
    """The environment lockfile, when declared, exists and matches its sha256.

    ``lineage.environment.lockfile.path`` is relative to the manifest's folder, like an
    artifact (``..`` allowed while it stays inside the repository); the environment a model
    was trained in is only pinned if its lockfile is.
    """
    env = manifest.lineage.environment if manifest.lineage else None
    if env is None or env.lockfile is None:
        raise Skip("no lockfile declared")
    at = "lineage.environment.lockfile"
    try:
        actual = context.digest(context.artifact_path(doc, env.lockfile.path, "lockfile"))
    except (ArtifactPathError, HashError) as exc:
        yield Fail(f"lockfile {env.lockfile.path}: not verified: {exc}", at=f"{at}.path")
        return
    if actual.sha256 != env.lockfile.sha256:
        yield Fail(
            f"lockfile {env.lockfile.path}: sha256 mismatch: manifest says"
            f" {env.lockfile.sha256}, file has {actual.sha256}",
            at=f"{at}.sha256",
        )


@check(
    "MG204",
    name="code-commit",
    needs_rule=True,
    hint="record the commit the model was trained from, and make sure it is pushed to this repository",
)
def code_commit(manifest: Manifest, context: Context) -> Iterator[Fail]:
    """``lineage.code.commit`` exists in this repository and is an ancestor of HEAD.

    A model trained from code nobody can check out cannot be reproduced. Skipped when
    ``lineage.code.repo`` names another repository than this one's ``origin``.
    """
    code = manifest.lineage.code if manifest.lineage else None
    if code is None:
        raise Skip("no lineage.code")
    git = context.git
    if git is None:
        raise Skip("not a git repository")
    origin = git.origin_url()
    if code.repo and origin and _normal(code.repo) != _normal(origin):
        raise Skip(f"the code lives in {code.repo}, not in this repository")
    reached = git.reaches(code.commit)
    if reached is None:
        if git.is_shallow():
            yield Fail(
                f"commit {code.commit[:12]} is not in this shallow clone; history too shallow to tell"
                " (actions/checkout: fetch-depth: 0)",
                at="lineage.code.commit",
            )
        else:
            yield Fail(f"commit {code.commit[:12]} does not exist in this repository", at="lineage.code.commit")
    elif not reached:
        yield Fail(f"commit {code.commit[:12]} is not an ancestor of HEAD", at="lineage.code.commit")


def _normal(url: str) -> str:
    url = url.strip().removesuffix("/").removesuffix(".git")
    for prefix in ("https://", "http://", "ssh://git@", "git@"):
        url = url.removeprefix(prefix)
    return url.replace(":", "/").lower()
