"""Coverage-guided fuzzing of the config loader (atheris): ``.modelgate.yaml`` and
``[tool.modelgate]`` in ``pyproject.toml``.

Not part of the test suite (atheris is optional); see README.md beside this file. An input
starting with ``T`` is a pyproject.toml (the rest of it), any other a .modelgate.yaml. The
property: loading either succeeds with settings of the shapes the code reading them
assumes, or raises InputError/ConfigError with a message (problems at real positions); it
never raises anything else and never hangs.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from modelgate.datamodel import config
    from modelgate.errors import ConfigError, InputError


def one_input(data: bytes) -> None:
    name, raw = ("pyproject.toml", data[1:]) if data[:1] == b"T" else (config.CONFIG_FILE, data)

    def read(rel: str) -> bytes:
        if rel != name:
            raise FileNotFoundError(rel)
        return raw

    try:
        loaded = config.load(read, {}, {})
    except InputError as exc:
        assert exc.problems, "InputError without problems"
        for problem in exc.problems:
            assert problem.line >= 1 and problem.column >= 1, problem
        return
    except ConfigError as exc:
        assert str(exc), "ConfigError without a message"
        return
    for values in (loaded.manifests, loaded.policies, loaded.plugins):
        assert all(isinstance(v, str) and v for v in values), values
    assert loaded.base is None or isinstance(loaded.base, str), loaded.base
    for key in ("provider", "token_env", "allowed_signers"):
        assert key not in loaded.approvals or isinstance(loaded.approvals[key], str), loaded.approvals


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
