"""``modelgate audit verify FILE [--signer ALLOWED_SIGNERS]`` and ``modelgate audit sign FILE --key KEY``:
whether an audit record is as modelgate wrote it, and who vouches for it."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from modelgate.commands import Parser
from modelgate.errors import ExitCode, UsageError

if TYPE_CHECKING:
    import pluggy


def add_parser(sub: Any, pm: pluggy.PluginManager) -> None:
    audit = sub.add_parser("audit", help="work with audit records")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", parser_class=Parser, required=True)
    verify = actions.add_parser(
        "verify",
        help="recompute record_sha256 of an audit record, and with --signer check"
        " its SSH signature; exit 1 if modified or not signed by an allowed"
        " signer",
    )
    verify.add_argument("file", metavar="FILE")
    verify.add_argument(
        "--signer",
        metavar="ALLOWED_SIGNERS",
        help="an allowed-signers file (git's format): the record must carry a signature, after it"
        " or in FILE.sig, by one of its keys",
    )
    sign = actions.add_parser("sign", help="sign an audit record with an SSH key: writes FILE.sig")
    sign.add_argument("file", metavar="FILE")
    sign.add_argument("--key", metavar="KEY", required=True, help="the SSH private key file to sign with")


def run(pm: pluggy.PluginManager, options: argparse.Namespace) -> int:
    from modelgate.escaping import terminal as esc
    from modelgate.reporters import audit, audit_signature

    raw = audit.read(options.file)
    intact, message = audit.verify_bytes(raw, options.file)
    if not intact:
        print(esc(message))
        return ExitCode.FAILED
    payload, signature = audit_signature.split(raw)
    if options.audit_command == "sign":
        if signature is not None:
            raise UsageError(f"{options.file}: already carries a signature after the record; sign the record alone")
        sig_path = f"{options.file}.sig"
        _write(sig_path, audit_signature.sign(payload, options.key))
        print(esc(f"{message}; signed with {options.key}: {sig_path}"))
        return ExitCode.OK
    if options.signer is None:
        unchecked = "; its signature was not checked (give --signer)" if signature is not None else ""
        print(esc(message + unchecked))
        return ExitCode.OK
    allowed = _read_signers(options.signer)
    if signature is None:
        signature = _sidecar(f"{options.file}.sig")
        if signature is None:
            print(esc(f"{options.file}: not signed: no signature after the record and no {options.file}.sig"))
            return ExitCode.FAILED
    found = audit_signature.verify(payload, signature, allowed)
    if isinstance(found, str):
        print(esc(f"{options.file}: the signature {found} (allowed signers: {options.signer})"))
        return ExitCode.FAILED
    print(esc(f"{message}; signed by {found.principal} ({found.key})"))
    return ExitCode.OK


def _read_signers(path: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            return stream.read(1024 * 1024)
    except OSError as exc:
        raise UsageError(f"--signer {path}: {exc.strerror}; give an allowed-signers file (git's format)") from None


def _sidecar(path: str) -> bytes | None:
    try:
        with open(path, "rb") as stream:
            return stream.read(64 * 1024)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None


def _write(path: str, data: bytes) -> None:
    from modelgate.atomicfile import replace
    from modelgate.errors import ReportError

    try:
        replace(path, lambda stream: stream.write(data.decode("ascii")))
    except OSError as exc:
        raise ReportError(f"cannot write {os.path.abspath(path)}: {exc.strerror}") from None
