"""AES key wrap (RFC 3394) for Security setup key_transfer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.security.errors import SecurityError, SecurityParameterError
from simulator.security.keywrap import KeyId, unwrap_key, wrap_key

from .vectors import KEYWRAP_KEK, KEYWRAP_KEY, KEYWRAP_WRAPPED, h


def test_rfc3394_vector() -> None:
    assert wrap_key(h(KEYWRAP_KEK), h(KEYWRAP_KEY)) == h(KEYWRAP_WRAPPED)
    assert unwrap_key(h(KEYWRAP_KEK), h(KEYWRAP_WRAPPED)) == h(KEYWRAP_KEY)


def test_any_bit_flip_fails_the_integrity_check() -> None:
    wrapped = h(KEYWRAP_WRAPPED)
    for i in range(len(wrapped)):
        bad = bytearray(wrapped)
        bad[i] ^= 0x10
        with pytest.raises(SecurityError, match="integrity"):
            unwrap_key(h(KEYWRAP_KEK), bytes(bad))


def test_wrong_kek_fails() -> None:
    with pytest.raises(SecurityError):
        unwrap_key(bytes(16), h(KEYWRAP_WRAPPED))


@pytest.mark.parametrize("size", [0, 8, 16, 23, 25, 32])
def test_wrapped_size_is_checked_as_remote_error(size: int) -> None:
    with pytest.raises(SecurityError, match="24 bytes"):
        unwrap_key(h(KEYWRAP_KEK), bytes(size))


def test_local_errors_do_not_show_keys() -> None:
    for call, args in ((wrap_key, (bytes(15), h(KEYWRAP_KEY))), (wrap_key, (h(KEYWRAP_KEK), h(KEYWRAP_KEY) * 2)),
                       (unwrap_key, (h(KEYWRAP_KEK)[:8], h(KEYWRAP_WRAPPED)))):
        with pytest.raises(SecurityParameterError) as err:
            call(*args)
        assert KEYWRAP_KEY.lower() not in str(err.value).lower()
        assert "0001020304" not in str(err.value)


def test_key_ids() -> None:
    assert [k.value for k in KeyId] == [0, 1, 2, 3]
    assert KeyId.MASTER_KEY == 3


@settings(max_examples=50, deadline=None)
@given(kek=st.binary(min_size=16, max_size=16), key=st.binary(min_size=16, max_size=16))
def test_round_trip(kek: bytes, key: bytes) -> None:
    wrapped = wrap_key(kek, key)
    assert len(wrapped) == 24 and unwrap_key(kek, wrapped) == key
