"""Validated plain data: pydantic on a miss, the same objects from a remembered verdict."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import pytest

from modelgate.checks.governance import ApprovalParams
from modelgate.checks.metrics import ThresholdParams
from modelgate.datamodel import manifest, strictyaml, validation
from modelgate.datamodel.policy import PolicyFile
from modelgate.datamodel.records import record
from modelgate.datamodel.validation import Constraint, Invalid, Strict
from modelgate.hashing.cache import HashCache
from tests.conftest import Repo

EXAMPLES = sorted((Path(__file__).parent / "examples" / "valid").glob("*.yaml"))


class Memory:
    """A verdict store in memory, recording what was asked."""

    def __init__(self, valid: set[str] | None = None) -> None:
        self.valid = set(valid or ())
        self.asked: list[str] = []
        self.added: list[str] = []  # every verdict given: one per validation that ran

    def known_valid(self, key: str) -> bool:
        self.asked.append(key)
        return key in self.valid

    def add_valid(self, key: str) -> None:
        self.added.append(key)
        self.valid.add(key)


class Everything(Memory):
    """A store that claims every key valid: a tampered or buggy cache."""

    def known_valid(self, key: str) -> bool:
        return True


@dataclasses.dataclass(frozen=True, kw_only=True)
class Point(Strict):
    __pydantic_config__ = Strict.renamed(x_="x")

    x_: float
    label: Annotated[str, Constraint(pattern=r"^[a-z]+$", max_length=8)] = "origin"
    tags: list[Annotated[str, Constraint(min_length=1)]] = dataclasses.field(default_factory=list)
    when: dt.date | None = None


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_a_remembered_verdict_builds_what_validation_built(path: Path) -> None:
    raw = path.read_bytes()
    store = Memory()
    first = manifest.from_bytes(raw, "m.yaml", "/r/m.yaml", store)
    assert first.model is not None and len(store.valid) == 1
    again = manifest.from_bytes(raw, "m.yaml", "/r/m.yaml", store)
    assert len(store.added) == 1  # the second load was a hit: nothing validated it again
    assert again.model == first.model
    assert again.model.to_dict() == first.model.to_dict()


def test_miss_then_hit_then_other_bytes_miss() -> None:
    store = Memory()
    assert validation.load(Point, {"x": 1}, store, "a") == Point(x_=1.0)
    assert len(store.valid) == 1
    validation.load(Point, {"x": 1}, store, "a")
    assert store.asked[-1] in store.valid
    assert len(store.added) == 1  # a hit gives no new verdict
    validation.load(Point, {"x": 2}, store, "b")
    assert len(store.valid) == 2 and len(store.added) == 2


def test_a_hit_builds_the_data_without_validating_it() -> None:
    """What a hit skips, made visible: data pydantic would refuse (a label breaking its
    pattern) is built as it is when the store vouches for it. That is why only the per-clone
    cache, which no commit can write, may vouch (SECURITY.md: a poisoned cache)."""
    data = {"x": 1, "label": "UPPER"}
    with pytest.raises(Invalid):
        validation.load(Point, data, Memory(), "k")
    assert validation.load(Point, data, Everything(), "k") == Point(x_=1.0, label="UPPER")
    with pytest.raises(Invalid):  # no store or no content key: always validated
        validation.load(Point, data, Everything(), None)


def test_integers_become_floats_on_both_paths() -> None:
    store = Memory()
    missed = validation.load(Point, {"x": 1}, store, "k")
    hit = validation.load(Point, {"x": 1}, store, "k")
    assert len(store.added) == 1
    assert type(missed.x_) is type(hit.x_) is float


def test_strict_types_aliases_and_constraints() -> None:
    cases: list[tuple[dict[str, Any], tuple[str, tuple[Any, ...]]]] = [
        ({"x": "1"}, ("float_type", ("x",))),
        ({"x_": 1.0}, ("missing", ("x",))),
        ({"x": 1, "label": "UPPER"}, ("string_pattern_mismatch", ("label",))),
        ({"x": 1, "label": "toolongname"}, ("string_too_long", ("label",))),
        ({"x": 1, "tags": [""]}, ("string_too_short", ("tags", 0))),
        ({"x": 1, "colour": "red"}, ("unexpected_keyword_argument", ("colour",))),
        ({"x": True}, ("float_type", ("x",))),
        ({"x": 1, "when": "yesterday"}, ("date_parsing", ("when",))),
    ]
    for data, (kind, loc) in cases:
        with pytest.raises(Invalid) as caught:
            validation.load(Point, data)
        found = {(e["type"], tuple(e["loc"])) for e in caught.value.errors}
        assert (kind, loc) in found, (data, found)


def test_dates_are_dates() -> None:
    store = Memory()
    first = validation.load(Point, {"x": 0, "when": "2026-12-31"}, store, "d")
    assert first.when == dt.date(2026, 12, 31)
    assert validation.load(Point, {"x": 0, "when": "2026-12-31"}, store, "d") == first
    assert len(store.added) == 1


def test_a_manifest_missing_keys_fails_whatever_the_store_says() -> None:
    doc = strictyaml.parse(b"apiVersion: modelgate/v1\nkind: Model\n", "m.yaml")
    with pytest.raises(Exception) as caught:
        manifest.validate(doc, Everything(), "digest")
    assert "missing required key 'name'" in str(caught.value.problems)  # type: ignore[attr-defined]


def test_data_that_does_not_fit_its_verdict_is_validated_again() -> None:
    # A verdict is trusted as the digest cache beside it is (CI keeps neither), but data
    # that cannot be built (a required key gone, a rule of __post_init__ broken) goes to pydantic.
    with pytest.raises(Invalid):
        validation.load(ThresholdParams, {"min": 0.9}, Everything(), "k")
    with pytest.raises(Invalid) as caught:
        validation.load(ThresholdParams, {"metric": "auc"}, Everything(), "k")
    assert "give min, max, or threshold" in caught.value.errors[0]["msg"]


def test_verdict_keys_name_content_class_and_code() -> None:
    key = validation.verdict_key(Point, "content")
    assert key is not None and key == validation.verdict_key(Point, "content")
    assert key != validation.verdict_key(Point, "other")
    assert key != validation.verdict_key(ThresholdParams, "content")  # other class, other module


def test_editing_the_code_forgets_the_verdicts(tmp_path: Path) -> None:
    """A verdict is for the code that gave it: a changed bound in the source changes the key."""
    module = tmp_path / "edited_schema.py"
    code = (
        "from __future__ import annotations\n"
        "import dataclasses\n"
        "from typing import Annotated\n"
        "from modelgate.datamodel.validation import Constraint, Strict\n"
        "@dataclasses.dataclass(frozen=True, kw_only=True)\n"
        "class Bounded(Strict):\n"
        "    x: Annotated[int, Constraint(ge=0)]\n"
    )
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from edited_schema import Bounded\n"
        "from modelgate.datamodel import validation\n"
        "print(validation.verdict_key(Bounded, 'same bytes'))\n"
    )
    keys = []
    for bound in ("0", "0", "1"):
        module.write_text(code.replace("ge=0", f"ge={bound}"))
        keys.append(
            subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
        )
    assert keys[0] == keys[1] != keys[2]


def test_to_dict_uses_yaml_keys_and_can_drop_nulls() -> None:
    point = validation.load(Point, {"x": 2, "tags": ["a"]})
    assert point.to_dict() == {"x": 2.0, "label": "origin", "tags": ["a"], "when": None}
    assert point.to_dict(exclude_none=True) == {"x": 2.0, "label": "origin", "tags": ["a"]}
    approvals = validation.load(ApprovalParams, {"from": ["@acme/leads"], "min": 2})
    assert approvals.from_ == ["@acme/leads"] and approvals.to_dict()["from"] == ["@acme/leads"]


def test_policy_and_params_use_the_same_path() -> None:
    data = {
        "apiVersion": "modelgate/v1",
        "kind": "Policy",
        "name": "p",
        "stages": ["a"],
        "rules": [{"check": "approvals", "with": {"min": 2}}],
        "waivers": [{"check": "x", "model": "m", "reason": "r", "expires": "2027-01-31", "owner": "o"}],
    }
    store = Memory()
    first = validation.load(PolicyFile, data, store, "p1")
    hit = validation.load(PolicyFile, data, store, "p1")
    assert hit == first and len(store.added) == 1
    assert first.rules[0].with_ == {"min": 2}
    assert first.waivers[0].expires == dt.date(2027, 1, 31)


def test_the_hash_cache_keeps_verdicts_between_runs(tmp_path: Path) -> None:
    db = str(tmp_path / "hashes.sqlite")
    first = HashCache(db)
    assert not first.known_valid("k")
    first.add_valid("k")
    first.close()
    second = HashCache(db)
    assert second.known_valid("k") and not second.known_valid("other")
    second.close()


def test_a_check_never_imports_pydantic_and_a_second_one_not_even_pydantic_core(repo: Repo) -> None:
    """The start-up promise, checked by what gets imported rather than by a clock: the
    manifests are validated by pydantic-core's compiled module from the committed schema
    (neither pydantic nor pydantic-core's package around that module is imported), and not
    at all when the verdict on the same bytes is remembered."""
    from tests.conftest import staging_fields

    repo.manifest("models/fraud", **staging_fields())
    repo.commit()
    script = (
        "import sys\n"
        "from modelgate.cli import main\n"
        "code = main(['check', '-q', *sys.argv[1:]])\n"
        "names = ('pydantic', 'pydantic_core._pydantic_core', 'pydantic_core')\n"
        "print('exit', code, *(name in sys.modules for name in names))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], cwd=repo.root, capture_output=True, text=True, check=True
        ).stdout.splitlines()[-1]
        for _ in range(2)
    ]
    assert runs == ["exit 0 False True False", "exit 0 False False False"]

    def in_ci(*args: str) -> str:
        run = subprocess.run(
            [sys.executable, "-c", script, *args],
            cwd=repo.root,
            capture_output=True,
            text=True,
            check=True,
            env={**_env(), "CI": "true"},
        )
        return run.stdout.splitlines()[-1]

    assert in_ci("--base", "none") == "exit 0 False True False"  # CI keeps no cache: every document is validated
    # ... but a CI run with no manifest to check builds the built-in policy and its rules'
    # parameters, the default rules' too, without validating them (they ship validated by
    # this suite).
    assert in_ci("--base", "main", "--changed") == "exit 0 False False False"


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_get_reads_a_field_by_its_yaml_key() -> None:
    point = validation.load(Point, {"x": 2})
    assert point.get("x") == 2.0 and point.get("label") == "origin" and point.get("x_") is None
    doc = manifest.from_bytes((EXAMPLES[0]).read_bytes(), "m.yaml", "/r/m.yaml")
    assert doc.model is not None and doc.model.get("apiVersion") == "modelgate/v1"


def test_verdicts_name_the_installed_pydantic() -> None:
    """Upgrading pydantic or pydantic-core forgets the verdicts the old ones gave."""
    from importlib.metadata import version

    releases = validation._releases("pydantic", "pydantic_core")
    assert releases is not None
    assert f"pydantic-{version('pydantic')}.dist-info" in releases
    assert f"pydantic_core-{version('pydantic_core')}.dist-info" in releases


@dataclasses.dataclass(frozen=True, slots=True)
class Slotted:
    """A plugin's nested class with __slots__: no __dict__ to fill, so it is built by __init__."""

    n: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Holder(Strict):
    inner: Slotted


def test_nested_classes_with_slots_are_built_too() -> None:
    store = Memory()
    first = validation.load(Holder, {"inner": {"n": 3}}, store, "s")
    assert first == validation.load(Holder, {"inner": {"n": 3}}, store, "s") == Holder(inner=Slotted(3))
    assert len(store.added) == 1
    assert not hasattr(first.inner, "__dict__")


def test_without_a_content_key_nothing_is_remembered() -> None:
    store = Memory()
    validation.load(Point, {"x": 1}, store, None)
    assert store.added == [] and store.asked == []


@pytest.mark.parametrize("data", [{"x": float("nan")}, {"x": float("inf")}, {"x": 1, "tags": {"a"}}, {"x": b"1"}])
def test_data_that_is_not_plain_json_is_invalid(data: dict[str, Any]) -> None:
    """What YAML cannot give (NaN, a set, bytes) is refused, never handed to pydantic's
    lenient JSON number parsing."""
    with pytest.raises(Invalid) as caught:
        validation.load(Point, data, Memory(), "k")
    assert caught.value.errors[0]["msg"].startswith("not plain data:")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Described(Strict):
    __pydantic_config__ = Strict.renamed(first_="first")

    first_: Annotated[int | None, Constraint(description="the first one")] = None
    second: int = 2


def test_json_schema_uses_yaml_keys_and_descriptions() -> None:
    properties = validation.json_schema(Described)["properties"]
    assert set(properties) == {"first", "second"}
    assert properties["first"]["description"] == "the first one"
    assert "description" not in properties["second"]


def test_dropping_nulls_keeps_the_fields_after_them() -> None:
    described = validation.load(Described, {"second": 3})
    assert described.to_dict(exclude_none=True) == {"second": 3}
    assert described.to_dict() == {"first": None, "second": 3}  # nulls kept unless asked


def test_shipped_data_is_built_without_pydantic_and_validated_when_it_does_not_fit() -> None:
    assert validation.load(ThresholdParams, {"metric": "auc", "min": 0.9}, shipped=True) == validation.load(
        ThresholdParams, {"metric": "auc", "min": 0.9}
    )
    with pytest.raises(Invalid) as caught:
        validation.load(ThresholdParams, {"metric": "auc"}, shipped=True)
    assert "give min, max, or threshold" in caught.value.errors[0]["msg"]


def test_pydantic_plugins_never_see_modelgates_validation(repo: Repo, tmp_path: Path) -> None:
    """A package installed beside modelgate may register a pydantic plugin (entry point group
    ``pydantic``), which pydantic imports and calls on every validation: modelgate builds its
    validators without them. The host process keeps its own setting: after the run, pydantic
    finds the plugin as before (which also shows the spy works)."""
    from tests.conftest import staging_fields

    repo.manifest("models/fraud", **staging_fields())
    # A repository's own policy: its rule's parameters are validated by pydantic (no
    # committed pydantic-core schema for them), where plugins would be loaded.
    repo.write("policy.yaml", _OWN_POLICY)
    repo.write(".modelgate.yaml", "policies: [policy.yaml]\n")
    repo.commit()
    marker = tmp_path / "plugin-loaded"
    site = tmp_path / "site"
    info = site / "spy-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: spy\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[pydantic]\nspy = spy:plugin\n")
    (site / "spy.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\n"
        "class Spy:\n    def new_schema_validator(self, *args, **kwargs):\n        return None, None, None\n"
        "plugin = Spy()\n"
    )
    script = (
        "import os, pathlib, sys\n"
        "from modelgate.cli import main\n"
        "code = main(['check', '-q', '--base', 'none'])\n"
        f"print('exit', code, pathlib.Path({str(marker)!r}).exists(), os.environ.get('PYDANTIC_DISABLE_PLUGINS'))\n"
        "import pydantic\n"
        "pydantic.TypeAdapter(int)\n"
        f"print('host', pathlib.Path({str(marker)!r}).exists())\n"
    )
    env = {**_env(), "CI": "true", "PYTHONPATH": str(site)}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    proc = subprocess.run([sys.executable, "-c", script], cwd=repo.root, capture_output=True, text=True, env=env)
    assert proc.stdout.splitlines()[-2:] == ["exit 0 False None", "host True"], proc.stdout + proc.stderr


_OWN_POLICY = """\
apiVersion: modelgate/v1
kind: Policy
name: own
extends: [builtin:default]
rules:
  - {check: required-metrics, stages: [staging], with: {min: 1}}
"""


def test_a_validator_prepared_in_the_background_is_the_one_validation_uses() -> None:
    """prepare() starts building on another thread; the first validation takes the validator
    that thread builds, or builds it first itself (one build either way, under one lock),
    and answers as it would have without it."""
    import os
    import threading

    @record
    class Prepared(Strict):
        name: str
        size: Annotated[int, Constraint(ge=0)]

    before = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
    validation.prepare(Prepared)
    assert validation.pydantic_errors(Prepared, {"name": "m", "size": 1}) == []
    [error] = validation.pydantic_errors(Prepared, {"name": "m", "size": -1})
    assert error["loc"] == ("size",) and error["type"] == "greater_than_equal"
    built = validation._adapters[Prepared]
    running = set(threading.enumerate())  # the first builder may still be finishing: not counted
    validation.prepare(Prepared)  # already built: no second thread, the same validator
    assert set(threading.enumerate()) <= running and validation._adapter(Prepared) is built
    assert os.environ.get("PYDANTIC_DISABLE_PLUGINS") == before
