"""Editing a YAML file in place, changing only the values edited.

``hash --update`` and ``promote`` rewrite a few scalars of a file a person wrote, with
comments, key order, quoting, flow or block style and line ends of their own. ruamel.yaml's
round-trip composer tells us where each node starts and ends; each edit is spliced into the
original text at that span, so every other byte stays as it was. (Dumping the round-trip
document instead reflows multi-line flow mappings and JSON-style files.) A new key is added
as one line in a block mapping, or as ``, key: value`` at the end of a flow mapping.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from modelgate import atomicfile, confine
from modelgate.datamodel import strictyaml
from modelgate.datamodel.records import record
from modelgate.errors import InputError, ModelgateError

KeyPath = tuple[str | int, ...]
Scalar = str | int | float | bool


class EditError(ModelgateError):
    """The file cannot be edited safely; the message names the file and the key."""


@record
class Edit:
    """Set the scalar at ``at`` (keys and list indexes) to ``value``; a missing last key is added."""

    at: KeyPath
    value: Scalar


class Quoted(str):
    """A string :func:`emit` writes double-quoted even where plain would read back the same:
    a manifest's ``version`` (``1.10`` plain is a number; the README says to quote it)."""

    __slots__ = ()


def render(value: Scalar, style: str | None = None) -> str:
    """``value`` as a YAML scalar that reads back as exactly ``value``, in ``style`` if possible."""
    if isinstance(value, Quoted):
        style = '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if style == "'" and "\n" not in value:
        return "'" + value.replace("'", "''") + "'"
    if style != '"' and _reads_as_itself(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _reads_as_itself(value: str) -> bool:
    """Whether ``value`` written plain reads back as the same string under our strict loader."""
    if not value or value != value.strip() or any(c in value for c in ":#{}[],&*!|>'\"%@`\n"):
        return False
    try:
        return bool(strictyaml.parse(f"k: {value}\n".encode(), "<value>").data == {"k": value})
    except InputError:
        return False


def apply(text: str, edits: Sequence[Edit], display: str) -> str:
    """``text`` with ``edits`` applied; raises EditError naming ``display`` when it cannot."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    try:
        root = YAML(typ="rt").compose(text)
    except YAMLError as exc:
        raise EditError(f"{display}: cannot edit: not valid YAML ({str(exc).splitlines()[0]})") from None
    newline = "\r\n" if "\r\n" in text else "\n"
    splices: list[tuple[int, int, str]] = []
    for edit in edits:
        parent, node = _walk(root, edit.at, display)
        if node is None:
            splices.append(_insertion(text, parent, str(edit.at[-1]), edit.value, newline, display))
        elif isinstance(node, ScalarNode):
            style = node.style if node.style in ("'", '"') else None
            splices.append((node.start_mark.index, node.end_mark.index, render(edit.value, style)))
        else:
            kind = "mapping" if isinstance(node, MappingNode) else "list"
            raise EditError(f"{display}:{node.start_mark.line + 1}: {_dotted(edit.at)} is a {kind}, not a value")
    for start, end, new in sorted(splices, key=lambda s: s[0], reverse=True):
        text = text[:start] + new + text[end:]
    _verify(text, edits, display)
    return text


def _walk(root: Any, at: KeyPath, display: str) -> tuple[Any, Any]:
    """The node holding ``at``'s last step and the node at ``at`` (None when the key is absent)."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    parent, node = None, root
    for depth, step in enumerate(at):
        parent = node
        if isinstance(step, int) and isinstance(node, SequenceNode) and 0 <= step < len(node.value):
            node = node.value[step]
        elif isinstance(step, str) and isinstance(node, MappingNode):
            found = [value for key, value in node.value if getattr(key, "value", None) == step]
            node = found[-1] if found else None
        else:
            node = None
        if node is None:
            if depth == len(at) - 1 and isinstance(step, str) and isinstance(parent, MappingNode):
                return parent, None
            raise EditError(f"{display}: cannot edit {_dotted(at)}: {_dotted(at[: depth + 1])} is not there")
    return parent, node


def _insertion(text: str, mapping: Any, key: str, value: Scalar, newline: str, display: str) -> tuple[int, int, str]:
    if not mapping.value:
        raise EditError(f"{display}:{mapping.start_mark.line + 1}: cannot add {key!r} to an empty mapping")
    # Quoted keys (a JSON-style file) get a quoted key and value, like their neighbours.
    quoted = '"' if getattr(mapping.value[-1][0], "style", None) == '"' else None
    entry = f"{render(key, quoted)}: {render(value, quoted)}"
    if mapping.flow_style:
        last = mapping.value[-1][1].end_mark.index
        return last, last, ", " + entry
    indent = mapping.value[0][0].start_mark.column
    last = mapping.value[-1][1].end_mark.index
    # After the whole last line (a trailing comment stays with its own key).
    if last > 0 and text[last - 1] == "\n":
        at = last
    else:
        end = text.find("\n", last)
        at = len(text) if end < 0 else end + 1
        if end < 0:
            entry = newline + " " * indent + entry
            return at, at, entry
    return at, at, " " * indent + entry + newline


def _verify(text: str, edits: Sequence[Edit], display: str) -> None:
    """Read the result back: each edited key must hold exactly its new value."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe", pure=True).load(text)
    except YAMLError:
        raise EditError(f"{display}: the edit would make the file invalid YAML; edit it by hand") from None
    for edit in edits:
        value: Any = data
        for step in edit.at:
            if isinstance(value, dict):
                value = value.get(step)
            elif isinstance(value, list) and isinstance(step, int) and step < len(value):
                value = value[step]
            else:
                value = None
        if value != edit.value or type(value) is not type(edit.value):
            raise EditError(f"{display}: {_dotted(edit.at)} did not read back as {edit.value!r}; edit it by hand")


def _dotted(at: KeyPath) -> str:
    from modelgate.datamodel.manifest import format_keypath

    return format_keypath(at)


def read_text(path: str, display: str, *, root: str) -> tuple[str, bool]:
    """The text of the manifest ``path`` of the repository at ``root``, for editing (parsed
    strictly first: hostile YAML is refused), and whether it started with a byte-order
    mark. A symlink, or a path out of the repository or into ``.git``, is refused."""
    raw = confine.read(root, path, display, links=False)
    # YAML problems (anchors, tags, duplicate keys...) are refused; schema problems, such as
    # a placeholder hash, are not checked here: editing is how they get fixed.
    strictyaml.parse(raw, display)
    text = raw.decode("utf-8")
    bom = text.startswith("\ufeff")
    return (text[1:] if bom else text), bom


def write_text(path: str, text: str, bom: bool = False) -> None:
    """Replace the file atomically, keeping its permissions."""
    try:
        atomicfile.replace(path, lambda stream: stream.write(("\ufeff" if bom else "") + text))
    except OSError as exc:
        raise EditError(f"cannot write {path}: {exc.strerror}") from None


def edit_file(path: str, edits: Sequence[Edit], display: str, *, root: str) -> bool:
    """Apply ``edits`` to the manifest ``path`` of the repository at ``root``; True when its
    content changed."""
    text, bom = read_text(path, display, root=root)
    new = apply(text, edits, display)
    if new == text:
        return False
    write_text(path, new, bom)
    return True


def emit(data: dict[str, Any], header: str = "") -> str:
    """A new YAML file for ``data``: block style at the top, short flat mappings and lists of
    scalars in flow style, every scalar written so that the strict loader reads it back."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _block(data, 0, lines)
    text = "\n".join(lines) + "\n"
    if strictyaml.parse(text.encode(), "<emitted>").data != data:  # pragma: no cover - a bug in emit
        raise AssertionError("emitted YAML does not read back as the data")
    return text


def _flow(value: Any) -> str | None:
    """``value`` on one line, or None when it is nested or too long for one."""
    if isinstance(value, dict):
        if any(isinstance(v, dict | list) and not _short_list(v) for v in value.values()):
            return None
        text = "{" + ", ".join(f"{render(str(k))}: {_flow(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list):
        if not _short_list(value):
            return None
        text = "[" + ", ".join(render(v) for v in value) + "]"
    elif value is None:
        return "null"
    else:
        return render(value)
    return text if len(text) <= 80 else None


def _short_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value)


def _block(data: dict[str, Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in data.items():
        flat = _flow(value) if not isinstance(value, dict) or indent > 0 or len(value) <= 3 else None
        if flat is not None and not (isinstance(value, list) and value and isinstance(value[0], dict)):
            lines.append(f"{pad}{render(str(key))}: {flat}")
        elif isinstance(value, dict):
            lines.append(f"{pad}{render(str(key))}:")
            _block(value, indent + 2, lines)
        else:
            lines.append(f"{pad}{render(str(key))}:")
            for item in value:
                one = _flow(item)
                if one is not None or not isinstance(item, dict):
                    lines.append(f"{pad}  - {one if one is not None else render(item)}")
                else:
                    sub: list[str] = []
                    _block(item, indent + 4, sub)
                    lines.append(f"{pad}  - {sub[0].lstrip()}")
                    lines.extend(sub[1:])
