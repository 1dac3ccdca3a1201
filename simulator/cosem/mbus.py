"""M-Bus classes: slave and master ports, the M-Bus client, wireless mode Q, diagnostics.

M-Bus slave port setup (25), M-Bus client (72, versions 0 and 1), Wireless Mode Q channel (73),
M-Bus master port setup (74), DLMS server M-Bus port setup (76) and M-Bus diagnostic (77), as
the Blue Book (DLMS UA 1000-1) declares them.

The simulated M-Bus client has no bus behind it, so its methods act on its own state the way a
head-end observes them: slave_install gives the slave its primary address (and an
identification when the model left none), slave_deinstall clears the slave's identity, capture
bumps the access number and stamps the capture time of the M-Bus value objects
0-b:24.2.e.255 (one per capture_definition element, b being this client's channel),
set_encryption_key / transfer_key walk the encryption_key_status states.
"""

from __future__ import annotations

from ..apdu.common import ActionResult
from ..axdr import Data, DataType, Obis
from ..state.effects import MBusTraffic
from .base import ActionFailure, InterfaceClass, attribute, interface_class, method
from .context import ObjectContext
from .types import (
    ANY, DATE_TIME, DOUBLE_LONG_UNSIGNED, INTEGER, LONG_UNSIGNED, OBIS, OCTET_STRING, UNSIGNED, Array,
    Enum, OneOf, Struct,
)
from .values import (
    BAUD, CAPTURE_TIME, WINDOW_ELEMENT, enum, int_of, items, now_date_time, reset_counters, u8, u16, u32,
)

__all__ = [
    "CLASSES", "MBUS_SLAVE_PORT_SETUP", "MBUS_CLIENT", "MBUS_CLIENT_V0", "WIRELESS_MODE_Q_CHANNEL",
    "MBUS_MASTER_PORT_SETUP", "DLMS_SERVER_MBUS_PORT_SETUP", "MBUS_DIAGNOSTIC", "KeyStatus",
]

_ADDR_STATE = Enum(((0, "not_assigned"), (1, "assigned")))

MBUS_SLAVE_PORT_SETUP = interface_class(25, 0, "M-Bus slave port setup", [
    attribute(2, "default_baud", BAUD),
    attribute(3, "avail_baud", BAUD),
    attribute(4, "addr_state", _ADDR_STATE),
    attribute(5, "bus_address", UNSIGNED),
])


# -- M-Bus client (72) -------------------------------------------------------------------------

class KeyStatus:
    """encryption_key_status values (M-Bus client version 1)."""

    NO_KEY = 0
    KEY_SET = 1
    KEY_TRANSFERRED = 2
    KEY_SET_AND_TRANSFERRED = 3
    KEY_IN_USE = 4



_PRIMARY_ADDRESS = 5
_IDENTIFICATION = 6
_ACCESS_NUMBER = 10
_ALARM = 12
_KEY_STATUS = 14
# Attributes 6..12 describe the installed slave; deinstall sets them back to zero.
_SLAVE_IDENTITY = {6: u32, 7: u16, 8: u8, 9: u8, 10: u8, 11: u8, 12: u8}


def _installed(ctx: ObjectContext) -> None:
    if int_of(ctx, _PRIMARY_ADDRESS) == 0:
        raise ActionFailure(ActionResult.TEMPORARY_FAILURE, "no M-Bus slave installed")


def _slave_install(ctx: ObjectContext, parameter: Data | None) -> None:
    """slave_install: primary address 1..250; the identification number comes from the model,
    or is derived from the meter's seeded random source when the model gives none."""
    address = parameter.value if parameter is not None and parameter.type in (DataType.UNSIGNED, DataType.INTEGER) else 0
    if not 1 <= address <= 250:
        raise ActionFailure(ActionResult.OTHER_REASON, "primary address must be 1..250")
    if int_of(ctx, _PRIMARY_ADDRESS) != 0:
        raise ActionFailure(ActionResult.TEMPORARY_FAILURE, "a slave is already installed")
    ctx.set(_PRIMARY_ADDRESS, u8(address))
    if int_of(ctx, _IDENTIFICATION) == 0:
        # Identification number: 8 BCD digits, as the M-Bus data header carries it.
        ctx.set(_IDENTIFICATION, u32(int(f"{ctx.rng.randrange(1, 10**8):08d}", 16)))
    return None


def _slave_deinstall(ctx: ObjectContext, parameter: Data | None) -> None:
    _installed(ctx)
    ctx.set(_PRIMARY_ADDRESS, u8(0))
    for index, zero in _SLAVE_IDENTITY.items():
        ctx.set(index, zero(0))
    if ctx.cls.attribute(_KEY_STATUS) is not None:
        ctx.set(_KEY_STATUS, enum(KeyStatus.NO_KEY))
    return None


def _channel_values(ctx: ObjectContext) -> list[ObjectContext]:
    """The M-Bus value objects 0-b:24.2.e.255 that this client's capture_definition feeds."""
    channel = bytes(ctx.logical_name)[1]
    found = []
    for e in range(1, len(items(ctx, 3)) + 1):
        obj = ctx.find(Obis(bytes((0, channel, 24, 2, e, 255))), 4)
        if obj is not None:
            found.append(obj)
    return found


def _capture(ctx: ObjectContext, parameter: Data | None) -> None:
    """capture: a readout of the slave; access number +1, capture_time of the value objects."""
    _installed(ctx)
    ctx.set(_ACCESS_NUMBER, u8((int_of(ctx, _ACCESS_NUMBER) + 1) % 256))
    stamp = now_date_time(ctx)
    for value_object in _channel_values(ctx):
        value_object.set(5, stamp)
    ctx.change(MBusTraffic).captured = ctx.now
    return None


def _reset_alarm(ctx: ObjectContext, parameter: Data | None) -> None:
    ctx.set(_ALARM, u8(0))
    return None


def _synchronize_clock(ctx: ObjectContext, parameter: Data | None) -> None:
    _installed(ctx)
    ctx.change(MBusTraffic).clock_synchronized = ctx.now
    return None


def _data_send(ctx: ObjectContext, parameter: Data | None) -> None:
    _installed(ctx)
    ctx.change(MBusTraffic).data_sent = ctx.now
    return None


def _set_encryption_key(ctx: ObjectContext, parameter: Data | None) -> None:
    """set_encryption_key: a 16-octet key is set (status 1); an empty one removes it (status 0).

    Only the status is kept: the simulator never encrypts M-Bus traffic, so the key itself
    is not stored.
    """
    assert parameter is not None
    if len(parameter.value) not in (0, 16):
        raise ActionFailure(ActionResult.OTHER_REASON, "the key must be 16 octets (or empty to remove it)")
    if ctx.cls.attribute(_KEY_STATUS) is not None:
        ctx.set(_KEY_STATUS, enum(KeyStatus.KEY_SET if parameter.value else KeyStatus.NO_KEY))
    return None


def _transfer_key(ctx: ObjectContext, parameter: Data | None) -> None:
    """transfer_key: the (wrapped) key goes to the slave; status becomes transferred."""
    _installed(ctx)
    if ctx.cls.attribute(_KEY_STATUS) is not None:
        was_set = int_of(ctx, _KEY_STATUS) in (KeyStatus.KEY_SET, KeyStatus.KEY_SET_AND_TRANSFERRED)
        ctx.set(_KEY_STATUS, enum(KeyStatus.KEY_SET_AND_TRANSFERRED if was_set else KeyStatus.KEY_TRANSFERRED))
    return None


_DATA_DEFINITION = Struct((("data_information_block", OCTET_STRING), ("value_information_block", OCTET_STRING),
                           ("data", ANY)))


def _mbus_client(version: int) -> InterfaceClass:
    attrs = [
        attribute(2, "mbus_port_reference", OBIS),
        attribute(3, "capture_definition", Array(Struct((("data_information_block", OCTET_STRING),
                                                         ("value_information_block", OCTET_STRING))))),
        attribute(4, "capture_period", DOUBLE_LONG_UNSIGNED),
        attribute(5, "primary_address", UNSIGNED, default=u8(0)),
        attribute(6, "identification_number", DOUBLE_LONG_UNSIGNED, default=u32(0)),
        attribute(7, "manufacturer_id", LONG_UNSIGNED, default=u16(0)),
        attribute(8, "version", UNSIGNED, default=u8(0)),
        attribute(9, "device_type", UNSIGNED, default=u8(0)),
        attribute(10, "access_number", UNSIGNED, dynamic=True, default=u8(0)),
        attribute(11, "status", UNSIGNED, dynamic=True, default=u8(0)),
        attribute(12, "alarm", UNSIGNED, dynamic=True, default=u8(0)),
    ]
    if version >= 1:
        attrs += [
            attribute(13, "configuration", LONG_UNSIGNED),
            attribute(14, "encryption_key_status", Enum((
                (0, "no_encryption_key"), (1, "encryption_key_set"), (2, "encryption_key_transferred"),
                (3, "encryption_key_set_and_transferred"), (4, "encryption_key_in_use"))),
                dynamic=True, default=enum(0)),
        ]
    return interface_class(72, version, "M-Bus client", attrs, [
        method(1, "slave_install", UNSIGNED if version >= 1 else OneOf((INTEGER, UNSIGNED)), impl=_slave_install),
        method(2, "slave_deinstall", INTEGER, impl=_slave_deinstall),
        method(3, "capture", INTEGER, impl=_capture),
        method(4, "reset_alarm", INTEGER, impl=_reset_alarm),
        method(5, "synchronize_clock", INTEGER, impl=_synchronize_clock),
        method(6, "data_send", Array(_DATA_DEFINITION), impl=_data_send),
        method(7, "set_encryption_key", OCTET_STRING, impl=_set_encryption_key),
        method(8, "transfer_key", OCTET_STRING, impl=_transfer_key),
    ])


MBUS_CLIENT_V0 = _mbus_client(0)
MBUS_CLIENT = _mbus_client(1)


# -- Wireless Mode Q (73), M-Bus master port (74), DLMS server M-Bus port (76) -----------------

WIRELESS_MODE_Q_CHANNEL = interface_class(73, 1, "Wireless Mode Q channel", [
    attribute(2, "addr_state", _ADDR_STATE),
    attribute(3, "device_address", OCTET_STRING),
    attribute(4, "address_mask", OCTET_STRING),
])

MBUS_MASTER_PORT_SETUP = interface_class(74, 0, "M-Bus master port setup", [
    attribute(2, "comm_speed", BAUD),
])

DLMS_SERVER_MBUS_PORT_SETUP = interface_class(76, 0, "DLMS server M-Bus port setup", [
    attribute(2, "M_Bus_profile_selection", OBIS),
    attribute(3, "port_communication_status", Enum((
        (0, "no_access"), (1, "temporary_no_access"), (2, "limited_access"), (3, "unlimited_access"),
        (4, "wm_bus_receive_only"))), dynamic=True),
    attribute(4, "data_header_type", Enum(((0, "none"), (1, "short"), (2, "long")))),
    attribute(5, "primary_address", UNSIGNED),
    attribute(6, "identification_number", DOUBLE_LONG_UNSIGNED),
    attribute(7, "manufacturer_id", LONG_UNSIGNED),
    attribute(8, "M_Bus_version", UNSIGNED),
    attribute(9, "device_type", UNSIGNED),
    attribute(10, "max_PDU_size", LONG_UNSIGNED),
    attribute(11, "listening_window", Array(WINDOW_ELEMENT)),
])


# -- M-Bus diagnostic (77) ---------------------------------------------------------------------

MBUS_DIAGNOSTIC = interface_class(77, 0, "M-Bus diagnostic", [
    attribute(2, "received_signal_strength", UNSIGNED, dynamic=True),
    attribute(3, "channel_id", UNSIGNED, dynamic=True),
    attribute(4, "link_status", Enum(((0, "no_data"), (1, "normal_operation"), (2, "link_error"),
                                      (3, "link_error_no_response"))), dynamic=True),
    attribute(5, "broadcast_frames_counter", Array(Struct((("client_id", UNSIGNED),
                                                           ("counter", DOUBLE_LONG_UNSIGNED),
                                                           ("time_stamp", DATE_TIME)))), dynamic=True),
    attribute(6, "transmissions_counter", DOUBLE_LONG_UNSIGNED, dynamic=True),
    attribute(7, "FCS_OK_frames_counter", DOUBLE_LONG_UNSIGNED, dynamic=True),
    attribute(8, "FCS_NOK_frames_counter", DOUBLE_LONG_UNSIGNED, dynamic=True),
    attribute(9, "capture_time", CAPTURE_TIME, dynamic=True),
], [
    method(1, "reset", INTEGER, impl=reset_counters(5, 6, 7, 8)),
])


CLASSES = (
    MBUS_SLAVE_PORT_SETUP, MBUS_CLIENT_V0, MBUS_CLIENT, WIRELESS_MODE_Q_CHANNEL, MBUS_MASTER_PORT_SETUP,
    DLMS_SERVER_MBUS_PORT_SETUP, MBUS_DIAGNOSTIC,
)
