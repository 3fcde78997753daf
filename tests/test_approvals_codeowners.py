"""CODEOWNERS read as GitHub reads it.

The cases come from GitHub's documentation ("About code owners", docs.github.com): its
example CODEOWNERS file, the comment above each example line saying which paths it owns,
its note on case, its rule that owners of one pattern go on one line, and its list of
gitignore rules that do not work in CODEOWNERS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate.approvals import codeowners
from modelgate.approvals.codeowners import parse

# GitHub's example file, as published (comments shortened to what each line is for).
GITHUB_EXAMPLE = """\
# This is a comment.
# Each line is a file pattern followed by one or more owners.

# These owners will be the default owners for everything in
# the repo. Unless a later match takes precedence,
# @global-owner1 and @global-owner2 will be requested for
# review when someone opens a pull request.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most
# precedence. When someone opens a pull request that only
# modifies JS files, only @js-owner and not the global
# owner(s) will be requested for a review.
*.js    @js-owner #This is an inline comment.

# You can also use email addresses if you prefer.
*.go docs@example.com

# Teams can be specified as code owners as well.
*.txt @octo-org/octocats

# In this example, @doctocat owns any files in the build/logs
# directory at the root of the repository and any of its
# subdirectories.
/build/logs/ @doctocat

# The `docs/*` pattern will match files like
# `docs/getting-started.md` but not further nested files like
# `docs/build-app/troubleshooting.md`.
docs/*  docs@example.com

# In this example, @octocat owns any file in an apps directory
# anywhere in your repository.
apps/ @octocat

# In this example, @doctocat owns any file in the `/docs`
# directory in the root of your repository and any of its
# subdirectories.
/docs/ @doctocat

# In this example, any change inside the `/scripts` directory
# will require approval from @doctocat or @octocat.
/scripts/ @doctocat @octocat

# In this example, @octocat owns any file in a `/logs` directory such as
# `/build/logs`, `/scripts/logs`, and `/deeply/nested/logs`. Any changes
# in a `/logs` directory will require approval from @octocat.
**/logs @octocat

# In this example, @octocat owns any file in the `/apps`
# directory in the root of your repository except for the `/apps/github`
# subdirectory, as its owners are left empty.
/apps/ @octocat
/apps/github

# In this example, @octocat owns any file in the `/apps`
# directory in the root of your repository except for the `/apps/github`
# subdirectory, as this subdirectory has its own owner @doctocat
/apps/ @octocat
/apps/github @doctocat
"""

GLOBAL = ["@global-owner1", "@global-owner2"]


def test_githubs_example_file_reads_without_problems() -> None:
    found = parse(GITHUB_EXAMPLE)
    assert found.problems == ()
    assert len(found.rules) == 14
    # The inline comment is not an owner.
    assert next(r for r in found.rules if r.pattern == "*.js").owners == ("@js-owner",)
    # Read whole, the last matching line wins.
    assert found.owners("src/app.js") == ["@js-owner"]
    assert found.owners("docs/getting-started.md") == ["@doctocat"]  # /docs/ comes after docs/*
    assert found.owners("scripts/logs/a.log") == ["@octocat"]  # **/logs comes after /scripts/
    assert found.owners("apps/github/hook.js") == ["@doctocat"]
    assert found.owners("LICENSE") == GLOBAL


@pytest.mark.parametrize(
    ("lines", "path", "owners"),
    [
        # `*`: the default owners for everything in the repo.
        ("*       @global-owner1 @global-owner2", "README.md", GLOBAL),
        ("*       @global-owner1 @global-owner2", "src/deep/main.py", GLOBAL),
        # The last matching pattern takes the most precedence: a JS-only change asks @js-owner only.
        (
            "*  @global-owner1 @global-owner2\n*.js    @js-owner #This is an inline comment.",
            "src/app.js",
            ["@js-owner"],
        ),
        ("*  @global-owner1 @global-owner2\n*.js    @js-owner #This is an inline comment.", "src/app.css", GLOBAL),
        # Email addresses and teams are owners too.
        ("*.go docs@example.com", "cmd/tool/main.go", ["docs@example.com"]),
        ("*.txt @octo-org/octocats", "notes/todo.txt", ["@octo-org/octocats"]),
        ("*.txt @octo-org/octocats", "notes/todo.txt.bak", []),
        # `/build/logs/`: the build/logs directory at the root and any of its subdirectories.
        ("/build/logs/ @doctocat", "build/logs/run.log", ["@doctocat"]),
        ("/build/logs/ @doctocat", "build/logs/2026/11/run.log", ["@doctocat"]),
        ("/build/logs/ @doctocat", "src/build/logs/run.log", []),
        ("/build/logs/ @doctocat", "build/run.log", []),
        # `docs/*` matches `docs/getting-started.md` but not `docs/build-app/troubleshooting.md`.
        ("docs/*  docs@example.com", "docs/getting-started.md", ["docs@example.com"]),
        ("docs/*  docs@example.com", "docs/build-app/troubleshooting.md", []),
        # `apps/`: any file in an apps directory anywhere in the repository.
        ("apps/ @octocat", "apps/main.js", ["@octocat"]),
        ("apps/ @octocat", "services/web/apps/main.js", ["@octocat"]),
        ("apps/ @octocat", "services/apps.js", []),
        # `/docs/`: the docs directory in the root and any of its subdirectories.
        ("/docs/ @doctocat", "docs/getting-started.md", ["@doctocat"]),
        ("/docs/ @doctocat", "docs/build-app/troubleshooting.md", ["@doctocat"]),
        ("/docs/ @doctocat", "guide/docs/intro.md", []),
        # `/scripts/`: approval from @doctocat or @octocat.
        ("/scripts/ @doctocat @octocat", "scripts/deploy.sh", ["@doctocat", "@octocat"]),
        # `**/logs`: any file in a logs directory such as /build/logs, /scripts/logs, /deeply/nested/logs.
        ("**/logs @octocat", "build/logs/a.log", ["@octocat"]),
        ("**/logs @octocat", "scripts/logs/a.log", ["@octocat"]),
        ("**/logs @octocat", "deeply/nested/logs/a.log", ["@octocat"]),
        ("**/logs @octocat", "logs/a.log", ["@octocat"]),
        ("**/logs @octocat", "build/logsheet.csv", []),
        # `/apps/github` with its owners left empty: everything in /apps but that subdirectory.
        ("/apps/ @octocat\n/apps/github", "apps/main.js", ["@octocat"]),
        ("/apps/ @octocat\n/apps/github", "apps/github/hook.js", []),
        # ... or with its own owner @doctocat.
        ("/apps/ @octocat\n/apps/github @doctocat", "apps/github/hook.js", ["@doctocat"]),
        ("/apps/ @octocat\n/apps/github @doctocat", "apps/gitlab/hook.js", ["@octocat"]),
        # Owners of one pattern go on one line; otherwise the pattern matches only the last one.
        ("apps/ @octocat\napps/ @doctocat", "apps/main.js", ["@doctocat"]),
        # CODEOWNERS paths are case sensitive.
        ("/Docs/ @doctocat", "docs/intro.md", []),
        ("*.JS @js-owner", "src/app.js", []),
    ],
)
def test_githubs_documented_examples(lines: str, path: str, owners: list[str]) -> None:
    found = parse(lines + "\n")
    assert found.problems == ()
    assert found.owners(path) == owners


@pytest.mark.parametrize(
    ("pattern", "path", "owned"),
    [
        # gitignore's rules where GitHub's documentation has no example of its own.
        ("model.onnx", "model.onnx", True),
        ("model.onnx", "models/a/model.onnx", True),  # no `/`: any depth
        ("models", "models/a/modelgate.yaml", True),  # a folder: everything below it
        ("models/", "models", False),  # a trailing `/` is a folder, not a file
        ("/models", "x/models/a.yaml", False),
        ("models/fraud", "models/fraud/modelgate.yaml", True),  # a `/` inside anchors at the root
        ("models/fraud", "x/models/fraud/modelgate.yaml", False),
        ("models/*/modelgate.yaml", "models/a/modelgate.yaml", True),
        ("models/*/modelgate.yaml", "models/a/1.0/modelgate.yaml", False),  # `*` stays in one folder
        ("models/**/modelgate.yaml", "models/a/1.0/modelgate.yaml", True),  # `**` crosses folders
        ("models/**/modelgate.yaml", "models/modelgate.yaml", True),
        ("models/**", "models/a/b", True),
        ("models/**", "models", False),
        ("/*", "README.md", True),
        ("/*", "docs/README.md", False),
        ("*.yaml", "a/b/c.yaml", True),
        ("m?del.bin", "model.bin", True),
        ("m?del.bin", "m/del.bin", False),
        ("f\\*o", "f*o", True),  # an escaped wildcard is literal
        ("f\\*o", "foo", False),
        ("my\\ model/", "my model/weights.bin", True),  # an escaped space belongs to the pattern
        ("/", "README.md", False),
    ],
)
def test_gitignore_rules(pattern: str, path: str, owned: bool) -> None:
    found = parse(f"{pattern} @owner\n")
    assert found.problems == ()
    assert found.owners(path) == (["@owner"] if owned else [])


@pytest.mark.parametrize(
    ("line", "why"),
    [
        # The gitignore rules GitHub documents as not working in CODEOWNERS.
        ("\\#models/ @acme/ml", "escaping # with \\ is not supported by GitHub"),
        ("!models/experimental/ @acme/ml", "negation with ! is not supported by GitHub"),
        ("models/[ab]/ @acme/ml", "character ranges with [ ] are not supported by GitHub"),
        # Lines GitHub cannot read.
        ("models/#1/ @acme/ml", "a # inside a pattern or owner starts a comment on GitHub"),
        ("@acme/ml", "a line starts with a file pattern, then its owners"),
        ("models/ acme-ml", "'acme-ml' is not an owner"),
        ("models/*** @acme/ml", "three asterisks in a row are not a pattern"),
    ],
)
def test_lines_github_skips_are_problems_not_rules(line: str, why: str) -> None:
    found = parse(f"* @acme/platform\n{line}\n")
    assert [r.pattern for r in found.rules] == ["*"]  # as GitHub: the line is skipped...
    [problem] = found.problems  # ... and said so, with file:line
    assert problem.startswith("CODEOWNERS:2: ") and why in problem and problem.endswith("GitHub skips this line")


def test_github_uses_the_first_file_it_finds(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "CODEOWNERS").write_text("* @root\n")
    (tmp_path / "docs" / "CODEOWNERS").write_text("* @docs\n")
    assert codeowners.in_work_tree(str(tmp_path)).owners("m/modelgate.yaml") == ["@root"]
    (tmp_path / ".github" / "CODEOWNERS").write_text("* @github\n")
    found = codeowners.in_work_tree(str(tmp_path))
    assert (found.path, found.owners("m/modelgate.yaml")) == (".github/CODEOWNERS", ["@github"])
    assert codeowners.in_work_tree(str(tmp_path / "docs" / "missing")) == codeowners.NONE


def test_a_file_github_does_not_load_is_a_problem(tmp_path: Path) -> None:
    # GitHub: "CODEOWNERS files must be under 3 MB in size"; a larger one is not loaded.
    big = b"* @acme/ml\n" + b"# padding\n" * (codeowners.MAX_BYTES // 10)
    assert len(big) >= codeowners.MAX_BYTES
    found = codeowners.find(lambda rel: big if rel == "CODEOWNERS" else _absent(rel))
    assert (found.rules, found.owners("x")) == ((), [])
    assert "3 MB or more" in found.problems[0] or "cannot be read" in found.problems[0]
    found = codeowners.find(lambda rel: b"* @a\xff\n" if rel == "CODEOWNERS" else _absent(rel))
    assert found.problems == ("CODEOWNERS: not UTF-8 (byte 4)",)
    # A symlink out of the repository is not followed.
    (tmp_path / "outside").write_text("* @outsider\n")
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "CODEOWNERS").symlink_to(tmp_path / "outside")
    found = codeowners.in_work_tree(str(tmp_path / "repo"))
    assert found.owners("m") == [] and "leads outside the repository, so it was not opened" in found.problems[0]


def _absent(rel: str) -> bytes:
    raise FileNotFoundError(rel)
