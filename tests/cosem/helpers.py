"""Helpers shared by the interface-class tests: Data constructors and method calls that check
the parameter against the class's declaration before invoking."""

from __future__ import annotations

import pytest

from simulator.apdu.common import ActionResult
from simulator.axdr import Data, DataType
from simulator.cosem.base import ActionFailure
from simulator.server.objects import ObjectHandle

ZERO = Data(DataType.INTEGER, 0)


def u8(v: int) -> Data:
    return Data(DataType.UNSIGNED, v)


def u16(v: int) -> Data:
    return Data(DataType.LONG_UNSIGNED, v)


def u32(v: int) -> Data:
    return Data(DataType.DOUBLE_LONG_UNSIGNED, v)


def octets(v: bytes) -> Data:
    return Data(DataType.OCTET_STRING, v)


def array(*v: Data) -> Data:
    return Data(DataType.ARRAY, tuple(v))


def struct(*v: Data) -> Data:
    return Data(DataType.STRUCTURE, tuple(v))


def call(obj: ObjectHandle, index: int, parameter: Data) -> Data | None:
    """Invoke a method after checking the parameter has the type the class declares."""
    mdef = obj.cls.method(index)
    assert mdef is not None and mdef.parameter is not None and mdef.parameter.accepts(parameter)
    return obj.invoke(index, parameter)


def refused(obj: ObjectHandle, index: int, parameter: Data) -> ActionResult:
    """The result of a method call that must fail."""
    with pytest.raises(ActionFailure) as exc:
        call(obj, index, parameter)
    return exc.value.result
