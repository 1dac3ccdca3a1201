"""The engine of `cosem-sim decode`: bytes from a head-end's log, told in the words of the standard.

The input is an HDLC stream (starts with 7E: one or more frames, segments joined), TCP/UDP
wrapper frames (start with 00 01) or one bare APDU. `decode` turns it into a tree of `Node`s
that renders as indented text (`Decoded.to_text`) or plain JSON data (`Decoded.to_python`).
Any byte that cannot be decoded stops everything with one `DecodeError` whose offset counts
from the first byte of the input, wherever the bad byte sits (inside an APDU, across HDLC
segments), so the one-line message points at it.

Secrets stay out of the output: authentication values and dedicated keys show as lengths, and
the keys given to open ciphered APDUs never appear.

    tree.py     the result tree (Field, Node, Decoded), its text and JSON forms, offsets
    apdu.py     every APDU family described, ciphered ones opened
    frames.py   HDLC and wrapper framing, and `decode` itself
    command.py  the command line: hex, file or stdin in; text or JSON out
"""

from .command import add_decode_arguments, main_decode, run_decode
from .frames import decode
from .tree import Decoded, DecodeOptions, Field, Node

__all__ = [
    "Field", "Node", "Decoded", "DecodeOptions", "decode", "add_decode_arguments", "run_decode",
    "main_decode",
]
