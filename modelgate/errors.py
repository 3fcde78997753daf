"""The one family of exceptions modelgate raises on purpose.

Modules raise these with a message a user can act on; only ``cli.py`` turns them into
output and an exit code. Third-party exceptions are wrapped at the boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ExitCode:
    OK = 0
    FAILED = 1
    INTERRUPTED = 2
    INTERNAL_ERROR = 3
    USAGE_ERROR = 4
    NO_MANIFESTS = 5


class ModelgateError(Exception):
    """Base class; ``exit_code`` says how the command ends when this escapes."""

    exit_code = ExitCode.USAGE_ERROR


class UsageError(ModelgateError):
    """Bad flags, or a check id that no plugin provides."""


class ConfigError(ModelgateError):
    """A broken config or policy file; the message names file:line."""


class PluginError(ModelgateError):
    """A plugin failed to load or declares something invalid."""


class GitError(ModelgateError):
    """A ref that does not verify, a shallow clone missing the base, git failing."""


class ReportError(ModelgateError):
    """A report file could not be written."""


class GitHubError(ModelgateError):
    """The GitHub API answered with an error (``status``), or not at all (approvals fail closed)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RegistryError(ModelgateError):
    """A registry question with no single answer (``resolve``), or artifacts that do not
    verify against their manifest: the answer a serving script must not proceed with."""

    exit_code = ExitCode.FAILED


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in an input file, at a 1-based line and column."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class InputError(ModelgateError):
    """An input file (manifest, policy, config) is not acceptable.

    Carries every problem found, not just the first. Loading a manifest turns this into
    failed ``manifest-valid`` results; loading a policy or config lets it escape (exit 4).
    """

    exit_code = ExitCode.USAGE_ERROR

    def __init__(self, problems: list[Problem], partial: Any = None) -> None:
        self.problems = problems
        self.partial = partial  # what did parse, when parsing could go on (a YamlDoc)
        super().__init__("\n".join(str(p) for p in problems))
