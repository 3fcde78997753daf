"""Coverage-guided fuzzing of policy loading (atheris): the strict YAML loader, the policy
model, ``extends``, and each rule's ``with:`` validated against the built-in checks.

Not part of the test suite (atheris is optional); see README.md beside this file. The
input is the policy file ``policy.yaml``; where it holds a NUL byte, what follows the first
NUL is ``other.yaml``, which it may extend. The property: loading and validating either
succeeds or raises InputError, ConfigError or UsageError with a message; never anything
else, never a hang.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from modelgate.datamodel.policy import PolicyLoader
    from modelgate.errors import ConfigError, InputError, UsageError
    from modelgate.git.trees import WorkTree
    from modelgate.pipeline.rules import RuleSet
    from modelgate.plugins import collect_checks, make_plugin_manager

CHECKS = collect_checks(make_plugin_manager(autoload=False))


def one_input(data: bytes) -> None:
    policy, _, other = data.partition(b"\0")
    files = {"policy.yaml": policy, "other.yaml": other}

    def read(rel: str) -> bytes:
        if rel not in files:
            raise FileNotFoundError(rel)
        return files[rel]

    rules = RuleSet(CHECKS, (), (), WorkTree("/nonexistent"))
    try:
        loaded = PolicyLoader(read, "worktree").load("policy.yaml")
        rules.validate(loaded)
        rules.providers_named([loaded])
    except InputError as exc:
        assert exc.problems, "InputError without problems"
        for problem in exc.problems:
            assert problem.line >= 1 and problem.column >= 1, problem
    except (ConfigError, UsageError) as exc:
        assert str(exc), "an error without a message"


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
