"""Approvals asked ahead: the answer, or the error, is what asking there and then gives,
and what the thread opened is closed when it is done."""

from __future__ import annotations

import threading

import pytest

from modelgate.approvals.ahead import Pending
from modelgate.approvals.evidence import Approvals
from modelgate.errors import GitError


def test_the_answer_is_collected_on_another_thread_and_then_closed() -> None:
    asked_on: list[threading.Thread] = []
    closed: list[bool] = []
    answer = Approvals("test", change_authors=("ana@acme.io",))

    def ask() -> Approvals:
        asked_on.append(threading.current_thread())
        return answer

    pending = Pending(ask, lambda: closed.append(True))
    assert pending.result() is answer
    assert asked_on and asked_on[0] is not threading.current_thread()
    assert closed == [True]


def test_what_asking_raised_is_raised_where_the_answer_is_taken() -> None:
    closed: list[bool] = []

    def ask() -> Approvals:
        raise GitError("git log failed: bad revision")

    pending = Pending(ask, lambda: closed.append(True))
    pending.wait()  # waiting alone raises nothing: a run that never asked ends quietly
    assert closed == [True]
    with pytest.raises(GitError, match="bad revision"):
        pending.result()
