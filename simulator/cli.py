"""The `cosem-sim` command: one argparse front for the simulator's subcommands."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from . import __version__
from .decode import add_decode_arguments, run_decode
from .decode.command import DESCRIPTION as DECODE_DESCRIPTION

if TYPE_CHECKING:
    from .runtime.command import ControlService
    from .runtime.engine import Engine
    from .runtime.profile import ControlSettings

__all__ = ["main", "build_parser"]

_LEVELS = ("debug", "info", "warning", "error")


def _run(args: argparse.Namespace) -> int:
    """`run`: its options completed from COSEM_SIM_* variables; with --workers, a supervisor."""
    from .runtime.command import run_command
    from .runtime.environment import apply_environment

    try:
        apply_environment(args, os.environ, socket.gethostname)
    except ValueError as exc:
        sys.stderr.write(f"cosem-sim run: {exc}\n")
        return 1
    if args.workers is not None:
        from .runtime.workers import supervise

        return supervise(args, _worker_argv(args))
    return run_command(args, control=_control_plane)


def _worker_argv(args: argparse.Namespace) -> list[str]:
    """The `run` arguments as given, without --workers, the log level first: what each worker gets."""
    given: list[str] = args.argv
    rest = given[given.index("run") + 1:] if "run" in given else []
    argv = ["--log-level", args.log_level]
    skip = False
    for token in rest:
        if skip:
            skip = False
        elif token.startswith("--w") and "--workers".startswith(token.split("=")[0]):  # argparse takes --work
            skip = "=" not in token
        else:
            argv.append(token)
    return argv


def _control_plane(engine: Engine, settings: ControlSettings) -> ControlService:
    """The control plane `run` serves when asked: aiohttp is imported only then."""
    from .control.app import control_plane

    return control_plane(engine, settings)


def _state(args: argparse.Namespace) -> int:
    from .runtime.state_command import state_command

    return state_command(args)


def _validate(args: argparse.Namespace) -> int:
    """Models and profiles alike: one line per problem, then a verdict per file."""
    from .model.loader import load_model, validate_paths
    from .runtime.layout import plan
    from .runtime.profile import ProfileError, is_profile_text, load_profile

    failed = False
    for path in args.files:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            sys.stdout.write(f"{path}:1: cannot read: {getattr(exc, 'strerror', None) or exc}\n")
            failed = True
            continue
        verdict = ""
        if is_profile_text(text):
            try:
                profile = load_profile(path)
                lines = [str(p) for p in plan(profile).problems]
                verdict = f"{path}: valid profile {profile.name} ({profile.size} meters)"
            except ProfileError as exc:
                lines = exc.lines()
        else:
            lines = validate_paths([path])
            verdict = f"{path}: valid model {load_model(path).name}" if not lines else ""
        if lines:
            failed = True
            sys.stdout.write("\n".join(lines) + "\n")
        else:
            sys.stdout.write(verdict + "\n")
    return 1 if failed else 0


def _classes(args: argparse.Namespace) -> int:
    from .cosem.catalogue import classes

    rows = classes()
    sys.stdout.write(f"{'class':>5} {'ver':>3}  {'name':<40} {'attrs':>5} {'methods':>7}\n")
    for row in rows:
        sys.stdout.write(f"{row.class_id:>5} {row.version:>3}  {row.name:<40} {row.attributes:>5} {row.methods:>7}\n")
    sys.stdout.write(f"{len(rows)} class versions\n")
    return 0


def _models(args: argparse.Namespace) -> int:
    from .model.catalogue import list_models

    for info in list_models():
        sys.stdout.write(f"{info.name:<12} {info.description}\n{'':<12} {info.path}\n")
    return 0


def _show(args: argparse.Namespace) -> int:
    from .model.catalogue import find_model, object_table
    from .model.errors import ModelError
    from .model.loader import load_model

    try:
        model = load_model(find_model(args.model))
    except FileNotFoundError as exc:
        sys.stderr.write(f"cosem-sim show: {exc}\n")
        return 1
    except ModelError as exc:
        sys.stderr.write("\n".join(exc.lines()) + "\n")
        return 1
    rows = object_table(model)
    sys.stdout.write(f"{model.name}: {model.description}\n")
    sys.stdout.write(f"{'ld':>3} {'obis':<18} {'class':>5} {'v':>2} {'class name':<26} {'name':<44} access\n")
    for r in rows:
        sys.stdout.write(f"{r.device:>3} {r.obis:<18} {r.class_id:>5} {r.version:>2} {r.class_name:<26} "
                         f"{r.label[:44]:<44} {r.access}\n")
    sys.stdout.write(f"{len(rows)} objects\n")
    return 0


def _listen(args: argparse.Namespace) -> int:
    from .runtime.listen import run_listen

    return run_listen(args)


def _probe(args: argparse.Namespace) -> int:
    from .runtime.probe import run_probe

    return run_probe(args)


def _ctl(args: argparse.Namespace) -> int:
    from .control.ctl import run_ctl

    return run_ctl(args)


def build_parser() -> argparse.ArgumentParser:
    from .control.ctl import add_ctl_arguments
    from .runtime.command import add_run_arguments
    from .runtime.listen import add_listen_arguments
    from .runtime.probe import add_probe_arguments
    from .runtime.state_command import add_state_arguments

    # --log-level goes before or after the subcommand: each subcommand takes it too, without a
    # default of its own so that it does not undo one given before.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log-level", choices=_LEVELS, default=argparse.SUPPRESS,
                        help="what to log (default: warning)")
    parser = argparse.ArgumentParser(prog="cosem-sim", description="A virtual DLMS/COSEM server.")
    parser.add_argument("--version", action="version", version=f"cosem-sim {__version__}")
    parser.add_argument("--log-level", choices=_LEVELS, default="warning", help="what to log (default: warning)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_subcommand_parser(common))
    run = commands.add_parser("run", help="run a fleet of simulated meters (no PROFILE: the demo)",
                              description="Run the meters of a fleet profile; without one, the shipped demo.")
    add_run_arguments(run)
    run.set_defaults(handler=_run)
    validate = commands.add_parser("validate", help="check object models and fleet profiles",
                                   description="Check object models and fleet profiles; every problem with file "
                                               "and line. Exit status 1 when any file has a problem.")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(handler=_validate)
    commands.add_parser("classes", help="list the declared interface classes").set_defaults(handler=_classes)
    commands.add_parser("models", help="list the shipped object models").set_defaults(handler=_models)
    show = commands.add_parser("show", help="print a model's objects as a table")
    show.add_argument("model", metavar="MODEL", help="a shipped model's name or a model file")
    show.set_defaults(handler=_show)
    probe = commands.add_parser("probe", help="associate with a meter as the public client: is it answering?",
                                description="Associate with a meter over the TCP wrapper as a client without "
                                            "authentication, then release. Exit status 0 when the association "
                                            "is accepted (a container health check).")
    add_probe_arguments(probe)
    probe.set_defaults(handler=_probe)
    state = commands.add_parser("state", help="list what a fleet's meters keep; reset or export it",
                                description="List the meters of a fleet profile that keep state (values clients "
                                            "set, keys and secrets changed, invocation counters, clock offset, "
                                            "method effects) and how it differs from their model; --reset or "
                                            "--export it. Keys and secrets are never shown but with "
                                            "--export --show-secrets.")
    add_state_arguments(state)
    state.set_defaults(handler=_state)
    decode = commands.add_parser("decode", help=DECODE_DESCRIPTION[0].lower() + DECODE_DESCRIPTION[1:-1],
                                 description=DECODE_DESCRIPTION)
    add_decode_arguments(decode)
    decode.set_defaults(handler=run_decode)
    listen = commands.add_parser("listen", help="receive pushes (DataNotification) and print them decoded",
                                 description="A head-end's push port for labs and rigs: prints each "
                                             "notification decoded, the values named with their OBIS codes, and "
                                             "says when a sender's invocation counter does not increase.")
    add_listen_arguments(listen)
    listen.set_defaults(handler=_listen)
    ctl = commands.add_parser("ctl", help="drive a running fleet through its control plane: values, events, faults",
                              description="Talk to the control plane of a running `cosem-sim run`: list meters, "
                                          "read and write attributes, call methods, inject events and faults, "
                                          "change the fleet's time, follow a meter's trace. Exit status 0 done, "
                                          "1 the control plane answered with an error, 2 the request could not "
                                          "be sent (arguments, connection, token).")
    add_ctl_arguments(ctl)
    ctl.set_defaults(handler=_ctl)
    return parser


def _subcommand_parser(common: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    """The parser class of every subcommand: it inherits `common`'s options."""

    class SubcommandParser(argparse.ArgumentParser):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(parents=[common], **kwargs)

    return SubcommandParser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        status = int(args.handler(args))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`cosem-sim show idis_poly | head`): stop quietly, as cat does.
        # Python would flush stdout again at exit and fail: point it at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
