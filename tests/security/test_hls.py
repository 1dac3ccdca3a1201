"""HLS authentication f(challenge): mechanism 5 (GMAC) and the digest mechanisms 3 and 4."""

from __future__ import annotations

import hashlib
import os
import random

import pytest

from simulator.security.errors import SecurityError, SecurityParameterError
from simulator.security.hls import (
    MECHANISM_GMAC, MECHANISM_MD5, MECHANISM_SHA1, hls_digest_response, hls_gmac_response,
    make_challenge, verify_hls_digest, verify_hls_gmac,
)

from .vectors import (
    GB_AK, GB_CLIENT_TITLE, GB_CTOS, GB_EK, GB_SERVER_TITLE, GB_STOC, HLS3_CTOS, HLS3_PASS3, HLS3_PASS4,
    HLS3_SECRET, HLS3_STOC, HLS_GMAC_PASS3_GB, HLS_GMAC_PASS3_MEL, HLS_GMAC_PASS4_GB, MEL_CLIENT_TITLE,
    MEL_STOC, h,
)

EK, AK = h(GB_EK), h(GB_AK)

GMAC_CASES = [
    # (name, f(challenge), title of the party computing it, its IC, challenge)
    ("GB Table 43 pass 3 (client)", HLS_GMAC_PASS3_GB, GB_CLIENT_TITLE, 1, GB_STOC),
    ("GB Table 43 pass 4 (server)", HLS_GMAC_PASS4_GB, GB_SERVER_TITLE, 0x01234567, GB_CTOS),
    ("real meter pass 3 (client)", HLS_GMAC_PASS3_MEL, MEL_CLIENT_TITLE, 0x5A, MEL_STOC),
]


def test_mechanism_numbers() -> None:
    assert (MECHANISM_MD5, MECHANISM_SHA1, MECHANISM_GMAC) == (3, 4, 5)


@pytest.mark.parametrize("name, response, title, ic, challenge", GMAC_CASES, ids=[c[0] for c in GMAC_CASES])
def test_gmac_vectors(name: str, response: str, title: str, ic: int, challenge: str) -> None:
    assert hls_gmac_response(h(title), ic, EK, AK, h(challenge)) == h(response)
    assert verify_hls_gmac(h(response), h(title), EK, AK, h(challenge)) == ic


@pytest.mark.parametrize("name, response, title, ic, challenge", GMAC_CASES, ids=[c[0] for c in GMAC_CASES])
def test_gmac_tampering_fails(name: str, response: str, title: str, ic: int, challenge: str) -> None:
    good = h(response)
    for i in range(len(good)):
        bad = bytearray(good)
        bad[i] ^= 0x01
        with pytest.raises(SecurityError):
            verify_hls_gmac(bytes(bad), h(title), EK, AK, h(challenge))
    for wrong in (
        (good, h(GB_SERVER_TITLE if title != GB_SERVER_TITLE else GB_CLIENT_TITLE), EK, AK, h(challenge)),
        (good, h(title), EK, AK, h(challenge) + b"\x00"),
        (good, h(title), AK, EK, h(challenge)),
        (good[:-1], h(title), EK, AK, h(challenge)),
        (good + b"\x00", h(title), EK, AK, h(challenge)),
    ):
        with pytest.raises(SecurityError):
            verify_hls_gmac(*wrong)


def test_gmac_verify_rejects_a_bad_own_title_locally() -> None:
    with pytest.raises(SecurityParameterError):
        verify_hls_gmac(h(HLS_GMAC_PASS3_GB), bytes(7), EK, AK, h(GB_STOC))


def test_md5_vectors() -> None:
    secret = h(HLS3_SECRET)
    assert hls_digest_response(MECHANISM_MD5, h(HLS3_STOC), secret) == h(HLS3_PASS3)
    assert hls_digest_response(MECHANISM_MD5, h(HLS3_CTOS), secret) == h(HLS3_PASS4)
    verify_hls_digest(MECHANISM_MD5, h(HLS3_PASS3), h(HLS3_STOC), secret)
    with pytest.raises(SecurityError):
        verify_hls_digest(MECHANISM_MD5, h(HLS3_PASS4), h(HLS3_STOC), secret)


def test_sha1_is_digest_of_challenge_then_secret() -> None:
    challenge, secret = h(GB_STOC), b"12345678"
    expected = hashlib.sha1(challenge + secret).digest()
    assert hls_digest_response(MECHANISM_SHA1, challenge, secret) == expected
    verify_hls_digest(MECHANISM_SHA1, expected, challenge, secret)
    with pytest.raises(SecurityError):
        verify_hls_digest(MECHANISM_SHA1, hashlib.sha1(secret + challenge).digest(), challenge, secret)
    with pytest.raises(SecurityError):
        verify_hls_digest(MECHANISM_SHA1, expected[:-1], challenge, secret)


@pytest.mark.parametrize("mechanism", [0, 1, 2, 5, 6, 7])
def test_digest_rejects_other_mechanisms(mechanism: int) -> None:
    with pytest.raises(SecurityParameterError):
        hls_digest_response(mechanism, b"challenge", b"secret")


def test_make_challenge_from_seeded_random_is_reproducible() -> None:
    first = make_challenge(random.Random(7))
    assert first == make_challenge(random.Random(7)) and len(first) == 16
    assert make_challenge(random.Random(8)) != first
    assert len(make_challenge(random.Random(1), 8)) == 8
    assert len(make_challenge(random.Random(1), 64)) == 64


def test_make_challenge_from_callable() -> None:
    assert len(make_challenge(os.urandom, 32)) == 32
    assert make_challenge(lambda n: b"\xaa" * n, 8) == b"\xaa" * 8
    with pytest.raises(SecurityParameterError):
        make_challenge(lambda n: b"\xaa" * (n - 1), 8)


@pytest.mark.parametrize("length", [0, 7, 65])
def test_make_challenge_length_bounds(length: int) -> None:
    with pytest.raises(SecurityParameterError):
        make_challenge(random.Random(0), length)
