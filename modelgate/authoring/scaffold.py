"""``modelgate init``: a valid manifest from a trained model's files, nothing typed by hand.

Hashes and sizes are computed; ``lineage.code`` comes from the repository's HEAD (or the
commit MLflow recorded); owners from CODEOWNERS (without one, from ``git config
user.email``, and init says so); lineage, params, metrics and the
signature from MLflow, DVC and Hugging Face files when given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelgate import __version__
from modelgate.approvals import codeowners
from modelgate.authoring.yamledit import Quoted, emit, write_text
from modelgate.datamodel import manifest
from modelgate.datamodel.records import record
from modelgate.errors import GitError, InputError, UsageError
from modelgate.git.repo import GitRepo
from modelgate.hashing.cache import for_clone
from modelgate.hashing.digest import Digest, Hasher, HashError
from modelgate.interop import Imported
from modelgate.pipeline import discovery
from modelgate.pipeline.paths import ArtifactPathError, MissingFile, is_repository_path, resolve

if TYPE_CHECKING:
    from modelgate.interop.dvc import Record

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


@dataclass
class InitRequest:
    artifacts: Sequence[str]
    name: str
    version: str
    stage: str = "none"
    owners: Sequence[str] = ()
    license: str | None = None
    description: str | None = None
    output: str | None = None
    force: bool = False
    mlflow: str | None = None
    dvc: str | None = None
    hf: str | None = None


@record
class Written:
    path: str  # as given or found, for messages
    model: manifest.Manifest
    sources: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what init chose on its own, to be said


def artifact_files(paths: Sequence[str]) -> list[str]:
    """Absolute paths of the artifact files; a folder stands for every file in it."""
    files: list[str] = []
    for path in paths:
        full = os.path.abspath(path)
        if os.path.isdir(full):
            for dirpath, dirnames, names in os.walk(full):
                dirnames[:] = sorted(d for d in dirnames if d not in (".git", "__pycache__"))
                files.extend(
                    os.path.join(dirpath, n)
                    for n in sorted(names)
                    if not discovery.is_manifest_name(n) and not n.endswith(".dvc")
                )
        elif os.path.isfile(full):
            files.append(full)
        else:
            raise UsageError(f"{path}: no such artifact file")
    if not files:
        raise UsageError("no artifact files given")
    return list(dict.fromkeys(files))


def init(request: InitRequest, root: str) -> Written:
    if not re.fullmatch(manifest.NAME_PATTERN.strip("^$"), request.name):
        raise UsageError(f"--name {request.name!r}: use lowercase letters, digits, '.', '_' and '-'")
    if not _SEMVER.match(request.version):
        raise UsageError(f"--version {request.version!r}: use a SemVer version such as 1.0.0")
    files = artifact_files(request.artifacts)
    target = (
        os.path.abspath(request.output)
        if request.output
        else os.path.join(os.path.commonpath([os.path.dirname(f) for f in files]), discovery.MANIFEST_NAME)
    )
    if os.path.isdir(target):
        target = os.path.join(target, discovery.MANIFEST_NAME)
    shown = discovery.relpath(root, target)
    if not discovery.is_manifest_name(os.path.basename(target)):
        raise UsageError(f"{shown}: a manifest is named modelgate.yaml or <name>.modelgate.yaml")
    if os.path.lexists(target) and not request.force:
        raise UsageError(f"{shown} exists; pass --force to overwrite it")
    folder = os.path.dirname(target)
    for file in files:
        if os.path.commonpath([folder, file]) != folder:
            raise UsageError(
                f"{discovery.relpath(root, file)} is not inside {discovery.relpath(root, folder) or '.'};"
                " artifacts live at or below the manifest's folder (use --output)"
            )
    imports = _imports(request, files, folder, root)
    notes: list[str] = []
    # The clone's cache, as `check` opens it outside CI: the first check after init finds
    # every digest taken here, and hashes nothing again.
    hasher = Hasher(for_clone(root, os.environ))
    try:
        data = _build(request, files, folder, root, imports, notes, hasher)
    finally:
        if hasher.cache is not None:
            hasher.cache.close()
    header = (
        f"{request.name} {request.version}: written by modelgate init (modelgate {__version__}).\n"
        "Hashes and sizes were computed from the files; review, then `modelgate check`."
    )
    text = emit(data, header)
    doc = manifest.from_bytes(text.encode(), shown, target)
    if doc.model is None:
        raise InputError(list(doc.problems))
    from modelgate.checks.governance import owners as owners_check

    for fail in owners_check.func(manifest=doc.model):  # the same rule `check` applies (MG601)
        raise UsageError(f"{fail.message}; pass --owner @org/team, @user or an email")
    os.makedirs(folder, exist_ok=True)
    write_text(target, text)
    return Written(shown, doc.model, tuple(i.source for i in imports), tuple(notes))


def _imports(request: InitRequest, files: list[str], folder: str, root: str) -> list[Imported]:
    found = []
    if request.mlflow:
        from modelgate.interop.mlflow import import_mlflow

        found.append(import_mlflow(request.mlflow))
    if request.dvc:
        from modelgate.interop.dvc import import_lock

        found.append(import_lock(os.path.abspath(request.dvc), files, folder, root))
    if request.hf:
        from modelgate.interop.hf import import_card

        found.append(import_card(request.hf))
    return found


def _owners(request: InitRequest, folder: str, root: str, notes: list[str]) -> list[str]:
    """--owner, else the CODEOWNERS entry for the manifest, else (no CODEOWNERS at all) the
    person running init, as ``git config user.email`` names them, said in ``notes``."""
    if request.owners:
        return list(request.owners)
    found = codeowners.in_work_tree(root)
    if found.problems:
        # GitHub skips these lines; guessing what they meant would name the wrong owners.
        raise UsageError(f"{found.problems[0]}: pass --owner @org/team (or an email), or fix CODEOWNERS")
    target = discovery.relpath(root, folder) + "/" + discovery.MANIFEST_NAME
    if found.path is not None:
        owners = found.owners(target.lstrip("/"))
        if not owners:
            # The repository says who owns what; a guess beside it would be an owner nobody chose.
            raise UsageError(
                f"{found.path} names no owner for {target.lstrip('/')}: pass --owner @org/team"
                " (or an email), or add a line for it"
            )
        return owners
    email = _git_email(root)
    if not email:
        raise UsageError(
            "no owners: pass --owner @org/team (or an email), add a CODEOWNERS file, or set `git config user.email`"
        )
    notes.append(
        f"owner {email}: from `git config user.email` (no --owner, no CODEOWNERS file);"
        " pass --owner @org/team to name a team"
    )
    return [email]


def _git_email(root: str) -> str | None:
    repo = GitRepo.at(root) or GitRepo(root)
    try:
        out = repo.run("config", "--get", "user.email", check=False)
    except GitError:
        return None
    email = out.decode("utf-8", "replace").strip()
    return email or None


def _build(
    request: InitRequest,
    files: list[str],
    folder: str,
    root: str,
    imports: list[Imported],
    notes: list[str],
    hasher: Hasher,
) -> dict[str, Any]:
    def first(attr: str) -> Any:
        return next((getattr(i, attr) for i in imports if getattr(i, attr)), None)

    owners = _owners(request, folder, root, notes)
    data: dict[str, Any] = {
        "apiVersion": "modelgate/v1",
        "kind": "Model",
        "name": request.name,
        # Quoted, as the README writes it: a reader copying the style never meets `1.10`.
        "version": Quoted(request.version),
        "stage": request.stage,
    }
    description = request.description or first("description")
    if description:
        data["description"] = description
    data["owners"] = owners
    license_id = request.license or first("license")
    if license_id:
        data["license"] = license_id
    from modelgate.git.lfs import tracked_by

    lfs = tracked_by(root)
    data["artifacts"] = [_artifact(f, folder, root, lfs, hasher, dvc=request.dvc is not None) for f in files]
    lineage = _lineage(root, folder, imports, first("commit"))
    for entry in lineage.get("data", ()):
        _pin_data(entry, folder, root, lfs, hasher)
    if lineage:
        data["lineage"] = lineage
    if first("signature"):
        data["signature"] = first("signature")
    metrics: dict[str, Any] = {}
    for imported in imports:
        for key, value in imported.metrics.items():
            metrics.setdefault(key, value)
    if metrics:
        data["metrics"] = metrics
    tags: dict[str, str] = {}
    for imported in imports:
        tags.update({k: v for k, v in imported.tags.items() if k not in tags})
    if tags:
        data["tags"] = tags
    return data


def _artifact(
    path: str, folder: str, root: str, lfs: Callable[[str], bool], hasher: Hasher, *, dvc: bool
) -> dict[str, Any]:
    """An artifact entry; with ``dvc`` (``--from-dvc``), DVC's md5 too where a ``.dvc`` file
    or ``dvc.lock`` tracks the file, so that ``check`` verifies it where it is not pulled."""
    records = _dvc_records(root, path) if dvc else []
    digest = file_digest(path, hasher, lfs=lfs, md5=bool(records))
    entry: dict[str, Any] = {
        "path": os.path.relpath(path, folder).replace(os.sep, "/"),
        "sha256": digest.sha256,
        "size": digest.size,
    }
    md5 = _dvc_md5(records, digest, discovery.relpath(root, path))
    if md5 is not None:
        entry["md5"] = md5
    return entry


def _dvc_records(root: str, path: str) -> list[Record]:
    from modelgate.interop import dvc

    return [r for r in dvc.records(root, path) if not r.within]


def _dvc_md5(records: list[Record], digest: Digest, shown: str) -> str | None:
    """The md5 DVC records for these bytes; UsageError when DVC recorded other bytes (the
    manifest would pin bytes DVC cannot give back)."""
    plain = [r for r in records if r.out.md5 and not r.out.legacy]  # DVC 2 hashed text with CRLF as LF
    for entry in plain:
        if digest.md5 is not None and entry.out.md5 != digest.md5:
            raise UsageError(
                f"{shown}: {entry.source} records md5 {entry.out.md5}, the file has md5 {digest.md5};"
                " run `dvc repro` or `dvc commit` so that DVC records these bytes"
            )
    if digest.md5 is not None and plain:
        return digest.md5
    found = {r.out.md5 for r in plain}
    return found.pop() if len(found) == 1 else None  # an LFS pointer: the content is not here


def _pin_data(entry: dict[str, Any], folder: str, root: str, lfs: Callable[[str], bool], hasher: Hasher) -> None:
    """Add the sha256 and size of a data entry whose uri is a file here (``check`` verifies
    it: ``data-hash``); one DVC recorded must still be the file DVC recorded."""
    uri = entry.get("uri")
    if not isinstance(uri, str) or not is_repository_path(uri) or "md5" not in entry:
        return
    try:
        path = resolve(root, folder, uri, kind="data")
    except MissingFile:
        return  # not pulled: DVC's md5 and size pin it
    except ArtifactPathError as exc:
        raise UsageError(f"{uri}: {exc}") from None
    digest = file_digest(path, hasher, lfs=lfs, md5=True)
    shown = discovery.relpath(root, path)
    if digest.md5 is not None and digest.md5 != entry["md5"]:
        raise UsageError(
            f"{shown}: dvc.lock records md5 {entry['md5']} for the data the model was trained on,"
            f" the file has md5 {digest.md5}; run `dvc repro` so that the model is trained on it"
        )
    md5 = entry.pop("md5")
    entry.pop("size", None)
    entry.update(sha256=digest.sha256, size=digest.size, md5=md5)


def file_digest(path: str, hasher: Hasher | None = None, *, lfs: Callable[[str], bool], md5: bool = False) -> Digest:
    """The file's digest (with ``md5``, its md5 too, from the same read); for a Git LFS
    pointer at a path ``lfs`` says git gives ``filter=lfs``
    (:func:`modelgate.git.lfs.tracked_by`), the content's digest the pointer records (no
    md5: the content is not here). Anywhere else a pointer is just bytes, as ``check`` sees
    it."""
    from modelgate.git.lfs import LfsError, read_pointer

    try:
        pointer = read_pointer(path)
    except LfsError as exc:
        pointer = None
        if lfs(path):
            raise UsageError(f"{path}: {exc}") from None
    if pointer is not None and lfs(path):
        return Digest(pointer.oid, pointer.size)
    try:
        return (hasher or Hasher()).digest(path, md5=md5)
    except HashError as exc:
        raise UsageError(f"{path}: cannot hash: {exc}") from None


def _lineage(root: str, folder: str, imports: list[Imported], commit: str | None) -> dict[str, Any]:
    lineage: dict[str, Any] = {}
    code = _code(root, commit)
    if code:
        lineage["code"] = code
    data: list[dict[str, Any]] = []
    for imported in imports:
        data += [d for d in imported.data if d["name"] not in {e["name"] for e in data}]
    if data:
        lineage["data"] = data
    params = next((i.params for i in imports if i.params), None)
    if params:
        lineage["params"] = params
    environment: dict[str, Any] = {}
    for imported in imports:
        for key, value in (imported.environment or {}).items():
            environment.setdefault(key, value)
    if environment:
        lineage["environment"] = environment
    run = next((i.run for i in imports if i.run), None)
    if run:
        lineage["run"] = run
    return lineage


def _code(root: str, commit: str | None) -> dict[str, Any]:
    repo = GitRepo.at(root)
    if repo is None:
        return {"commit": commit} if commit else {}
    try:
        head = commit or repo.head()
        url = repo.origin_url()
    except GitError:
        return {"commit": commit} if commit else {}
    code: dict[str, Any] = {}
    if head:
        code["commit"] = head
    if url and code:
        # Credentials in a remote URL (https://user:token@host/...) never go into a manifest.
        code["repo"] = re.sub(r"^([a-z+]+://)[^/@]*@", r"\1", url)
    return code
