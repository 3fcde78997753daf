"""Installed plugins found without importlib.metadata: the same answer, first on sys.path wins."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest

from modelgate.entrypoints import EntryPoint, entry_points


def _dist(site: Path, folder: str, entry_points_txt: str | None) -> None:
    info = site / folder
    info.mkdir(parents=True)
    name = folder.split("-")[0].split(".")[0]
    (info / ("PKG-INFO" if folder.endswith(".egg-info") else "METADATA")).write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    )
    if entry_points_txt is not None:
        (info / "entry_points.txt").write_text(entry_points_txt)


@pytest.fixture
def sites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(
        first,
        "acme_checks-1.2.0.dist-info",
        "# a comment\n[console_scripts]\nacme = acme_checks.cli:main\n\n[modelgate]\nacme = acme_checks\n"
        "acme-extra = acme_checks.more:plugin.inner [extra]\n",
    )
    _dist(first, "no_plugins-2.0.dist-info", "[console_scripts]\nmodelgate-ish = x:y\n")
    _dist(first, "bare-1.0.dist-info", None)
    _dist(first, "legacy.egg-info", "[modelgate]\nlegacy=legacy_mod:Plugin\n")
    # The same distribution again, later on sys.path: shadowed, as importlib.metadata does.
    _dist(second, "Acme.Checks-0.9.dist-info", "[modelgate]\nold = acme_checks_old\n")
    _dist(second, "other-3.0.dist-info", "[modelgate]\nother = other_mod\n")
    (first / "not-a-folder.dist-info").write_text("a file named like metadata")
    monkeypatch.setattr(sys, "path", [str(first), str(tmp_path / "missing"), str(second)])
    return first, second


def test_same_entry_points_as_importlib_metadata(sites: tuple[Path, Path]) -> None:
    ours = sorted((ep.name, ep.value) for ep in entry_points("modelgate"))
    theirs = sorted((ep.name, ep.value) for ep in importlib.metadata.entry_points(group="modelgate"))
    assert (
        ours
        == theirs
        == [
            ("acme", "acme_checks"),
            ("acme-extra", "acme_checks.more:plugin.inner [extra]"),
            ("legacy", "legacy_mod:Plugin"),
            ("other", "other_mod"),
        ]
    )
    assert sorted(ep.name for ep in entry_points("console_scripts")) == ["acme", "modelgate-ish"]


def test_load_imports_the_module_and_follows_attributes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ep_sample_mod.py").write_text("class Outer:\n    class Inner:\n        pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = EntryPoint("x", "ep_sample_mod:Outer.Inner [extra]", "modelgate").load()
    assert loaded.__qualname__ == "Outer.Inner"
    assert EntryPoint("x", "ep_sample_mod", "modelgate").load().__name__ == "ep_sample_mod"
    with pytest.raises(ModuleNotFoundError):
        EntryPoint("x", "no_such_module_here:thing", "modelgate").load()


def test_zip_on_sys_path_falls_back_to_importlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zipfile

    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.0\n")
        zipped.writestr("zipped-1.0.dist-info/entry_points.txt", "[modelgate]\nzipped = zipped_mod\n")
    monkeypatch.setattr(sys, "path", [str(archive)])
    assert [(ep.name, ep.value) for ep in entry_points("modelgate")] == [("zipped", "zipped_mod")]
