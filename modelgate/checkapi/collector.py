"""The built-in collector: a plugin's checks are its attributes made by ``@modelgate.check``."""

from __future__ import annotations

from modelgate.checkapi.decorator import Check
from modelgate.hookspecs import hookimpl


@hookimpl
def modelgate_collect_checks(plugin: object) -> list[Check]:
    return [value for value in vars(plugin).values() if isinstance(value, Check)] if hasattr(plugin, "__dict__") else []
