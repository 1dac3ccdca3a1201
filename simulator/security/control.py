"""The security control byte (Green Book security header), e.g. 0x30 = authenticated + encrypted.

    bit  7   6   5   4   3..0
         C   B   E   A   security suite id

C = compression, B = broadcast key, E = encryption, A = authentication.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SecurityParameterError

__all__ = ["SecurityControl"]

_A, _E, _B, _C = 0x10, 0x20, 0x40, 0x80


@dataclass(frozen=True, slots=True)
class SecurityControl:
    """The decoded security control byte. Every byte decodes; validity is the suite's call."""

    suite: int = 0
    authenticated: bool = False
    encrypted: bool = False
    broadcast_key: bool = False
    compressed: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.suite <= 0x0F:
            raise SecurityParameterError(f"security suite id {self.suite} does not fit 4 bits")

    @classmethod
    def from_byte(cls, value: int) -> "SecurityControl":
        if not 0 <= value <= 0xFF:
            raise SecurityParameterError(f"security control byte {value} out of range")
        if cls is SecurityControl:
            return _DECODED[value]  # every ciphered APDU reads one: the 256 values are made once
        return cls(value & 0x0F, bool(value & _A), bool(value & _E), bool(value & _B), bool(value & _C))

    def to_byte(self) -> int:
        return (
            self.suite | (_A if self.authenticated else 0) | (_E if self.encrypted else 0)
            | (_B if self.broadcast_key else 0) | (_C if self.compressed else 0)
        )

    @property
    def protected(self) -> bool:
        """True when authentication or encryption is applied (a ciphered APDU needs one)."""
        return self.authenticated or self.encrypted

    @property
    def has_tag(self) -> bool:
        """True when the payload ends with an authentication tag."""
        return self.authenticated

    def __str__(self) -> str:
        flags = "".join(f for f, on in (("A", self.authenticated), ("E", self.encrypted),
                                        ("B", self.broadcast_key), ("C", self.compressed)) if on)
        return f"SC 0x{self.to_byte():02X} (suite {self.suite}{', ' + flags if flags else ''})"


_DECODED = tuple(SecurityControl(v & 0x0F, bool(v & _A), bool(v & _E), bool(v & _B), bool(v & _C)) for v in range(256))
