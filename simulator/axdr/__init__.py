"""A-XDR codecs: the DLMS Data CHOICE, COSEM date/time values and OBIS codes (pure functions)."""

from .buffer import Reader, encode_length, length_size
from .cosem_time import ClockStatus, CosemDate, CosemDateTime, CosemTime
from .data import (
    NULL, BitString, CompactArray, Data, DataType, TypeDescription, decode_data, encode_data,
    encode_data_into, format_data,
)
from .obis import Obis

__all__ = [
    "Reader", "encode_length", "length_size", "ClockStatus", "CosemDate", "CosemDateTime",
    "CosemTime", "NULL", "BitString", "CompactArray", "Data", "DataType", "TypeDescription",
    "decode_data", "encode_data", "encode_data_into", "format_data", "Obis",
]
