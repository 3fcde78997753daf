"""Making untrusted text (anything from a manifest or a file name) safe for each medium."""

from __future__ import annotations

import re
import unicodedata

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: the error funnel imports this module
if TYPE_CHECKING:
    from modelgate.errors import ModelgateError

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# A runner parses "::cmd ..." and "##[cmd]" as workflow commands; a zero-width space after
# every ':' that precedes another ':' (and inside '##[') breaks each token, overlapping
# ones included (":::"), without changing what a reader sees.
_COMMAND = re.compile(r":(?=:)|#(?=#\[)")


def _visible(char: str) -> str:
    # Zl and Zp (U+2028, U+2029) break lines in some viewers and in str.splitlines.
    if char in _BIDI or unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def terminal(text: str) -> str:
    """One line of plain text: control and bidi characters shown as escapes, and no
    workflow-command token left intact (CI logs are terminals too)."""
    shown = "".join(_visible(c) if not c.isprintable() or c in _BIDI else c for c in text)
    return _COMMAND.sub(lambda m: m.group(0) + "\u200b", shown)


def error_lines(exc: ModelgateError) -> list[str]:
    """An error message as lines, each escaped by :func:`terminal`: one per problem of an
    input error, else one. A message quotes what the change controls (file names, config
    values, refs), so a line break inside it is shown as an escape, never starts a line."""
    from modelgate.errors import InputError

    if isinstance(exc, InputError) and exc.problems:
        return [terminal(str(problem)) for problem in exc.problems]
    return [terminal(str(exc) or type(exc).__name__)]


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    """Drop control characters (tab, LF and CR aside), surrogates and bidi controls."""
    return _CONTROL.sub("", text)


def _runner_safe(text: str) -> str:
    # "##[" starts a legacy command anywhere the runner looks; break it like terminal() does.
    return re.sub(r"#(?=#\[)", "#\u200b", strip_controls(text))


def github_data(text: str) -> str:
    """The message part of ``::error ...::MESSAGE`` (the runner's own escaping rules)."""
    return _runner_safe(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A ``key=value`` property of a workflow command: data rules plus ``:`` and ``,``."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


# Characters CommonMark/GFM give meaning to; a backslash makes each literal.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
# A code span in the text itself (`like this`): a run of backticks closed by a run of the
# same length, as CommonMark reads it. Shown as code, re-fenced by code().
_MD_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
# What GitHub would turn into a mention, a reference or a link: @user and @org/team,
# emails and name@version (GFM autolinks those), #123, URLs and www. names.
_MD_LINKISH = re.compile(r"\S*(?:@|://|(?<![\w.-])www\.|#[0-9])\S*", re.I)


def markdown(text: str) -> str:
    """Inline Markdown (also safe inside a table cell) that shows exactly ``text``: no
    HTML, links, mentions or line breaks. Code spans in the text (`` `git lfs pull` ``)
    render as code; a mention, reference, email or URL is put in a code span, where
    GitHub neither links nor notifies, so copying it gives back the same characters."""
    text = strip_controls(text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    out: list[str] = []
    at = 0
    for span in _MD_SPAN.finditer(text):
        out.append(_md_words(text[at : span.start()]))
        content = span.group(2)
        # CommonMark drops one space at each end of a span that has both: keep what was meant.
        if content.startswith(" ") and content.endswith(" ") and content.strip(" "):
            content = content[1:-1]
        out.append(code(content))
        at = span.end()
    out.append(_md_words(text[at:]))
    return "".join(out)


def _md_words(text: str) -> str:
    out: list[str] = []
    at = 0
    for word in _MD_LINKISH.finditer(text):
        # Brackets and quotes around it, and punctuation ending a sentence, stay outside the
        # span, as GFM leaves them outside a link: `(name@1.0)` shows as (`name@1.0`).
        start = word.start() + len(word.group()) - len(word.group().lstrip("(['\""))
        linkish = text[start : word.end()].rstrip(".,:;!?'\")]")
        out.append(_md_literal(text[at:start]))
        out.append(code(linkish))
        at = start + len(linkish)
    out.append(_md_literal(text[at:]))
    return "".join(out)


def _md_literal(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def code(text: str) -> str:
    """``text`` as inline code that shows it exactly, in a table cell too: fenced with
    more backticks than it holds, and split around ``|`` (a table would end the cell
    there even inside a span; the pipe itself is shown escaped, outside the span)."""
    text = strip_controls(text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return "\\|".join(_code_span(part) for part in text.split("|"))


def _code_span(text: str) -> str:
    if not text.strip(" "):
        return text  # empty, or spaces only: nothing a span would show differently
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    # A space on both sides keeps a backtick at an end off the fence, and is the one
    # space CommonMark strips again; added whenever the content starts and ends with one.
    pad = " " if (text[0] in "` " and text[-1] in "` ") or "`" in (text[0], text[-1]) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def uri_path(path: str) -> str:
    """A repository-relative path as a relative URI reference (RFC 3986): each segment
    percent-encoded from its bytes (UTF-8; a file name that is not UTF-8 keeps its own
    bytes), never absolute, never a scheme, and with no "." or ".." segment, so no viewer
    resolves it outside the source root (such segments, which a repo-relative path never
    has, are dropped)."""
    from urllib.parse import quote  # here: only the SARIF report needs it

    segments = []
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            continue
        try:
            raw = segment.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
            raw = segment.encode("utf-8", "surrogatepass")
        segments.append(quote(raw, safe=""))
    return "/".join(segments)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml(text: str) -> str:
    """Text XML 1.0 can carry: characters it forbids removed, line ends normalised to LF as
    a parser would (the writer escapes <, &, quotes)."""
    return _XML_INVALID.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def html(text: str) -> str:
    """Text for an HTML (or inline SVG) element's content or a quoted attribute value:
    control and bidi characters dropped, ``& < > " '`` as character references, so no tag,
    attribute or entity can be started by the text."""
    import html as std  # here: only the HTML page needs it

    return std.escape(strip_controls(text), quote=True)
