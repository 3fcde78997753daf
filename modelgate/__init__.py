"""modelgate: model governance as code.

The public API is what ``__all__`` lists; a plugin imports only from ``modelgate``. Every
module below this package (``modelgate.pipeline``, ``modelgate.datamodel``, ...) is internal
and may change between releases.

- writing checks: :func:`check` (the decorator), :class:`Fail`, :class:`Skip`, and the
  objects a check asks for: :class:`Manifest`, :class:`ManifestDoc`, :class:`Context`,
  :class:`Policy`; :class:`Strict` for a rule's ``with:`` parameters as a frozen dataclass;
- hooks: :data:`hookimpl`; reporters: :class:`Reporter`, asked for with a :class:`ReportRequest`,
  given a :class:`Summary` of :class:`Result` records; approval providers: :class:`ApprovalRequest`, :class:`Approvals`,
  :class:`Approval`, :class:`Rejection`;
- serving code: :func:`resolve` (which artifacts a model version is);
- errors: :class:`ModelgateError`.

Names load on first use, so that ``import modelgate`` and ``modelgate --version`` stay as
cheap as starting Python.

PYTEST_DONT_REWRITE: modelgate ships a pytest plugin, and pytest would otherwise rewrite
the asserts of the whole package; they are invariants, not test assertions.
"""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~5 ms at start-up
if TYPE_CHECKING:
    from typing import Any

    from modelgate.approvals.evidence import Approval, ApprovalRequest, Approvals, Rejection
    from modelgate.checkapi.decorator import Check, Fail, Skip, check
    from modelgate.datamodel.manifest import Manifest, ManifestDoc
    from modelgate.datamodel.policy import Policy
    from modelgate.datamodel.results import Result, Summary
    from modelgate.datamodel.validation import Strict
    from modelgate.errors import ModelgateError
    from modelgate.hookspecs import hookimpl
    from modelgate.pipeline.context import Context
    from modelgate.registry.resolve import resolve
    from modelgate.reporters import Reporter, ReportRequest

_LAZY = {
    "Approval": "modelgate.approvals.evidence",
    "ApprovalRequest": "modelgate.approvals.evidence",
    "Approvals": "modelgate.approvals.evidence",
    "Check": "modelgate.checkapi.decorator",
    "Context": "modelgate.pipeline.context",
    "Fail": "modelgate.checkapi.decorator",
    "Manifest": "modelgate.datamodel.manifest",
    "ManifestDoc": "modelgate.datamodel.manifest",
    "ModelgateError": "modelgate.errors",
    "Policy": "modelgate.datamodel.policy",
    "Rejection": "modelgate.approvals.evidence",
    "ReportRequest": "modelgate.reporters",
    "Reporter": "modelgate.reporters",
    "Result": "modelgate.datamodel.results",
    "Skip": "modelgate.checkapi.decorator",
    "Strict": "modelgate.datamodel.validation",
    "Summary": "modelgate.datamodel.results",
    "check": "modelgate.checkapi.decorator",
    "hookimpl": "modelgate.hookspecs",
    "resolve": "modelgate.registry.resolve",
}

__all__ = [
    "Approval",
    "ApprovalRequest",
    "Approvals",
    "Check",
    "Context",
    "Fail",
    "Manifest",
    "ManifestDoc",
    "ModelgateError",
    "Policy",
    "Rejection",
    "ReportRequest",
    "Reporter",
    "Result",
    "Skip",
    "Strict",
    "Summary",
    "__version__",
    "check",
    "hookimpl",
    "resolve",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelgate' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
