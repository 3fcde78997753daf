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


def markdown(text: str) -> str:
    """Inline Markdown (also safe inside a table cell): no HTML, links, mentions or breaks."""
    text = strip_controls(text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # No @mentions, #references or autolinked URLs: a zero-width space breaks each.
    text = re.sub(r"@(?=\w)", "@\u200b", text)
    text = re.sub(r"(?i)(https?|ftp|www|mailto)(?=:|\\\.)", lambda m: m.group(1)[0] + "\u200b" + m.group(1)[1:], text)
    return text


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
