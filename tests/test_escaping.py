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


# -- GitHub workflow commands, Markdown, XML ------------------------------------------

import html  # noqa: E402
import re  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402

import cmarkgfm  # noqa: E402
from cmarkgfm.cmark import Options  # noqa: E402
from markdown_it import MarkdownIt  # noqa: E402

from modelgate.datamodel.results import Location, Result  # noqa: E402
from modelgate.escaping import github_data, github_property, markdown, strip_controls, xml  # noqa: E402
from modelgate.reporters.github import annotation  # noqa: E402

ANY = st.one_of(
    st.text(max_size=80),
    TRICKY,
    DENSE,
    st.text(alphabet=st.sampled_from(list("%:,\r\n#[@<>&|`*_()!hwtps./\\")), max_size=40),
)


def runner_decode(data: str) -> str:
    """How the Actions runner unescapes command data."""
    return data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def runner_decode_property(value: str) -> str:
    return runner_decode(value.replace("%3A", ":").replace("%2C", ","))


@settings(max_examples=400)
@given(ANY, ANY)
def test_annotation_is_one_command_whose_data_round_trips(message: str, path: str) -> None:
    r = Result("MG001", "manifest-valid", "failed", "error", path, "m@1", message, Location(path, 3, 1))
    line = annotation(r)
    assert "\n" not in line and "\r" not in line
    assert line.startswith("::error file=")
    props, data = line[len("::error ") :].split("::", 1)
    assert "::" not in props
    fields = dict(part.split("=", 1) for part in props.split(","))
    assert runner_decode_property(fields["file"]) == strip_controls(path).replace("##[", "#\u200b#[")
    assert runner_decode(data) == strip_controls(message).replace("##[", "#\u200b#[")


@given(ANY)
def test_github_escapes_round_trip(text: str) -> None:
    expected = re.sub(r"#(?=#\[)", "#\u200b", strip_controls(text))
    assert runner_decode(github_data(text)) == expected
    assert runner_decode_property(github_property(text)) == expected
    assert "\n" not in github_data(text) and "," not in github_property(text)


RENDER = MarkdownIt("commonmark").enable("table")
NO_BACKTICKS = st.one_of(ANY, st.text(alphabet=st.sampled_from(list("@#:/.w<>&|*_()! ax")), max_size=40)).map(
    lambda text: text.replace("`", "")
)


def _cell(text: str) -> tuple[str, str]:
    """The one table cell ``markdown(text)`` makes, as CommonMark (markdown-it) and as GitHub
    (cmark-gfm, with autolinks) render it."""
    cell = markdown(text)
    assert cell.count("\u200b") == text.count("\u200b")  # nothing invisible added
    rendered = []
    for page in (
        RENDER.render(f"| a |\n|---|\n| {cell} |\n"),
        cmarkgfm.github_flavored_markdown_to_html(f"| a |\n|---|\n| {cell} |\n", options=Options.CMARK_OPT_UNSAFE),
    ):
        body = page.split("<tbody>")[1]
        assert body.count("<td>") == 1, page  # no table breakage
        inner = body.split("<td>")[1].split("</td>")[0]
        assert not re.search(r"<(?!/?code>)", inner), inner  # no raw HTML, links, images or emphasis
        rendered.append(inner)
    return rendered[0], rendered[1]


@settings(max_examples=400)
@given(NO_BACKTICKS)
def test_markdown_renders_as_exactly_the_text(text: str) -> None:
    expected = strip_controls(text).replace("\r", " ").replace("\n", " ").replace("\t", " ").strip()
    for inner in _cell(text):
        assert html.unescape(re.sub("</?code>", "", inner)).strip() == expected


@settings(max_examples=300)
@given(ANY)
def test_markdown_with_backticks_stays_one_inert_cell(text: str) -> None:
    _cell(text)


def test_markdown_code_and_mentions() -> None:
    assert markdown("run `git lfs pull` first") == "run `git lfs pull` first"
    assert markdown("fraud-detector@1.4.0 by @acme/ml") == "`fraud-detector@1.4.0` by `@acme/ml`"
    assert markdown('in the base (fraud-detector@1.0.0), by "ana@acme.io".') == (
        'in the base \\(`fraud-detector@1.0.0`\\), by "`ana@acme.io`"\\.'
    )
    assert markdown("a `` b") == "a \\`\\` b"  # no closing run: literal
    assert markdown("``x`y``") == "``x`y``"
    assert markdown("` padded `") == "`padded`"  # as CommonMark reads the span


@given(st.text(max_size=80))
def test_xml_text_round_trips(text: str) -> None:
    element = ET.Element("x", {"message": xml(text)})
    element.text = xml(text)
    back = ET.fromstring(ET.tostring(element, encoding="unicode"))
    lf = text.replace("\r\n", "\n").replace("\r", "\n")
    expected = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "", lf)
    assert back.text == (expected or None)
    assert back.get("message") == expected


# -- SARIF artifact URIs, error lines ----------------------------------------------------

import urllib.parse  # noqa: E402

from modelgate.errors import ConfigError, InputError, Problem  # noqa: E402
from modelgate.escaping import error_lines, uri_path  # noqa: E402

# RFC 3986: a relative-path reference built from unreserved characters and percent-escapes only.
URI_PATH = re.compile(r"(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})+(?:/(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})+)*")
PATHS = st.one_of(
    st.text(max_size=60), st.text(alphabet=st.sampled_from(list("/.\\%#?: a\x1b\u202e\u00e9\udcff")), max_size=30)
)


@settings(max_examples=500)
@given(PATHS)
def test_uri_path_is_a_relative_reference_that_stays_inside(path: str) -> None:
    uri = uri_path(path)
    assert uri == "" or URI_PATH.fullmatch(uri), uri
    segments = [urllib.parse.unquote(s, errors="surrogateescape") for s in uri.split("/")] if uri else []
    assert not any(s in ("", ".", "..") for s in segments)
    clean = [s for s in path.split("/") if s not in ("", ".", "..")]
    if all(not ("\ud800" <= c <= "\udc7f" or "\udd00" <= c <= "\udfff") for c in path):
        assert segments == clean  # every byte kept: the viewer finds the file


def test_uri_path_examples() -> None:
    assert uri_path("models/a b/modelgate.yaml") == "models/a%20b/modelgate.yaml"
    assert uri_path("a%#?\\\u00e9/m.yaml") == "a%25%23%3F%5C%C3%A9/m.yaml"
    assert uri_path("bad\udcff/m.yaml") == "bad%FF/m.yaml"  # a file name that is not UTF-8: its byte
    assert uri_path("/etc/../passwd") == "etc/passwd"
    assert uri_path("C:/x") == "C%3A/x"  # no scheme


@given(ANY)
def test_an_error_is_lines_that_are_each_harmless(text: str) -> None:
    for lines, count in (
        (error_lines(ConfigError(text)), 1),
        (error_lines(InputError([Problem(text, 1, 2, text), Problem("p", 3, 4, text)])), 2),
    ):
        assert len(lines) == count
        for line in lines:
            assert not set(line) & {"\n", "\r", "\x1b", "\u202e", "\u2028"} and "::" not in line


def test_markdown_breaks_every_autolink_and_mention() -> None:
    """GitHub autolinks bare URLs, www. names, emails and @mentions (GFM): each is put in a
    code span, where GitHub neither links nor notifies, case kept, the punctuation after it
    left outside; and cmark-gfm, GitHub's own renderer, makes no link of any."""
    text = "see HTTPS://evil.example, http://x, ftp://y, www.evil.example, mailto:a@b.c and @org/team."
    assert markdown(text) == (
        "see `HTTPS://evil.example`, `http://x`, `ftp://y`, `www.evil.example`, `mailto:a@b.c` and `@org/team`\\."
    )
    rendered = cmarkgfm.github_flavored_markdown_to_html(markdown(text), options=Options.CMARK_OPT_UNSAFE)
    assert "<a " not in rendered and html.unescape(re.sub("</?(p|code)>", "", rendered)).strip() == text
    assert terminal("\u0080\u009f\u202e\u2066\x7f") == "\\x80\\x9f\\u202e\\u2066\\x7f"


# -- HTML (the compare page) ----------------------------------------------------------------

from html.parser import HTMLParser  # noqa: E402

from modelgate.escaping import html as html_text  # noqa: E402


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text += data


@settings(max_examples=400)
@given(st.one_of(ANY, st.text(alphabet=st.sampled_from(list("<>&\"'=/!-?;#x0a ")), max_size=40)))
def test_html_text_and_attribute_round_trip(text: str) -> None:
    escaped = html_text(text)
    for wrap in ("td", "title", "text"):  # a table cell, SVG's tooltip and label
        parser = Elements()
        parser.feed(f'<{wrap} class="{escaped}">{escaped}</{wrap}><i>end</i>')
        parser.close()
        assert parser.tags == [(wrap, [("class", strip_controls(text))]), ("i", [])]  # no tag, no attribute added
        assert parser.text == strip_controls(text) + "end"
    assert not set(escaped) & set("<>\"'") and "\x1b" not in escaped and "\u202e" not in escaped


from hypothesis import assume  # noqa: E402

from modelgate.escaping import code  # noqa: E402


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from("ab `|@- "), max_size=16))
def test_code_shows_exactly_the_text_in_a_table_cell(text: str) -> None:
    """Backticks at either end or inside, spaces at one end or both, pipes: cmark-gfm shows
    the cell as the very text (spaces-only pieces are left as they are: a span adds nothing)."""
    assume(text.strip(" ") and all(part.strip(" ") for part in text.split("|")))
    page = cmarkgfm.github_flavored_markdown_to_html(f"| a |\n|---|\n| {code(text)} |\n")
    inner = page.split("<tbody>")[1].split("<td>")[1].split("</td>")[0]
    assert html.unescape(re.sub("</?code>", "", inner)) == text


def test_a_span_with_a_space_at_each_end_keeps_both() -> None:
    """CommonMark drops one space at each end of a span that has both; markdown() keeps the
    text the author wrote between the backticks, less that one space."""
    assert markdown("run `  git lfs pull  ` first") == "run " + code(" git lfs pull ") + " first"
    assert markdown("a ` b` c") == "a " + code(" b") + " c"  # a space at one end only: kept as written
    # Padded only where CommonMark needs it (a backtick at an end, or a space at both ends):
    assert [code(t) for t in (" b", "b ", " b ", "`b", "b`", "a`b")] == [
        "` b`",
        "`b `",
        "`  b  `",
        "`` `b ``",
        "`` b` ``",
        "``a`b``",
    ]


def test_an_error_without_a_message_is_named_by_its_kind() -> None:
    assert error_lines(ConfigError("")) == ["ConfigError"]
    assert error_lines(ConfigError("bad\nvalue")) == ["bad\\x0avalue"]
