"""Installed plugins: the ``modelgate`` entry points of the distributions on ``sys.path``.

``importlib.metadata.entry_points()`` parses the metadata of every installed distribution
and imports the email package to do it: ~60 ms in an environment of a few hundred
packages, on every run. Here, each ``*.dist-info``/``*.egg-info`` folder on ``sys.path``
costs one ``open`` of its ``entry_points.txt``, and only files that mention the group are
parsed. The result is what importlib.metadata would give: the first distribution of a
name on ``sys.path`` wins. Where that cannot be matched cheaply (a zip file on
``sys.path``, a meta-path finder that provides distributions of its own) importlib.metadata
answers instead.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import Any

from modelgate.datamodel.records import record

_SUFFIXES = (".dist-info", ".egg-info")
_NAME = re.compile(r"[-_.]+")


@record
class EntryPoint:
    name: str
    value: str  # "module" or "module:attribute.path", maybe followed by "[extras]"
    group: str

    def load(self) -> Any:
        """The object the entry point names, imported (as importlib.metadata's ``load``)."""
        module, _, attrs = self.value.partition("[")[0].strip().partition(":")
        found: Any = importlib.import_module(module.strip())
        for attr in filter(None, attrs.strip().split(".")):
            found = getattr(found, attr)
        return found


def entry_points(group: str) -> list[EntryPoint]:
    """Every entry point of ``group`` that an installed distribution declares."""
    folders = [p or os.curdir for p in sys.path]
    if not all(os.path.isdir(p) or not os.path.exists(p) for p in folders) or _foreign_finders():
        return _from_importlib(group)
    found: list[EntryPoint] = []
    seen: set[str] = set()
    header = f"[{group}]".encode()
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            if not name.endswith(_SUFFIXES):
                continue
            dist = _normalize(name.rpartition(".")[0].partition("-")[0])
            if dist in seen:
                continue
            seen.add(dist)
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), "rb") as stream:
                    text = stream.read()
            except OSError:  # no entry points, or a file named like a metadata folder
                continue
            if header in text:
                found += _parse(text.decode("utf-8", "replace"), group)
    return found


def _normalize(name: str) -> str:
    return _NAME.sub("_", name).lower()


def _parse(text: str, group: str) -> list[EntryPoint]:
    """The ``group`` section of an entry_points.txt (an INI file: ``name = value`` lines)."""
    found = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif current == group and "=" in line:
            name, _, value = line.partition("=")
            found.append(EntryPoint(name.strip(), value.strip(), group))
    return found


def _foreign_finders() -> bool:
    """Whether something besides the standard path finder can provide distributions."""
    from importlib.machinery import PathFinder

    return any(hasattr(finder, "find_distributions") for finder in sys.meta_path if finder is not PathFinder)


def _from_importlib(group: str) -> list[EntryPoint]:
    from importlib.metadata import entry_points as installed

    return [EntryPoint(ep.name, ep.value, group) for ep in installed(group=group)]
