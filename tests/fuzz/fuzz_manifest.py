"""Coverage-guided fuzzing of the strict YAML loader and the manifest model (atheris).

Not part of the test suite (atheris is optional); see README.md beside this file.
The property: for any bytes, loading a manifest either succeeds or reports problems;
it never raises anything else, never hangs, and every problem has a real position.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from modelgate.datamodel import manifest, strictyaml
    from modelgate.errors import InputError


def one_input(data: bytes) -> None:
    try:
        doc = strictyaml.parse(data, "fuzz.yaml")
    except InputError as exc:
        assert exc.problems, "InputError without problems"
        for problem in exc.problems:
            assert problem.line >= 1 and problem.column >= 1, problem
        if exc.partial is None:
            return
        doc = exc.partial
    try:
        manifest.validate(doc)
    except InputError as exc:
        assert exc.problems, "InputError without problems"


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
