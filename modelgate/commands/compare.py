"""``modelgate compare NAME``: every version of a model side by side, in the terminal, as
Markdown, JSON, or a self-contained HTML page with a chart per metric."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from modelgate.errors import ExitCode, UsageError

if TYPE_CHECKING:
    import pluggy

    from modelgate.registry.compare import VersionComparison
    from modelgate.registry.history import Step
    from modelgate.registry.resolve import Registry


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    compare = sub.add_parser("compare", help="every version of a model side by side: stages, metrics, params")
    compare.add_argument("name", metavar="NAME", help="the model name")
    compare.add_argument("--ref", help="read the manifests (and their history) at this commit, branch or tag")
    compare.add_argument("--markdown", metavar="FILE", help="write the table as Markdown to FILE (- for stdout)")
    compare.add_argument("--json", metavar="FILE", help="write the comparison as JSON to FILE (- for stdout)")
    compare.add_argument(
        "--html", metavar="FILE", help="write a self-contained HTML page with a chart per metric to FILE (- for stdout)"
    )


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate import __version__
    from modelgate.pipeline.workspace import find_root
    from modelgate.registry import compare, compare_html
    from modelgate.registry.resolve import Registry
    from modelgate.reporters import write_atomically

    wanted = {"markdown": options.markdown, "json": options.json, "html": options.html}
    to_stdout = [flag for flag, path in wanted.items() if path == "-"]
    if len(to_stdout) > 1:
        raise UsageError(f"--{' and --'.join(to_stdout)}: only one report can go to standard output (-)")
    root = find_root([])
    registry = Registry(root, options.ref, os.environ)
    registry.versions(options.name)  # no such model, or an invalid manifest that may be one: before git history
    result = compare.build(registry, options.name, options.ref, _history(registry, options.name))
    renderers: dict[str, Callable[[VersionComparison], str]] = {
        "markdown": compare.render_markdown,
        "json": compare.render_json,
        "html": functools.partial(compare_html.render_html, tool_version=__version__),
    }
    if not to_stdout:
        sys.stdout.write(compare.render_text(result))
    for flag, path in wanted.items():
        if path == "-":
            sys.stdout.write(renderers[flag](result))
    sys.stdout.flush()
    for flag, path in wanted.items():
        if path is not None and path != "-":
            write_atomically(path, functools.partial(_write, renderers[flag](result)))
    return ExitCode.OK


def _write(text: str, stream: TextIO) -> None:
    stream.write(text)


def _history(registry: Registry, name: str) -> list[Step]:
    """The model's stage timeline up to the commit compared (HEAD for the work tree); none
    outside git or before the first commit."""
    from modelgate.git.repo import GitRepo
    from modelgate.pipeline.base import read_history
    from modelgate.registry.history import steps

    repo = GitRepo.at(registry.root)
    if repo is None:
        return []
    try:
        commit = registry.commit or repo.head()
        if commit is None:
            return []
        return steps(read_history(repo, commit, repo.root, registry.settings.manifests), name)
    finally:
        repo.close()
