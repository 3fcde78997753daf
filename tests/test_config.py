"""Config: .modelgate.yaml or [tool.modelgate], with flag > env > file > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate import config
from modelgate.errors import ConfigError, InputError
from modelgate.trees import WorkTree


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
