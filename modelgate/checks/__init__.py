"""Built-in checks. Each module is a plugin, registered exactly like a third-party one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelgate.checkapi.decorator import Skip

if TYPE_CHECKING:
    from modelgate.pipeline.base import Base
    from modelgate.pipeline.context import Context

# Each module's MODELGATE_DOCS: one section per check (``#mg102-artifact-hash``), generated
# from the checks themselves and kept in step by the test suite (tests/test_readme.py).
DOCS = "https://github.com/modelgate/modelgate/blob/main/docs/checks.md"


def require_base(context: Context) -> Base:
    """The run's base; a check that compares with it is skipped without one."""
    if context.base is None:
        raise Skip("no base: run with --base REF (CI uses the pull request's base)", reason="no-base")
    return context.base
