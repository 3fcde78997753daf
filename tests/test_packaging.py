"""The distribution as PyPI and pip see it: the sdist and wheel that `python -m build` makes
from the repository's files, checked by the packaging tools themselves (`twine check
--strict`, `check-wheel-contents`), with the licence, typing marker, policy packs and
schemas inside."""

from __future__ import annotations

import email.parser
import hashlib
import importlib.resources
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import modelgate
from tests.conftest import REPO, copy_checkout

# sha256 of https://www.apache.org/licenses/LICENSE-2.0.txt, the licence pyproject declares.
APACHE_2_0 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


def _run(*args: str, cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist and wheel built offline from a copy of the files git would commit (the build
    writes build/ and *.egg-info beside its sources: not into the checkout under test)."""
    if not (REPO / ".git").exists():
        pytest.skip("needs a git checkout: the sources to package are the files git lists")
    src = tmp_path_factory.mktemp("src")
    copy_checkout(src)
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: the build backend (setuptools>=77, from the test extras) is the one
    # installed here, so the build needs no network.
    _run("build", "--no-isolation", "--outdir", str(out), str(src), cwd=src)
    return out


def _one(folder: Path, pattern: str) -> Path:
    [found] = folder.glob(pattern)
    return found


def test_twine_check_strict_passes(dist: Path) -> None:
    out = _run("twine", "check", "--strict", *map(str, sorted(dist.iterdir())), cwd=dist)
    assert out.count("PASSED") == 2, out


def test_check_wheel_contents_passes(dist: Path) -> None:
    # From the repository's root, so the [tool.check-wheel-contents] table in pyproject applies.
    out = _run("check_wheel_contents", str(_one(dist, "*.whl")), cwd=REPO)
    assert out.strip().endswith(": OK"), out


def test_license_is_apache_2_0_in_the_repository_sdist_and_wheel(dist: Path) -> None:
    text = (REPO / "LICENSE").read_bytes()
    assert hashlib.sha256(text).hexdigest() == APACHE_2_0, "LICENSE must be the Apache License 2.0 text"
    version = modelgate.__version__
    with tarfile.open(_one(dist, "*.tar.gz")) as sdist:
        member = sdist.extractfile(f"modelgate-{version}/LICENSE")
        assert member is not None and member.read() == text
        pkg_info = sdist.extractfile(f"modelgate-{version}/PKG-INFO")
        assert pkg_info is not None
        sdist_meta = email.parser.BytesParser().parse(pkg_info)
    with zipfile.ZipFile(_one(dist, "*.whl")) as wheel:
        assert wheel.read(f"modelgate-{version}.dist-info/licenses/LICENSE") == text
        meta = email.parser.BytesParser().parsebytes(wheel.read(f"modelgate-{version}.dist-info/METADATA"))
    for metadata in (sdist_meta, meta):
        assert metadata["License-Expression"] == "Apache-2.0"
        assert metadata.get_all("License-File") == ["LICENSE"]


def test_metadata_has_urls_and_classifiers(dist: Path) -> None:
    with zipfile.ZipFile(_one(dist, "*.whl")) as wheel:
        meta = email.parser.BytesParser().parsebytes(
            wheel.read(f"modelgate-{modelgate.__version__}.dist-info/METADATA")
        )
    classifiers = set(meta.get_all("Classifier") or [])
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert "Programming Language :: Python :: 3.11" in classifiers  # requires-python's floor
    assert meta["Requires-Python"] == ">=3.11"
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())


def test_wheel_ships_the_policy_packs_schemas_and_typing_marker(dist: Path) -> None:
    with zipfile.ZipFile(_one(dist, "*.whl")) as wheel:
        names = set(wheel.namelist())
    policies = {
        f"modelgate/policies/{p.name}"
        for p in importlib.resources.files("modelgate.policies").iterdir()
        if p.name.endswith(".yaml")
    }
    schemas = {
        f"modelgate/datamodel/schemas/{p.name}"
        for p in importlib.resources.files("modelgate.datamodel.schemas").iterdir()
        if p.name.endswith(".json")
    }
    assert "modelgate/policies/default.yaml" in policies and "modelgate/datamodel/schemas/manifest.json" in schemas
    assert policies | schemas | {"modelgate/py.typed"} <= names
    assert {n.split("/")[0] for n in names} == {"modelgate", f"modelgate-{modelgate.__version__}.dist-info"}
