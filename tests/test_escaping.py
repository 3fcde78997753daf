"""Escaping untrusted text for the terminal (CI logs are terminals too)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from modelgate.escaping import terminal

TRICKY = st.text(alphabet=st.sampled_from(list(":#[]\n\r\x1b\u202e\u2066 \t%,=ab")), max_size=60)
DENSE = st.text(alphabet=st.sampled_from(list(":#[")), max_size=12)


@settings(max_examples=500)
@given(st.one_of(st.text(max_size=100), TRICKY, DENSE))
def test_terminal_text_is_one_harmless_line(text: str) -> None:
    shown = terminal(text)
    assert "\n" not in shown and "\r" not in shown and "\x1b" not in shown
    assert "\u202e" not in shown and "\u2066" not in shown
    assert "::" not in shown and "##[" not in shown
    assert not shown.lstrip().startswith("::")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp", "Co", "Cn")), max_size=80))
def test_ordinary_text_is_unchanged_apart_from_command_tokens(text: str) -> None:
    assert terminal(text).replace("\u200b", "") == text.replace("\u200b", "")


def test_examples() -> None:
    assert terminal("a\x1b[31mb") == "a\\x1b[31mb"
    assert terminal("::error::x") == ":\u200b:error:\u200b:x"
    assert terminal("##[group]") == "#\u200b#[group]"
    assert terminal(":::") == ":\u200b:\u200b:"
