"""The `decode` command line: hex, a file or stdin in; text or JSON out; one line when it fails.

Option values are never repeated in messages: they may be keys.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
from pathlib import Path
from typing import Any, Sequence, TextIO

from ..errors import DecodeError
from .frames import decode
from .tree import DecodeOptions

__all__ = ["DESCRIPTION", "add_decode_arguments", "run_decode", "main_decode", "option_bytes"]

DESCRIPTION = ("Decode an HDLC frame, a wrapper frame, a bare APDU or a bare A-XDR Data value in the words "
               "of the standard.")


# What a log line may put before its hex: a date, a time, a [bracketed] stamp, a direction.
_LOG_PREFIX = re.compile(r"""\s*(?:
      \[[^\]]*\]
    | \d{4}-\d{2}-\d{2}(?:[T\ ]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?
    | \d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?=\s)
    | (?:TX|RX|SENT|SEND|RECEIVED|RECV)\b:?
    | <<|>>|->|<-
    )""", re.X | re.I)
_HEX_PREFIX = re.compile(r"\b0x(?=[0-9A-Fa-f])", re.I)
_SEPARATORS = re.compile(r"[\s:,]")


def _line_hex(line: str) -> str:
    """The hex digits of one line, without its log prefix, `0x` prefixes and separators."""
    while (m := _LOG_PREFIX.match(line)) is not None:
        line = line[m.end():]
    return _SEPARATORS.sub("", _HEX_PREFIX.sub("", line))


def _parse_hex(text: str) -> bytes:
    """Hex as people paste it: `0x`, spaces, colons, commas, a log line's timestamp and TX:/RX:."""
    digits = "".join(_line_hex(line) for line in text.splitlines())
    for i, ch in enumerate(digits):
        if ch not in string.hexdigits:
            raise DecodeError(f"{ch!r} is not a hex digit", i // 2)
    if len(digits) % 2:
        raise DecodeError("odd number of hex digits", len(digits) // 2)
    return bytes.fromhex(digits)


def _read_input(raw: bytes) -> bytes:
    """File or stdin content: text is hex (as `_parse_hex` takes it), anything else raw bytes."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return raw
    if all(ch.isprintable() or ch.isspace() for ch in text):
        return _parse_hex(text)
    return raw


def add_decode_arguments(parser: argparse.ArgumentParser) -> None:
    """The `decode` command line, shared by `cosem-sim decode` and `main_decode`."""
    parser.add_argument("hex", nargs="*", metavar="HEX",
                        help="the bytes in hex (0x, spaces, colons and a log line's timestamp and TX:/RX: "
                             "allowed); '-' or nothing reads standard input")
    parser.add_argument("-f", "--file", type=Path, help="read hex text or raw bytes from FILE")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--ek", metavar="HEX", help="block cipher key (16 bytes) to open ciphered APDUs; "
                        "for ded- APDUs the dedicated key, unless the input's InitiateRequest carries it")
    parser.add_argument("--ak", metavar="HEX", help="authentication key (16 bytes)")
    parser.add_argument("--system-title", metavar="HEX",
                        help="the sender's system title (8 bytes) for glo-/ded- APDUs, when no AARQ or "
                             "AARE in the input names it")


def option_bytes(value: str | None, size: int, what: str) -> bytes | None:
    """A hex option; the message never repeats the value (it may be a key)."""
    if value is None:
        return None
    try:
        b = bytes.fromhex(re.sub(r"[\s:]", "", value))
    except ValueError:
        raise ValueError(f"{what} must be hex") from None
    if len(b) != size:
        raise ValueError(f"{what} must be {size} bytes ({2 * size} hex digits)")
    return b


def run_decode(args: argparse.Namespace, stdin: Any = None, stdout: TextIO | None = None,
               stderr: TextIO | None = None) -> int:
    """Run a parsed `decode` command: 0 decoded, 1 cannot decode, 2 bad usage."""
    stdin = sys.stdin.buffer if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    try:
        ek = option_bytes(args.ek, 16, "--ek")
        ak = option_bytes(args.ak, 16, "--ak")
        title = option_bytes(args.system_title, 8, "--system-title")
        if (ek is None) != (ak is None):
            raise ValueError("--ek and --ak go together")
        if args.file is not None and args.hex:
            raise ValueError("give HEX or -f FILE, not both")
        raw = args.file.read_bytes() if args.file is not None else None
    except (ValueError, OSError) as error:
        stderr.write(f"cosem-sim decode: {error}\n")
        return 2
    try:
        if raw is not None:
            data = _read_input(raw)
        elif args.hex and args.hex != ["-"]:
            data = _parse_hex(" ".join(args.hex))
        else:
            data = _read_input(stdin.read())
        result = decode(data, DecodeOptions(ek, ak, title))
    except DecodeError as error:
        stderr.write(f"cannot decode: at byte {error.offset or 0}: {error.reason}\n")
        return 1
    stdout.write((json.dumps(result.to_python(), indent=2) if args.json else result.to_text()) + "\n")
    return 0


def main_decode(argv: Sequence[str] | None = None) -> int:
    """`cosem-sim decode` on its own: parse `argv` (default: sys.argv[1:]) and run."""
    parser = argparse.ArgumentParser(prog="cosem-sim decode", description=DESCRIPTION)
    add_decode_arguments(parser)
    return run_decode(parser.parse_args(argv))
