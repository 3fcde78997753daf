"""pydantic-core's compiled module, without the Python package around it.

Validating from the committed schema (:mod:`modelgate.datamodel.coreschema`) needs
``SchemaValidator`` and ``ValidationError``, both defined by the compiled
``pydantic_core._pydantic_core``. ``import pydantic_core`` runs the package's
``__init__`` first, which imports ``core_schema`` and ``typing_extensions`` for the type
hints of code that builds schemas: about 50 ms on the 2-core machine, against 4 ms for the
compiled module alone, on a background thread that shares the interpreter with the
manifests being parsed (6-7% of a 100-model CI run, paired runs of benchmarks/monorepo.py's
repository).

So the compiled module is loaded from the installed package's folder under its own full
name and put in ``sys.modules``: a later ``import pydantic_core`` (pydantic building a
validator, a plugin) finds it there and shares it, since a compiled module of this kind is
initialised once per process. Where the package is laid out otherwise, or already
imported, the package is imported as usual.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType

NAME = "pydantic_core._pydantic_core"
_loading = threading.Lock()  # two threads loading it at once would initialise it twice


def compiled() -> ModuleType:
    """``pydantic_core._pydantic_core``, loaded once per process."""
    with _loading:
        found = sys.modules.get(NAME)
        if found is not None:
            return found
        if "pydantic_core" not in sys.modules:
            alone = _load_alone(_package_folders())
            if alone is not None:
                return alone
        import pydantic_core

        return sys.modules.get(NAME, pydantic_core)


def _package_folders() -> list[str]:
    """Where the installed package ``pydantic_core`` is, found without importing it."""
    import importlib.util

    package = importlib.util.find_spec("pydantic_core")
    return list(package.submodule_search_locations or ()) if package is not None else []


def _load_alone(folders: list[str]) -> ModuleType | None:
    """The compiled module loaded from ``folders``, found as the import system finds it
    (the first of the interpreter's extension suffixes), without running the package's
    ``__init__``; None where there is none, or it does not load."""
    import importlib.machinery
    import importlib.util

    machinery = importlib.machinery
    for folder in folders:
        spec = machinery.FileFinder(folder, (machinery.ExtensionFileLoader, machinery.EXTENSION_SUFFIXES)).find_spec(
            NAME
        )
        if spec is None or spec.loader is None:
            continue
        try:
            module = importlib.util.module_from_spec(spec)  # this initialises it
            spec.loader.exec_module(module)
        except ImportError:
            return None  # the package's own import then says what is wrong
        sys.modules[NAME] = module
        return module
    return None
