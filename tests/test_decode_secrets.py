"""decode hides every secret value (simulator/decode/confidential.py): shown as a length, noted for
hex dumps to mask, whichever way it is addressed (LN, SN, a later block, the response)."""

from __future__ import annotations

from simulator.apdu.sn import VariableName, WriteRequest
from simulator.axdr import Data, DataType
from simulator.decode import DecodeOptions, decode
from simulator.decode.apdu import Session
from simulator.decode.confidential import mask

# ACTION Security setup 0.0.43.0.0.255 key_transfer (class 64 v1 method 2): one key_data entry
# {key_id 0 (global unicast encryption key), key_wrapped: 24 octets} (Blue Book 4.4.7 layout).
WRAPPED = bytes(range(0x60, 0x78))
KEY_TRANSFER = bytes.fromhex("C301C10040 00002B0000FF 02 01 01 01 02 02 1600 0918") + WRAPPED
# GET of NTP setup 0.0.25.10.0.255 client_key (class 100 attribute 7), invoke 1, and its answer.
GET_NTP_KEY = bytes.fromhex("C001C1 0064 0000190A00FF 07 00")
NTP_KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
GET_NTP_KEY_RESPONSE = bytes.fromhex("C401C1 00 0910") + NTP_KEY


def test_key_transfer_payload_is_a_length() -> None:
    text = decode(KEY_TRANSFER).to_text()
    assert "key_transfer" in text and "array, 32 octets encoded (not shown)" in text
    assert WRAPPED.hex(" ").upper() not in text


def test_a_secret_read_back_is_hidden_in_the_response() -> None:
    session = Session(DecodeOptions())
    session.apdu(GET_NTP_KEY, ((0, 0),))
    answer = session.apdu(GET_NTP_KEY_RESPONSE, ((0, 0),))
    assert answer.fields[-1].text == "octet-string of 16 octets (not shown)"
    assert session.take_hidden() == [NTP_KEY]
    assert mask(GET_NTP_KEY_RESPONSE, [NTP_KEY])[0].endswith(b"*" * 16)


def test_sn_write_of_a_secret_method_is_hidden_when_short_names_resolve() -> None:
    write = WriteRequest((VariableName(0xFA30),), (Data(DataType.OCTET_STRING, b"NEWLLSPW"),)).to_bytes()
    assert "4E 45 57 4C 4C 53 50 57" in decode(write).to_text()  # without the model: a name like any
    options = DecodeOptions(short_names=lambda name: (12, 3, True) if name == 0xFA30 else None)
    text = decode(write, options).to_text()
    assert "octet-string of 8 octets (not shown)" in text
    assert "4E 45 57 4C 4C 53 50 57" not in text
