"""A provider asked for approvals before a rule needs them, on a thread of its own.

The ``approvals`` rule asks once the manifests are parsed, and then the provider mostly
waits: on git (signed-commits verifies every signature of the change, lists its first
parents, compares files) or on the GitHub API. Asked when the session begins, it waits
while the manifests are parsed instead (benchmarks/monorepo.py: about 45 ms of a
100-model run on a slow 2-core machine). The thread gets its own :class:`GitRepo`: one
``cat-file`` process answers one reader at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelgate.approvals.evidence import Approvals


class Pending:
    """Approvals being collected by ``ask`` on a thread; ``close`` runs when it is done."""

    def __init__(self, ask: Callable[[], Approvals | None], close: Callable[[], None]) -> None:
        self._answer: Approvals | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(ask, close), daemon=True)
        self._thread.start()

    def _run(self, ask: Callable[[], Approvals | None], close: Callable[[], None]) -> None:
        try:
            self._answer = ask()
        except BaseException as exc:  # raised where the answer is taken, as if asked there
            self._error = exc
        finally:
            close()

    def result(self) -> Approvals | None:
        """The provider's answer (None: no plugin answered); raises what asking raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._answer

    def wait(self) -> None:
        """Wait for the thread, whatever it found: a run leaves no git process behind."""
        self._thread.join()
