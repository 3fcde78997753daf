"""A manifest's ``license`` is a real SPDX expression (checked against the SPDX License List
that the license-expression library bundles), ``proprietary`` or a ``LicenseRef-``; the
Hugging Face importer maps the Hub's licence ids onto those, and the CycloneDX export only
ever carries a valid expression."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from modelgate.datamodel import licenses, validation
from modelgate.datamodel.manifest import Manifest
from modelgate.interop.hf import spdx_license
from tests.conftest import Repo, staging_fields

# The Hub's licence ids, from its documentation (huggingface.co/docs/hub/repositories-licenses).
_HUB_TABLE = """
apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc
cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0
cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0
cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1
eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc h-research intel-research lppl-1.3c
ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl
lgpl-lr deepfloyd-if-license fair-noncommercial-research-license llama2 llama3 llama3.1 llama3.2 llama3.3
llama4 gemma other
"""
HUB_IDS = _HUB_TABLE.split()


def test_the_fast_path_holds_only_current_spdx_ids_as_the_list_writes_them() -> None:
    spdx = licenses._spdx()
    for common in licenses.COMMON:
        assert spdx.by_folded.get(common.casefold()) == common, common
        assert licenses._checked(common) is None  # the shortcut agrees with the full check


@pytest.mark.parametrize(
    "text",
    [
        "Apache-2.0",
        "MIT OR Apache-2.0",
        "(MIT OR Apache-2.0) AND BSD-3-Clause",
        "((MIT))",
        "GPL-2.0-or-later WITH Classpath-exception-2.0",
        "Apache-2.0 WITH LLVM-exception",
        "EUPL-1.2",
        "CC-BY-NC-SA-3.0",
        "etalab-2.0",  # on the list, not in the fast path
        "proprietary",
        "LicenseRef-acme-model-terms",
        "LicenseRef-llama3.1",
        "LicenseRef-x WITH LLVM-exception",
        "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
        "MIT OR LicenseRef-acme",
        "(LicenseRef-a AND MIT) OR GPL-3.0-only",
    ],
)
def test_valid_licenses(text: str) -> None:
    assert licenses.problem(text) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Case first: the list's own spelling.
        ("apache-2.0", "'apache-2.0' is not written as the SPDX License List writes it; did you mean 'Apache-2.0'?"),
        ("mit or apache-2.0", "did you mean 'MIT OR Apache-2.0'?"),
        ("LicenseRef-acme OR mit", "did you mean 'LicenseRef-acme OR MIT'?"),
        ("Proprietary", "'Proprietary' is not a license; did you mean 'proprietary'?"),
        # Deprecated ids and forms: the current one.
        ("GPL-2.0", "did you mean 'GPL-2.0-only'?"),
        ("GPL-2.0+", "did you mean 'GPL-2.0-or-later'?"),
        # Not on the list: the closest id.
        ("Apache 2", "'Apache 2' is not on the SPDX License List; did you mean 'Apache-2.0'?"),
        ("Apache License 2.0", "did you mean 'Apache-2.0'?"),
        ("apache2", "did you mean 'Apache-2.0'?"),
        ("CreativeML-OpenRAIL-M", "'CreativeML-OpenRAIL-M' is not on the SPDX License List"),
        ("NOASSERTION", "is not on the SPDX License List"),
        ("LicenseRef-a_b", "is not on the SPDX License List"),  # `_` is not allowed in an SPDX id
        # Not an expression.
        ("MIT OR", "'MIT OR' is not an SPDX license expression"),
        ("MIT WITH Apache-2.0", "is not a valid SPDX license expression"),
        ("LLVM-exception", "is not a valid SPDX license expression"),
        ("  ", "is empty"),
    ],
)
def test_invalid_licenses_say_what_to_write(text: str, message: str) -> None:
    found = licenses.problem(text)
    assert found is not None and message in found


def test_an_invalid_license_fails_manifest_valid_at_its_line(repo: Repo) -> None:
    repo.manifest("m", license="apache-2.0")
    proc = repo.run("check", "--json", str(repo.root.parent / "r.json"))
    assert proc.returncode == 1
    [result] = [
        r for r in json.loads((repo.root.parent / "r.json").read_text())["results"] if r["name"] == "manifest-valid"
    ]
    assert result["outcome"] == "failed"
    assert result["message"] == (
        "license: 'apache-2.0' is not written as the SPDX License List writes it; did you mean 'Apache-2.0'?"
    )
    text = (repo.root / "m/modelgate.yaml").read_text()
    assert result["location"]["line"] == text[: text.index('"license"')].count("\n") + 1
    # init refuses to write one.
    repo.write("n/model.bin", b"w")
    proc = repo.run("init", "n/model.bin", "--name", "n", "--version", "1.0.0", "--owner", "@a/b", "--license", "mit")
    assert proc.returncode == 4 and "did you mean 'MIT'?" in proc.stderr


def test_a_common_license_is_checked_without_loading_the_spdx_list(repo: Repo) -> None:
    """Start-up: the list (about 0.1 s to load) is read only for ids outside the fast path."""
    repo.manifest("a", **staging_fields(name="a", license="Apache-2.0 OR MIT"))
    repo.manifest("b", **staging_fields(name="b", license="proprietary"))
    repo.commit()
    script = (
        "import sys\nfrom modelgate.cli import main\ncode = main(['check', '-q', '--base', 'none'])\n"
        "print('exit', code, 'pydantic_core._pydantic_core' in sys.modules, 'license_expression' in sys.modules)\n"
    )
    env = {"CI": "true"}  # CI keeps no verdicts: every manifest is validated
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=repo.root,
        capture_output=True,
        text=True,
        check=True,
        env={**_environ(), **env},
    ).stdout.splitlines()[-1]
    assert out == "exit 0 True False"
    repo.manifest("c", **staging_fields(name="c", license="EUPL-1.2"))
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=repo.root,
        capture_output=True,
        text=True,
        check=True,
        env={**_environ(), **env},
    ).stdout.splitlines()[-1]
    assert out == "exit 0 True True"


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_a_remembered_verdict_names_the_licence_check_and_its_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Valid bytes are not validated again while the code that judged them is the same: the
    licence module's source and the license-expression release (its SPDX list) are part of
    that code."""
    releases = validation._releases("license_expression")
    assert releases is not None and releases.startswith("license_expression-")
    key = validation.verdict_key(Manifest, "bytes")
    for attribute in ("__verdict_modules__", "__verdict_releases__"):
        with monkeypatch.context() as patch:
            patch.setattr(Manifest, attribute, ())
            validation.code_digest.cache_clear()
            assert validation.verdict_key(Manifest, "bytes") != key
        validation.code_digest.cache_clear()
    assert validation.verdict_key(Manifest, "bytes") == key


@pytest.mark.parametrize("hub_id", HUB_IDS)
def test_every_hub_licence_maps_to_a_valid_license(hub_id: str) -> None:
    mapped = spdx_license(hub_id)
    assert mapped is not None and licenses.problem(mapped) is None, mapped


@pytest.mark.parametrize(
    ("hub_id", "name", "expected"),
    [
        ("apache-2.0", None, "Apache-2.0"),
        ("mit", None, "MIT"),
        ("cc-by-nc-4.0", None, "CC-BY-NC-4.0"),
        ("gpl-3.0", None, "GPL-3.0-only"),  # the deprecated SPDX spelling meant -only
        ("gpl", None, "LicenseRef-gpl"),  # a family, not GPL-1.0-or-later
        ("openrail", None, "LicenseRef-openrail"),
        ("openrail++", None, "LicenseRef-openrail-plus-plus"),
        ("llama2", None, "LicenseRef-llama2"),
        ("llama3.1", None, "LicenseRef-llama3.1"),
        ("other", "tongyi-qianwen", "LicenseRef-tongyi-qianwen"),
        ("other", None, "LicenseRef-other"),
        ("unknown", None, None),  # no licence to claim: required-fields says so at staging
    ],
)
def test_hub_licence_mapping(hub_id: str, name: str | None, expected: str | None) -> None:
    assert spdx_license(hub_id, name) == expected


CARD = """\
from huggingface_hub import ModelCard, ModelCardData
data = ModelCardData(license={license!r}, license_name={name!r}, model_name="m")
ModelCard(f"---\\n{{data.to_yaml()}}\\n---\\n# m\\n").save("README.md")
"""


@pytest.mark.parametrize(
    ("license_id", "name", "expected"),
    [
        ("llama2", None, "LicenseRef-llama2"),
        ("other", "acme model terms", "LicenseRef-acme-model-terms"),
        ("bsd-3-clause-clear", None, "BSD-3-Clause-Clear"),
    ],
)
def test_init_from_a_hub_card_writes_a_valid_license(
    repo: Repo, license_id: str, name: str | None, expected: str
) -> None:
    repo.write("hf/model.safetensors", b"tensors")
    subprocess.run(
        [sys.executable, "-c", CARD.format(license=license_id, name=name)],
        cwd=repo.root / "hf",
        check=True,
        capture_output=True,
    )
    proc = repo.run(
        "init",
        "hf/model.safetensors",
        "--name",
        "m",
        "--version",
        "1.0.0",
        "--owner",
        "@acme/nlp",
        "--from-hf",
        "hf/README.md",
    )
    assert proc.returncode == 0, proc.stderr
    assert f"\nlicense: {expected}\n" in (repo.root / "hf/modelgate.yaml").read_text()
    assert repo.run("check", "hf").returncode == 0


def test_export_carries_only_valid_expressions(repo: Repo) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from modelgate.export.cyclonedx import _license

    for name, text in [
        ("a", "MIT OR Apache-2.0"),
        ("b", "LicenseRef-llama2"),
        ("c", "proprietary"),
        ("d", "GPL-2.0-or-later WITH Classpath-exception-2.0"),
    ]:
        repo.manifest(name, **staging_fields(name=name, license=text))
    repo.commit()
    proc = repo.run("export", "--format", "cyclonedx")
    assert proc.returncode == 0, proc.stderr
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(proc.stdout) is None
    assert [c["licenses"] for c in json.loads(proc.stdout)["components"]] == [
        [{"expression": "MIT OR Apache-2.0"}],
        [{"expression": "LicenseRef-llama2"}],
        [{"license": {"name": "proprietary"}}],
        [{"expression": "GPL-2.0-or-later WITH Classpath-exception-2.0"}],
    ]
    # Text that is not an expression is never emitted as one.
    for text in ("Apache 2", "apache-2.0", "MIT OR"):
        assert _license(text) == {"license": {"name": text}}
