"""``modelgate diff``: what a change does to each model, field by field, base vs head.

A head manifest is paired with its base version like ``check`` pairs them (same
name@version, else same path and name). A version new in the change is compared with
the version it follows: the highest lower version of that model at the base. Metrics
show their delta and whether it is better or worse by the metric's goal. ``pair``
compares any two versions the registry resolves, each at its own ref.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from modelgate.datamodel.manifest import Manifest, ManifestDoc
from modelgate.datamodel.records import record
from modelgate.escaping import code
from modelgate.escaping import markdown as md
from modelgate.escaping import terminal as esc
from modelgate.interop import flatten

if TYPE_CHECKING:
    from modelgate.registry.resolve import Resolved

Status = Literal["new", "changed", "removed"]


@record
class FieldChange:
    field: str  # "stage", "artifacts[model.onnx].sha256", "metrics.auc", ...
    before: Any
    after: Any
    note: str = ""  # for metrics: "+0.0040 better"


@record
class ModelDiff:
    name: str
    version: str
    path: str
    status: Status
    compared_with: str | None  # "1.3.0" when a new version is compared with the previous one
    changes: tuple[FieldChange, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "manifest": self.path,
            "status": self.status,
            "compared_with": self.compared_with,
            "changes": [
                {"field": c.field, "before": c.before, "after": c.after, "note": c.note or None} for c in self.changes
            ],
        }


def diff(base: list[ManifestDoc], head: list[ManifestDoc], name: str | None = None) -> list[ModelDiff]:
    """Per model version: what differs between ``base`` and ``head`` (unchanged ones left out)."""
    olds = [d for d in base if d.model is not None and name in (None, d.model.name)]
    news = [d for d in head if d.model is not None and name in (None, d.model.name)]
    found: list[ModelDiff] = []
    paired: set[str] = set()
    for doc in news:
        assert doc.model is not None
        old = _match(doc, olds)
        if old is not None:
            assert old.model is not None
            paired.add(old.path)
            changes = tuple(compare(old.model, doc.model))
            if changes or old.path != doc.path:
                moved = (FieldChange("manifest", old.path, doc.path),) if old.path != doc.path else ()
                found.append(ModelDiff(doc.model.name, doc.model.version, doc.path, "changed", None, moved + changes))
            continue
        previous = _previous(doc.model, olds)
        before = previous.model if previous is not None else None
        found.append(
            ModelDiff(
                doc.model.name,
                doc.model.version,
                doc.path,
                "new",
                before.version if before else None,
                tuple(compare(before, doc.model)),
            )
        )
    heads = {(d.model.name, d.model.version) for d in news if d.model is not None}
    for old in olds:
        assert old.model is not None
        if old.path not in paired and (old.model.name, old.model.version) not in heads:
            found.append(ModelDiff(old.model.name, old.model.version, old.path, "removed", None, ()))
    return sorted(found, key=lambda d: (d.name, _order(d.version), d.path))


def _order(version: str) -> tuple[int, Any]:
    from modelgate.registry.resolve import _version_key

    return _version_key(version)


def _match(doc: ManifestDoc, olds: list[ManifestDoc]) -> ManifestDoc | None:
    assert doc.model is not None
    same_path = None
    for old in olds:
        assert old.model is not None
        if (old.model.name, old.model.version) == (doc.model.name, doc.model.version):
            return old
        if old.path == doc.path and old.model.name == doc.model.name:
            same_path = old
    return same_path


def _previous(model: Manifest, olds: list[ManifestDoc]) -> ManifestDoc | None:
    mine = _order(model.version)
    lower = [o for o in olds if o.model is not None and o.model.name == model.name and _order(o.model.version) < mine]
    return max(lower, key=lambda o: _order(o.model.version if o.model else ""), default=None)


def compare(old: Manifest | None, new: Manifest) -> Iterable[FieldChange]:
    """Field-level changes from ``old`` (None: nothing before) to ``new``."""
    before = old.to_dict(exclude_none=True) if old else {}
    after = new.to_dict(exclude_none=True)
    for key in ("version", "stage", "description", "license", "owners", "aliases"):
        if before.get(key) != after.get(key):
            yield FieldChange(key, before.get(key), after.get(key))
    yield from _keyed("artifacts", before.get("artifacts", []), after.get("artifacts", []), "path")
    lineage_old, lineage_new = before.get("lineage", {}), after.get("lineage", {})
    yield from _flat("lineage.code", lineage_old.get("code", {}), lineage_new.get("code", {}))
    yield from _keyed("lineage.data", lineage_old.get("data", []), lineage_new.get("data", []), "name")
    yield from _flat("lineage.params", lineage_old.get("params", {}), lineage_new.get("params", {}))
    yield from _flat("lineage.environment", lineage_old.get("environment", {}), lineage_new.get("environment", {}))
    for key in ("parent", "run"):
        if lineage_old.get(key) != lineage_new.get(key):
            yield FieldChange(f"lineage.{key}", lineage_old.get(key), lineage_new.get(key))
    for side in ("inputs", "outputs"):
        yield from _keyed(
            f"signature.{side}",
            before.get("signature", {}).get(side, []),
            after.get("signature", {}).get(side, []),
            "name",
        )
    yield from _metrics(old, new)
    yield from _flat("tags", before.get("tags", {}), after.get("tags", {}))


def _flat(prefix: str, old: Any, new: Any) -> Iterable[FieldChange]:
    a, b = flatten(old or {}), flatten(new or {})
    for key in sorted(set(a) | set(b)):
        if a.get(key, _MISSING) != b.get(key, _MISSING):
            yield FieldChange(f"{prefix}.{key}", a.get(key), b.get(key))


_MISSING = object()


def _keyed(prefix: str, old: list[dict[str, Any]], new: list[dict[str, Any]], key: str) -> Iterable[FieldChange]:
    a = {str(item.get(key)): item for item in old}
    b = {str(item.get(key)): item for item in new}
    for name in list(dict.fromkeys([*a, *b])):
        if name not in a:
            yield FieldChange(f"{prefix}[{name}]", None, _short(b[name], key))
        elif name not in b:
            yield FieldChange(f"{prefix}[{name}]", _short(a[name], key), None)
        else:
            for field in sorted(set(a[name]) | set(b[name])):
                if a[name].get(field) != b[name].get(field):
                    yield FieldChange(f"{prefix}[{name}].{field}", a[name].get(field), b[name].get(field))


def _short(item: dict[str, Any], key: str) -> str:
    return ", ".join(f"{k}={v}" for k, v in item.items() if k != key)


def _metrics(old: Manifest | None, new: Manifest) -> Iterable[FieldChange]:
    before = old.metrics if old else {}
    for name in sorted(set(before) | set(new.metrics)):
        a, b = before.get(name), new.metrics.get(name)
        if a is not None and b is not None and a.value == b.value:
            continue
        note = ""
        if a is not None and b is not None:
            delta = b.value - a.value
            goal = b.goal or a.goal
            better = None if goal is None else (delta > 0) == (goal == "maximize")
            note = f"{delta:+.4g}" + ("" if better is None else " better" if better else " worse")
        yield FieldChange(f"metrics.{name}", a.value if a else None, b.value if b else None, note)


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def render_text(diffs: list[ModelDiff], base: str) -> str:
    if not diffs:
        return f"no model changes against {base}\n"
    lines = []
    for d in diffs:
        versus = f" (new; compared with {d.compared_with})" if d.compared_with else f" ({d.status})"
        lines.append(esc(f"{d.name}@{d.version}{versus}  {d.path}"))
        for c in d.changes:
            note = f"  ({c.note})" if c.note else ""
            lines.append(esc(f"  {c.field}: {_shown(c.before)} -> {_shown(c.after)}{note}"))
    lines.append(f"{len(diffs)} model version{'s' if len(diffs) != 1 else ''} changed against {esc(base)}")
    return "\n".join(lines) + "\n"


def render_markdown(diffs: list[ModelDiff], base: str) -> str:
    lines = [f"### Model changes against {md(base)}", ""]
    if not diffs:
        return "\n".join([*lines, "No model changes.", ""])
    for d in diffs:
        versus = f"new, compared with {code(d.compared_with)}" if d.compared_with else d.status
        lines += [f"#### {code(f'{d.name}@{d.version}')} ({versus})", "", f"Manifest: {code(d.path)}", ""]
        if d.changes:
            lines += ["| field | base | head | change |", "|---|---|---|---|"]
            lines += [
                f"| {md(c.field)} | {md(_shown(c.before))} | {md(_shown(c.after))} | {md(c.note)} |" for c in d.changes
            ]
            lines.append("")
    return "\n".join(lines)


# -- any two versions: ``diff [REF:]NAME@A [REF:]NAME@B`` ------------------------------


@record
class Side:
    """One version of a pair, and where it was read: ``ref`` as given (None: the work tree)."""

    ref: str | None
    entry: Resolved

    @property
    def label(self) -> str:
        return f"{self.entry.name}@{self.entry.version} ({self.ref if self.ref is not None else 'work tree'})"

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, **self.entry.to_json()}


@record
class PairDiff:
    a: Side
    b: Side
    changes: tuple[FieldChange, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "changes": [
                {"field": c.field, "before": c.before, "after": c.after, "note": c.note or None} for c in self.changes
            ],
        }


def pair(a: Resolved, a_ref: str | None, b: Resolved, b_ref: str | None) -> PairDiff:
    """What differs from version ``a`` to version ``b``: every field, as ``diff`` shows a change."""
    changes = [FieldChange("name", a.name, b.name)] if a.name != b.name else []
    if a.manifest_relpath != b.manifest_relpath:
        changes.append(FieldChange("manifest", a.manifest_relpath, b.manifest_relpath))
    changes += compare(a.model, b.model)
    return PairDiff(Side(a_ref, a), Side(b_ref, b), tuple(changes))


def render_pair_text(result: PairDiff) -> str:
    a, b = result.a.label, result.b.label
    if not result.changes:
        return esc(f"no differences between {a} and {b}") + "\n"
    lines = [esc(f"{a} -> {b}")]
    for c in result.changes:
        note = f"  ({c.note})" if c.note else ""
        lines.append(esc(f"  {c.field}: {_shown(c.before)} -> {_shown(c.after)}{note}"))
    lines.append(f"{len(result.changes)} field{'s' if len(result.changes) != 1 else ''} differ")
    return "\n".join(lines) + "\n"


def render_pair_markdown(result: PairDiff) -> str:
    a, b = md(result.a.label), md(result.b.label)
    lines = [f"### {a} → {b}", ""]
    if not result.changes:
        return "\n".join([*lines, "No differences.", ""])
    lines += [f"| field | {a} | {b} | change |", "|---|---|---|---|"]
    lines += [
        f"| {md(c.field)} | {md(_shown(c.before))} | {md(_shown(c.after))} | {md(c.note)} |" for c in result.changes
    ]
    return "\n".join([*lines, ""])
