"""The `cosem-sim` command: one argparse front for the simulator's subcommands."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .decode import add_decode_arguments, run_decode
from .decode.command import DESCRIPTION as DECODE_DESCRIPTION

__all__ = ["main"]


def _run(args: argparse.Namespace) -> int:
    sys.stdout.write("not yet: the server runtime arrives with issue 4\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cosem-sim", description="A virtual DLMS/COSEM server.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    decode = commands.add_parser("decode", help=DECODE_DESCRIPTION[0].lower() + DECODE_DESCRIPTION[1:-1],
                                 description=DECODE_DESCRIPTION)
    add_decode_arguments(decode)
    decode.set_defaults(handler=run_decode)
    run = commands.add_parser("run", help="run the simulated meters")
    run.set_defaults(handler=_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
