"""pydantic-core's compiled module is loaded without its package, and shared with it.

Each case runs in a fresh interpreter: what a process has imported is the subject.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_compiled_module_loads_alone_and_a_later_import_of_the_package_shares_it() -> None:
    out = _run(
        """
        import sys
        from modelgate.datamodel.pydanticcore import compiled
        module = compiled()
        print(module.__name__, "pydantic_core" in sys.modules)
        validator = module.SchemaValidator({"type": "int", "strict": True})
        try:
            validator.validate_json('"1"')
        except module.ValidationError as exc:
            print(exc.errors(include_url=False)[0]["type"])
        import pydantic_core
        import pydantic
        shared = pydantic_core.SchemaValidator is module.SchemaValidator
        print(shared, pydantic_core.ValidationError is module.ValidationError)
        print(pydantic.TypeAdapter(int).validate_python(3), compiled() is module)
        """
    )
    assert out.splitlines() == ["pydantic_core._pydantic_core False", "int_type", "True True", "3 True"]


def test_with_the_package_imported_first_its_own_compiled_module_is_used() -> None:
    out = _run(
        """
        import sys
        import pydantic_core
        from modelgate.datamodel.pydanticcore import compiled
        own = compiled() is sys.modules["pydantic_core._pydantic_core"]
        print(own, compiled().SchemaValidator is pydantic_core.SchemaValidator)
        """
    )
    assert out == "True True"


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({}, id="no compiled module"),
        pytest.param({"_pydantic_core.so": b"not a shared object"}, id="one that does not load"),
    ],
)
def test_a_package_laid_out_otherwise_is_imported_as_usual(tmp_path: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    out = _run(
        f"""
        import sys
        from modelgate.datamodel import pydanticcore
        pydanticcore._package_folders = lambda: [{str(tmp_path)!r}]
        module = pydanticcore.compiled()
        print("pydantic_core" in sys.modules, module.SchemaValidator({{"type": "int"}}).validate_python(2))
        """
    )
    assert out == "True 2"


def test_threads_asking_at_once_get_one_module() -> None:
    """The validator is built on a background thread while the main thread may ask too; a
    second load would initialise the compiled module twice, which it refuses."""
    out = _run(
        """
        import sys, threading
        from modelgate.datamodel.pydanticcore import compiled
        start = threading.Barrier(8)
        found = []
        def ask():
            start.wait()
            found.append(compiled())
        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(len(found), len({id(m) for m in found}), "pydantic_core" in sys.modules)
        """
    )
    assert out == "8 1 False"
