"""SNRM/UA parameter field and negotiation."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import DecodeError, EncodeError
from simulator.link.hdlc.frame import HDLCFrame
from simulator.link.hdlc.parameters import HDLCParameters, HDLCSettings, negotiate

# UA with default negotiation parameters, Kmethy examples in the archived DLMS UA FAQ,
# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/studio/docs/Are%20examples%20for%20information%20exchange%20available.htm
UA_DEFAULTS_KMETHY = bytes.fromhex(
    "7EA023210002002373F6C58180140502008006020080070400000001080400000001CE6A7E")
# UA with 2-byte max-info-length 239, real meter trace,
# https://github.com/milanbella/gocosem/blob/02b8a72f67613192aba85cd284e0cdb02a34378c/doc/electronica/trace-authentication-and-encryption.txt
UA_239_GOCOSEM = bytes.fromhex("7EA023210002002373F6C5818014050200EF060200EF070400000001080400000001074B7E")
# UA with 1-byte window sizes, Landis+Gyr trace,
# https://github.com/arabine/opendlms/blob/8cf92553a68aa8a840d115fbcee505dfe349dd18/studio/docs/hdlc/hdlc.txt
UA_LANDIS_GYR = bytes.fromhex("7EA01D0300020021731B2B81800E050200800602008007010108010125C77E")
# UA with 1-byte max-info values, real meter with 4-byte address,
# https://github.com/milanbella/gocosem/blob/02b8a72f67613192aba85cd284e0cdb02a34378c/doc/electronica/trace__low_level_sec.txt
UA_1_BYTE_GOCOSEM = bytes.fromhex("7EA02103000294B3733E8C8180120501EF0601EF0704000000010804000000010DE77E")


@pytest.mark.parametrize(("frame", "expected", "widths"), [
    (UA_DEFAULTS_KMETHY, HDLCParameters(128, 128, 1, 1), (2, 4)),
    (UA_239_GOCOSEM, HDLCParameters(239, 239, 1, 1), (2, 4)),
    (UA_LANDIS_GYR, HDLCParameters(128, 128, 1, 1), (2, 1)),
    (UA_1_BYTE_GOCOSEM, HDLCParameters(239, 239, 1, 1), (1, 4)),
])
def test_ua_vectors_byte_exact(frame: bytes, expected: HDLCParameters, widths: tuple[int, int]) -> None:
    info = HDLCFrame.from_bytes(frame).information
    assert HDLCParameters.from_bytes(info) == expected
    assert expected.to_bytes(*widths) == info


def test_default_widths_are_the_dlms_ua_example() -> None:
    assert HDLCParameters().to_bytes() == HDLCFrame.from_bytes(UA_DEFAULTS_KMETHY).information


def test_values_widen_when_needed() -> None:
    assert HDLCParameters(2030, 300, 7, 7).to_bytes(1, 1) == bytes.fromhex(
        "81800E" "050207EE" "0602012C" "070107" "080107")


def test_empty_field_means_defaults() -> None:
    assert HDLCParameters.from_bytes(b"") == HDLCParameters(128, 128, 1, 1)


def test_absent_parameters_default() -> None:
    # What gurux-dlms sends when only its receive window differs from the default.
    assert HDLCParameters.from_bytes(bytes.fromhex("818006080400000003")) == HDLCParameters(128, 128, 1, 3)


def test_unknown_parameter_is_skipped() -> None:
    assert HDLCParameters.from_bytes(bytes.fromhex("818007" "09020001" "050140")) == HDLCParameters(64, 128, 1, 1)


@pytest.mark.parametrize("field", [
    "81", "8180", "828003050180", "818103050180", "818004050180", "818002050180", "81800305030000FF",
    "818003050100", "8180030502FF",
])
def test_malformed(field: str) -> None:
    with pytest.raises(DecodeError):
        HDLCParameters.from_bytes(bytes.fromhex(field))


def test_negative_value_cannot_be_encoded() -> None:
    with pytest.raises(EncodeError):
        HDLCParameters(-1).to_bytes()


def test_every_truncation_and_bit_flip_decodes_or_raises() -> None:
    for frame in (UA_DEFAULTS_KMETHY, UA_LANDIS_GYR, UA_1_BYTE_GOCOSEM):
        info = HDLCFrame.from_bytes(frame).information
        variants = [info[:n] for n in range(len(info))]
        variants += [bytes(info[:i]) + bytes((info[i] ^ (1 << b),)) + info[i + 1:]
                     for i in range(len(info)) for b in range(8)]
        for data in variants:
            with contextlib.suppress(DecodeError):
                HDLCParameters.from_bytes(data)


def test_negotiation_crosses_directions() -> None:
    client = HDLCParameters(max_info_tx=1000, max_info_rx=200, window_tx=2, window_rx=7)
    server = HDLCParameters(max_info_tx=512, max_info_rx=512, window_tx=3, window_rx=1)
    # Server transmit is capped by what the client receives, and the other way round.
    assert negotiate(client, server) == HDLCParameters(max_info_tx=200, max_info_rx=512, window_tx=3, window_rx=1)


def test_negotiation_from_defaults() -> None:
    assert negotiate(HDLCParameters(), HDLCSettings(2030, 2030, 7, 7).parameters) == HDLCParameters()


@pytest.mark.parametrize("kwargs", [
    {"max_info_tx": 31}, {"max_info_rx": 2031}, {"window_tx": 0}, {"window_rx": 8},
    {"inactivity_timeout_s": -1}, {"inter_frame_timeout_s": 0},
])
def test_settings_validation(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        HDLCSettings(**kwargs)  # type: ignore[arg-type]


def test_settings_defaults_are_class_23_defaults() -> None:
    s = HDLCSettings()
    assert (s.max_info_tx, s.max_info_rx, s.window_tx, s.window_rx) == (128, 128, 1, 1)
    assert (s.inactivity_timeout_s, s.inter_frame_timeout_s) == (120.0, 0.025)


_values = st.integers(1, 0xFFFFFFFF)


@settings(max_examples=100)
@given(st.builds(HDLCParameters, _values, _values, _values, _values), st.sampled_from([1, 2, 4]),
       st.sampled_from([1, 2, 4]))
def test_round_trip(parameters: HDLCParameters, info_width: int, window_width: int) -> None:
    assert HDLCParameters.from_bytes(parameters.to_bytes(info_width, window_width)) == parameters


@settings(max_examples=100)
@given(st.builds(HDLCParameters, _values, _values, _values, _values),
       st.builds(HDLCParameters, _values, _values, _values, _values))
def test_negotiation_never_exceeds_either_side(client: HDLCParameters, server: HDLCParameters) -> None:
    agreed = negotiate(client, server)
    assert agreed.max_info_tx <= min(server.max_info_tx, client.max_info_rx)
    assert agreed.max_info_rx <= min(server.max_info_rx, client.max_info_tx)
    assert agreed.window_tx <= min(server.window_tx, client.window_rx)
    assert agreed.window_rx <= min(server.window_rx, client.window_tx)
