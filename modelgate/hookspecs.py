"""Every hook modelgate calls, in one place.

Plugins implement these with ``@modelgate.hookimpl`` (marker and entry-point group:
``modelgate``). modelgate always calls hooks with keyword arguments. Built-in checks and
reporters are plugins that implement these same hooks. ``docs/hooks.md`` documents each
hook; a test keeps it in sync with this file.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from modelgate.approvals.evidence import ApprovalRequest, Approvals
    from modelgate.checkapi.decorator import Check
    from modelgate.reporters import Reporter, ReportRequest

hookspec = pluggy.HookspecMarker("modelgate")
hookimpl = pluggy.HookimplMarker("modelgate")


@hookspec
def modelgate_addoption(parser: argparse.ArgumentParser) -> None:
    """Add command-line options to ``modelgate check``.

    Called once per run, before the command line is parsed; every implementation runs
    (not firstresult). Returns nothing.
    Built-in reporters add their ``--json FILE``-style options here.
    """


@hookspec
def modelgate_collect_checks(plugin: object) -> list[Check] | None:
    """Return the checks that ``plugin`` (a registered module or object) provides.

    Called once for every registered plugin; every non-None list is used (not firstresult).
    The built-in collector returns each module attribute decorated with
    ``@modelgate.check``, so a plugin module needs no hook of its own to provide checks.
    """


@hookspec
def modelgate_reporters(request: ReportRequest) -> list[Reporter] | None:
    """Return the reporters to run for this command line (``request.option(dest)``) and environment.

    Called once per run after the checks ran; every non-None list is used (not firstresult).
    A reporter with ``path=None`` writes to the console (standard output, or standard error
    while a report goes to standard output); ``path="-"`` (a report flag given ``-``) to
    standard output, which then carries that report alone; any other path is written
    atomically (temporary file, then rename).
    """


@hookspec
def modelgate_approval_providers() -> list[str] | None:
    """Return the names of the approvals providers this plugin implements.

    Called once per run, when the configuration or an ``approvals`` rule names a provider;
    every non-None list is used (not firstresult). A name no plugin returns is a
    configuration error (exit 4), not an approval that silently never comes.
    """


@hookspec(firstresult=True)
def modelgate_collect_approvals(request: ApprovalRequest) -> Approvals | None:
    """Return the approvals of this change that the provider ``request.provider`` verified.

    firstresult: the plugin implementing the requested provider answers, every other plugin
    returns None. Called at most once per provider and run, when an ``approvals`` rule needs it. A
    provider that cannot verify (no token, an API error, no allowed-signers file) returns
    ``Approvals(provider, error=...)``: fail closed, never an empty success. A run that
    checks a manifest the change adds or edits, under a rule that asks this provider, asks
    once the manifests are loaded, on a thread of its own whose ``request.git`` and
    ``request.tree`` no other thread uses; what the hook raises is raised when a rule asks.
    """
