"""A manifest's ``license``: an SPDX license expression, ``proprietary``, or ``LicenseRef-<id>``.

An expression is checked against the SPDX License List bundled with the
``license-expression`` library: every id must be on it (or be a ``LicenseRef-`` of the
manifest's own), written as the list writes it (``Apache-2.0``, not ``apache-2.0``;
``GPL-2.0-only``, not the deprecated ``GPL-2.0``), operators in capitals, and an
exception only after ``WITH``. A wrong one gets a did-you-mean. Loading that list costs
about a tenth of a second, so the ids manifests use most are accepted without it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from modelgate.datamodel.records import record

PROPRIETARY = "proprietary"
# SPDX: LicenseRef-<idstring>, optionally DocumentRef-<idstring>: before it; idstring is
# letters, digits, "." and "-".
LICENSE_REF = re.compile(r"(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+")
# What the JSON Schema can say: the characters an expression is made of.
SCHEMA_PATTERN = r"^[A-Za-z0-9.+:() -]+$"
DESCRIPTION = (
    'An SPDX license expression with ids from the SPDX License List (Apache-2.0, "MIT OR Apache-2.0",'
    ' "GPL-2.0-or-later WITH Classpath-exception-2.0"), "proprietary", or LicenseRef-<id>.'
)

# Accepted without loading the SPDX list; tests/test_datamodel_licenses.py keeps each a current id.
COMMON = frozenset(
    {
        "Apache-2.0",
        "MIT",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "ISC",
        "MPL-2.0",
        "Unlicense",
        "0BSD",
        "Zlib",
        "BSL-1.0",
        "CC0-1.0",
        "CC-BY-4.0",
        "CC-BY-SA-4.0",
        "CC-BY-NC-4.0",
        "CC-BY-NC-SA-4.0",
        "CC-BY-ND-4.0",
        "CC-BY-NC-ND-4.0",
        "GPL-2.0-only",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "EPL-2.0",
        "ODbL-1.0",
        "CDLA-Permissive-2.0",
    }
)
_TOKEN = re.compile(r"[()]|[^\s()]+")
_OPERATORS = frozenset({"AND", "OR", "WITH"})
_PLACEHOLDER = "MIT"  # stands for a LicenseRef- while the library (which does not know it) parses


def problem(text: str) -> str | None:
    """Why ``text`` is not a valid license, with a did-you-mean; None when it is one."""
    if _common(text):
        return None
    if text.casefold() == PROPRIETARY:
        return f"{text!r} is not a license; did you mean {PROPRIETARY!r}?"
    return _checked(text)


def is_valid(text: str) -> bool:
    return problem(text) is None


def spdx_id(name: str) -> str | None:
    """The SPDX License List id spelled ``name`` in any case (``apache-2.0`` -> ``Apache-2.0``), or None."""
    folded = name.casefold()
    common = next((c for c in COMMON if c.casefold() == folded), None)
    return common or _spdx().by_folded.get(folded)


def license_ref(name: str) -> str:
    """``LicenseRef-<name>``, with what SPDX does not allow in an id replaced (``openrail++``
    -> ``LicenseRef-openrail-plus-plus``)."""
    cleaned = re.sub(r"[^A-Za-z0-9.-]+", "-", name.replace("+", "-plus")).strip("-")
    return f"LicenseRef-{cleaned or 'other'}"


def _common(text: str) -> bool:
    """``proprietary``, or ids from COMMON and LicenseRefs joined by AND/OR, no parentheses."""
    if text == PROPRIETARY:
        return True
    words = text.split(" ")
    return (
        len(words) % 2 == 1
        and all(w in COMMON or LICENSE_REF.fullmatch(w) for w in words[::2])
        and all(w in ("AND", "OR") for w in words[1::2])
    )


def _checked(text: str) -> str | None:
    tokens = _TOKEN.findall(text)
    if not tokens:
        return 'is empty; omit `license`, or write an SPDX id, "proprietary" or LicenseRef-<name>'
    # The library does not know a LicenseRef of the manifest's own (and reads some as
    # aliases of list ids): it parses a placeholder in its place.
    probe = " ".join(_PLACEHOLDER if LICENSE_REF.fullmatch(t) else t for t in tokens)
    spdx = _spdx()
    try:
        info = spdx.licensing.validate(probe)
    except Exception:  # the library raises its own errors, and an AttributeError on "MIT OR"
        return f"{text!r} is not an SPDX license expression (ids joined by AND, OR, WITH, in parentheses)"
    unknown = [s for s in info.invalid_symbols if isinstance(s, str)]
    if info.errors and unknown and all(e.startswith("Unknown license key") for e in info.errors):
        hints = [f"{s!r} is not on the SPDX License List{_did_you_mean(s, spdx)}" for s in unknown]
        return "; ".join(hints) + ' (or write "proprietary" or LicenseRef-<name>)'
    if info.errors or not info.normalized_expression:
        why = info.errors[0] if info.errors else "nothing to read"
        return f"{text!r} is not a valid SPDX license expression: {why}"
    canonical = _restore(_TOKEN.findall(info.normalized_expression), tokens)
    if canonical is None:
        return f"{text!r} is not written as the SPDX License List writes it"
    if _words(_TOKEN.findall(canonical)) != _words(tokens):
        return f"{text!r} is not written as the SPDX License List writes it; did you mean {canonical!r}?"
    return None


def _words(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in "()"]


def _ids(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in "()" and t.upper() not in _OPERATORS]


def _restore(normalized: list[str], original: list[str]) -> str | None:
    """The library's normalized tokens as text, with the manifest's LicenseRefs back where
    the placeholders stood (the library keeps the ids in order); None if they do not line up."""
    marks = [bool(LICENSE_REF.fullmatch(t)) for t in _ids(original)]
    refs = iter(t for t in _ids(original) if LICENSE_REF.fullmatch(t))
    if len(_ids(normalized)) != len(marks):
        return None
    out: list[str] = []
    index = 0
    for token in normalized:
        if token not in "()" and token not in _OPERATORS:
            token = next(refs) if marks[index] else token
            index += 1
        out.append(token)
    return " ".join(out).replace("( ", "(").replace(" )", ")")


def _did_you_mean(symbol: str, spdx: _Spdx) -> str:
    import difflib  # here: only a wrong id needs a suggestion

    folded = symbol.casefold().replace(" ", "-").replace("_", "-")
    exact = spdx.by_folded.get(folded) or spdx.by_folded.get(folded.replace("-license", ""))
    if exact is None:
        close = difflib.get_close_matches(folded, spdx.by_folded, n=1, cutoff=0.75)
        exact = spdx.by_folded[close[0]] if close else None
    return f"; did you mean {exact!r}?" if exact else ""


@record
class _Spdx:
    licensing: Any
    by_folded: dict[str, str]  # casefolded SPDX id -> the id as the list writes it


@functools.cache
def _spdx() -> _Spdx:
    from license_expression import build_spdx_licensing, get_license_index  # type: ignore[import-untyped]

    index = get_license_index()
    ids = {
        key
        for entry in index
        if (key := entry.get("spdx_license_key"))
        and not key.startswith("LicenseRef-")
        and not entry.get("is_deprecated")
    }
    return _Spdx(build_spdx_licensing(index), {i.casefold(): i for i in sorted(ids)})


@record
class SpdxLicense:
    """``Annotated[str | None, SpdxLicense()]``: pydantic checks the value with :func:`problem`
    after its other constraints; the JSON Schema gets the character pattern."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(_validate, handler(source))

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        schema["pattern"] = SCHEMA_PATTERN
        return schema


def _validate(value: Any) -> Any:
    if isinstance(value, str):
        why = problem(value)
        if why is not None:
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError("spdx_license", "{why}", {"why": why})
    return value
