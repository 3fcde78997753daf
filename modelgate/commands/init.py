"""``modelgate init``: write a manifest for trained model files, hashes computed."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from modelgate.errors import ExitCode

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    init = sub.add_parser("init", help="write a manifest for trained model files (hashes computed)")
    init.add_argument("artifacts", nargs="+", metavar="ARTIFACT", help="model files, or folders of them")
    init.add_argument("--name", required=True, help="model name (lowercase, digits, . _ -)")
    init.add_argument(
        "--version", required=True, dest="model_version", metavar="VERSION", help="SemVer version, e.g. 1.0.0"
    )
    init.add_argument("--stage", default="none", help="initial stage (default: none)")
    init.add_argument(
        "--owner",
        action="append",
        default=[],
        dest="owners",
        metavar="OWNER",
        help="@org/team, @user or email (repeatable; default: CODEOWNERS, else git config user.email)",
    )
    init.add_argument("--license", help='SPDX license expression, "proprietary" or LicenseRef-<name>')
    init.add_argument("--description")
    init.add_argument(
        "-o", "--output", metavar="PATH", help="manifest file or folder (default: modelgate.yaml beside the artifacts)"
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing manifest")
    init.add_argument("--from-mlflow", metavar="PATH", help="an MLmodel file, model folder or mlruns run folder")
    init.add_argument("--from-dvc", metavar="DVC_LOCK", help="a dvc.lock: params, data deps and metrics")
    init.add_argument("--from-hf", metavar="README", help="a Hugging Face model card (README.md with model-index)")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.authoring.scaffold import InitRequest, init
    from modelgate.escaping import terminal as esc
    from modelgate.pipeline.workspace import find_root

    request = InitRequest(
        artifacts=options.artifacts,
        name=options.name,
        version=options.model_version,
        stage=options.stage,
        owners=options.owners,
        license=options.license,
        description=options.description,
        output=options.output,
        force=options.force,
        mlflow=options.from_mlflow,
        dvc=options.from_dvc,
        hf=options.from_hf,
    )
    written = init(request, find_root(list(options.artifacts)))
    model = written.model
    size = sum(a.size for a in model.artifacts)
    print(
        esc(
            f"wrote {written.path}: {model.ref}, stage {model.stage}, {len(model.artifacts)} artifact"
            f"{'s' if len(model.artifacts) != 1 else ''} ({size} bytes)"
        )
    )
    for source in written.sources:
        print(esc(f"  imported from {source}"))
    for note in written.notes:
        print(esc(f"  {note}"))
    print(esc(f"next: review it, then `modelgate check {written.path}`"))
    return ExitCode.OK
