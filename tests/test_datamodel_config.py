"""Config: .modelgate.yaml or [tool.modelgate], with flag > env > file > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate.datamodel import config
from modelgate.errors import ConfigError, InputError
from modelgate.git.trees import WorkTree


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = config.load(WorkTree(str(tmp_path)).read, {}, {})
    assert settings.policies == ("builtin:default",)
    assert settings.path is None


def test_precedence_flag_env_file(tmp_path: Path) -> None:
    (tmp_path / ".modelgate.yaml").write_text("policies: [file.yaml]\nbase: origin/main\n")
    read = WorkTree(str(tmp_path)).read
    assert config.load(read, {}, {}).policies == ("file.yaml",)
    env = {"MODELGATE_POLICIES": "env1.yaml, env2.yaml", "MODELGATE_BASE": "origin/dev"}
    assert config.load(read, env, {}).policies == ("env1.yaml", "env2.yaml")
    assert config.load(read, env, {}).base == "origin/dev"
    assert config.load(read, env, {"policies": ["flag.yaml"]}).policies == ("flag.yaml",)
    assert config.load(read, env, {"policies": None}).policies == ("env1.yaml", "env2.yaml")


def test_pyproject_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.modelgate]\nmanifests = ["models/**"]\n')
    settings = config.load(WorkTree(str(tmp_path)).read, {}, {})
    assert settings.manifests == ("models/**",)
    assert settings.path == "pyproject.toml"


def test_both_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.modelgate]\n")
    (tmp_path / ".modelgate.yaml").write_text("{}\n")
    with pytest.raises(ConfigError, match="keep one"):
        config.load(WorkTree(str(tmp_path)).read, {}, {})


def test_unknown_key_names_line(tmp_path: Path) -> None:
    (tmp_path / ".modelgate.yaml").write_text("policies: [a.yaml]\npolicy: b.yaml\n")
    with pytest.raises(InputError) as info:
        config.load(WorkTree(str(tmp_path)).read, {}, {})
    assert str(info.value).startswith(".modelgate.yaml:2:1: unknown key 'policy'")


def test_wrong_types(tmp_path: Path) -> None:
    (tmp_path / ".modelgate.yaml").write_text("policies: builtin:default\n")
    with pytest.raises(InputError, match=r"\.modelgate\.yaml:1:1: policies must be a list of strings"):
        config.load(WorkTree(str(tmp_path)).read, {}, {})


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "audit: {allowed_signers: ../signers}\n",
            ".modelgate.yaml:1:9: audit.allowed_signers must be a repository-relative path without '..'",
        ),
        ("audit: {signers: x}\n", ".modelgate.yaml:1:9: unknown key 'audit.signers'; known: ['allowed_signers']"),
        ("audit: .github/audit_signers\n", ".modelgate.yaml:1:1: audit must be a mapping"),
    ],
)
def test_audit_signers_setting_has_its_shape(tmp_path: Path, text: str, says: str) -> None:
    (tmp_path / ".modelgate.yaml").write_text(text)
    with pytest.raises(InputError) as info:
        config.load(WorkTree(str(tmp_path)).read, {}, {})
    assert str(info.value).startswith(says)
    (tmp_path / ".modelgate.yaml").write_text("audit: {allowed_signers: .github/audit_signers}\n")
    assert config.load(WorkTree(str(tmp_path)).read, {}, {}).audit == {"allowed_signers": ".github/audit_signers"}


# -- any shape: the loader raises only its own errors, and what it accepts has its types --

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.shapes import CONFIGS, toml_text, yaml_text  # noqa: E402


def _load_bytes(name: str, raw: bytes) -> config.Config | None:
    def read(rel: str) -> bytes:
        if rel != name:
            raise FileNotFoundError(rel)
        return raw

    try:
        return config.load(read, {}, {})
    except (InputError, ConfigError) as exc:
        assert str(exc), "an error without a message"
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=CONFIGS, form=st.sampled_from([".modelgate.yaml", "pyproject.toml"]))
def test_config_loader_raises_only_config_errors_for_any_shape(data: dict[str, object], form: str) -> None:
    raw = yaml_text(data) if form == ".modelgate.yaml" else toml_text(data)
    loaded = _load_bytes(form, raw)
    if loaded is None:
        return
    # Accepted: every setting has the shape the code that reads it assumes.
    for values in (loaded.manifests, loaded.policies, loaded.plugins):
        assert all(isinstance(v, str) and v and "\n" not in v for v in values)
    assert loaded.base is None or (isinstance(loaded.base, str) and loaded.base)
    for key in ("provider", "token_env", "allowed_signers"):
        assert key not in loaded.approvals or isinstance(loaded.approvals[key], str)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200), form=st.sampled_from([".modelgate.yaml", "pyproject.toml"]))
def test_config_loader_raises_only_config_errors_for_any_bytes(raw: bytes, form: str) -> None:
    _load_bytes(form, raw)
