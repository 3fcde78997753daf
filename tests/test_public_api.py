"""The public API: everything ``modelgate.__all__`` names resolves, and what a plugin author
is shown (the docs, the sample plugin package) imports only from ``modelgate``."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import modelgate
from tests.conftest import REPO

SHOWN = [*sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "tests" / "plugins").rglob("*.py")), REPO / "README.md"]


@pytest.mark.parametrize("name", modelgate.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(modelgate, name) is not None


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Session'"):
        modelgate.Session  # noqa: B018


def test_import_modelgate_loads_none_of_the_api() -> None:
    """Names load on first use: ``import modelgate`` must not import pydantic, the pipeline..."""
    code = "import sys, modelgate; print(sorted(m for m in sys.modules if m.startswith(('modelgate.', 'pydantic'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("path", SHOWN, ids=lambda p: str(p.relative_to(REPO)))
def test_what_plugin_authors_see_imports_only_the_public_api(path: object) -> None:
    text = path.read_text()  # type: ignore[attr-defined]
    private = re.findall(r"^\s*(?:from|import) (modelgate\.[\w.]+)", text, re.M)
    assert private == [], f"import from `modelgate` instead of {private}"


def test_no_two_public_types_share_a_name() -> None:
    """A class's name says which one it is wherever it is imported (house style: one
    ``Rule`` is the policy's, the CODEOWNERS one is ``OwnersRule``)."""
    import ast

    where: dict[str, list[str]] = {}
    for path in sorted((REPO / "modelgate").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                where.setdefault(node.name, []).append(str(path.relative_to(REPO)))
    shared = {name: paths for name, paths in where.items() if len(paths) > 1}
    assert shared == {}
