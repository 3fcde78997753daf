"""Reading ``git log --raw -z``: field by field, and nothing of another shape (the walk over a
real repository is in test_git_repo.py)."""

from __future__ import annotations

import pytest

from modelgate.errors import GitError
from modelgate.git.log import FileChange, parse_changes

C1, C2, C3, B1, B2 = "1" * 40, "2" * 40, "3" * 40, "a" * 40, "b" * 40
ZERO = "0" * 40


def _log(*commits: tuple[str, str, str, list[tuple[str, str]]]) -> bytes:
    """What ``git log -z --raw --format=%H%x00%ct%x00%an <%ae>`` prints for these commits,
    given newest first as git prints them: (sha, timestamp, author, [(raw line, path)])."""
    fields: list[str] = []
    for sha, when, author, changes in commits:
        fields += [sha, when, author]
        for index, (line, path) in enumerate(changes):
            fields += [("\n" if index == 0 else "") + line, path]
    return ("\0".join(fields) + "\0").encode()


def test_changes_are_read_by_position_oldest_first_and_kept_by_path() -> None:
    out = _log(
        (C2, "200", "B <b@x>", [(f":100644 000000 {B1} {ZERO} D", "m/modelgate.yaml")]),
        (C3, "150", "Empty <e@x>", []),
        (
            C1,
            "100",
            "A \x1b <a@x>",
            [(f":000000 100644 {ZERO} {B1} A", "m/modelgate.yaml"), (f":000000 100644 {ZERO} {B2} A", "m/x.bin")],
        ),
    )
    assert list(parse_changes(out, keep=lambda path: path.endswith(".yaml"))) == [
        FileChange(C1, 100, "A \x1b <a@x>", "m/modelgate.yaml", B1, "A", "100644"),
        FileChange(C2, 200, "B <b@x>", "m/modelgate.yaml", ZERO, "D", "000000"),
    ]
    assert [c.path for c in parse_changes(out)] == ["m/modelgate.yaml", "m/x.bin", "m/modelgate.yaml"]
    assert list(parse_changes(b"")) == []


@pytest.mark.parametrize(
    "out",
    [
        _log(("not-a-sha", "100", "A <a@x>", [])),
        _log((C1, "yesterday", "A <a@x>", [])),
        _log((C1, "100", "A <a@x>", [(f":000000 100644 {ZERO} {B1}", "m/modelgate.yaml")])),  # no status
        _log((C1, "100", "A <a@x>", [(f":000000 100644 {ZERO} short A", "m/modelgate.yaml")])),
        # a line of another shape is an error for any path, kept or not
        _log((C1, "100", "A <a@x>", [(f":000000 100644 {ZERO} {B1} A", "m/x.bin"), ("garbage", "m/y.bin")])),
        _log((C2, "200", "B <b@x>", []), ("not-a-sha", "100", "A <a@x>", [])),
        f"{C1}\0100\0".encode(),  # cut short
    ],
)
def test_output_of_another_shape_is_an_error_never_a_guess(out: bytes) -> None:
    with pytest.raises(GitError, match="git log printed"):
        list(parse_changes(out))
