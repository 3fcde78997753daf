"""modelgate: model governance as code.

The public API (``check``, ``Fail``, ``Skip``, ``hookimpl``, ``resolve``) is loaded lazily so that
``import modelgate`` and ``modelgate --version`` stay as cheap as starting Python.

PYTEST_DONT_REWRITE: modelgate ships a pytest plugin, and pytest would otherwise rewrite
the asserts of the whole package; they are invariants, not test assertions.
"""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~5 ms at start-up
if TYPE_CHECKING:
    from typing import Any

    from modelgate.checkapi.decorator import Fail, Skip, check
    from modelgate.hookspecs import hookimpl
    from modelgate.registry.resolve import resolve

_LAZY = {
    "check": "modelgate.checkapi.decorator",
    "Fail": "modelgate.checkapi.decorator",
    "Skip": "modelgate.checkapi.decorator",
    "hookimpl": "modelgate.hookspecs",
    "resolve": "modelgate.registry.resolve",
}

__all__ = ["Fail", "Skip", "__version__", "check", "hookimpl", "resolve"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelgate' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
