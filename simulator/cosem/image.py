"""Image transfer (18, version 0): a client sends a firmware image in blocks, then verifies and activates it.

The process (Blue Book 4.4.6): image_transfer_initiate(identifier, size) starts a transfer and
forgets any earlier one; image_block_transfer(number, value) stores block `number` (0-based),
each image_block_size octets except the last; image_verify checks that every block arrived;
image_activate activates a verified image, verifying it first when the client did not (the Blue
Book makes verification part of activation). Verification and activation finish at once here,
so the "initiated" states (2, 5) are never observed and no call answers temporary-failure.

Which method each image_transfer_status admits is the table `_ACCEPTS`; a method called in a
status it does not list, while image_transfer_enabled is FALSE, with a block number outside the
image, with a block of the wrong size, or a verification that finds blocks missing is refused
with action-result other-reason (the Blue Book names no more specific result). A failed
verification also sets the status to image_verification_failed.

Per-meter state (the `ImageTransfer` effect record): the transfer in progress (identifier, size, block size frozen
at initiation, blocks received, first missing block, status) and, once an image was activated,
`activated_identifier`.

Activation is what a real meter does: it runs the new image. The active firmware identifier
objects (Data a.0.0.2.0.255, 1.0.0.2.0.255 for electricity) read the activated image's
identifier from then on, "firmware activated" is logged in the standard event log, and the
meter restarts (`ctx.restart()`): once the ACTION is answered every association ends and the
connection that carried it closes; an activation a single action schedule runs restarts the
meter at its scheduled instant. The identifier and the log are meter state, kept across a
restart of the simulator.
"""

from __future__ import annotations

from typing import Callable

from ..apdu.common import ActionResult
from ..axdr import BitString, Data, DataType
from ..state.effects import ImageTransfer
from .base import ActionFailure, attribute, interface_class, method
from .context import ObjectContext
from .events import EventCode, log_event
from .types import BIT_STRING, BOOLEAN, DOUBLE_LONG_UNSIGNED, INTEGER, OCTET_STRING, Array, Enum, Struct

__all__ = [
    "CLASSES", "IMAGE_TRANSFER", "ImageTransferStatus", "IMAGE_TRANSFER_STATUS", "MAX_IMAGE_SIZE",
    "DEFAULT_BLOCK_SIZE", "activated_identifier", "received_image",
]

MAX_IMAGE_SIZE = 16 * 1024 * 1024
"""Largest image a meter accepts: a simulated meter keeps the blocks in memory."""

DEFAULT_BLOCK_SIZE = 200
"""image_block_size when the model gives none."""

_DATA = 1


class ImageTransferStatus:
    """image_transfer_status values."""

    NOT_INITIATED = 0
    INITIATED = 1
    VERIFICATION_INITIATED = 2
    VERIFICATION_SUCCESSFUL = 3
    VERIFICATION_FAILED = 4
    ACTIVATION_INITIATED = 5
    ACTIVATION_SUCCESSFUL = 6
    ACTIVATION_FAILED = 7


IMAGE_TRANSFER_STATUS = Enum((
    (0, "image_transfer_not_initiated"), (1, "image_transfer_initiated"),
    (2, "image_verification_initiated"), (3, "image_verification_successful"),
    (4, "image_verification_failed"), (5, "image_activation_initiated"),
    (6, "image_activation_successful"), (7, "image_activation_failed"),
), open=False)
IMAGE_TO_ACTIVATE_INFO_ELEMENT = Struct((
    ("image_to_activate_size", DOUBLE_LONG_UNSIGNED),
    ("image_to_activate_identification", OCTET_STRING),
    ("image_to_activate_signature", OCTET_STRING),
))
IMAGE_TRANSFER_INITIATE = Struct((
    ("image_identifier", OCTET_STRING), ("image_size", DOUBLE_LONG_UNSIGNED)))
IMAGE_BLOCK_TRANSFER = Struct((
    ("image_block_number", DOUBLE_LONG_UNSIGNED), ("image_block_value", OCTET_STRING)))

_S = ImageTransferStatus
_ANY_STATUS = frozenset(range(8))
_TRANSFERRING = frozenset({_S.INITIATED, _S.VERIFICATION_SUCCESSFUL, _S.VERIFICATION_FAILED})
# Which statuses each method accepts; every other status refuses it (other-reason).
_ACCEPTS: dict[int, frozenset[int]] = {
    1: _ANY_STATUS,     # image_transfer_initiate: always (re)starts
    2: _TRANSFERRING,   # image_block_transfer: a block after verification asks for a new one
    3: _TRANSFERRING,   # image_verify
    4: _TRANSFERRING,   # image_activate: verifies first unless verification succeeded
}


def _refuse(why: str) -> ActionFailure:
    return ActionFailure(ActionResult.OTHER_REASON, why)


_NONE = ImageTransfer()  # what an object that never transferred reads as (never changed)


def _transfer(ctx: ObjectContext) -> ImageTransfer:
    return ctx.effect(ImageTransfer) or _NONE


def _status(ctx: ObjectContext) -> int:
    return _transfer(ctx).status


def _blocks_total(state: ImageTransfer) -> int:
    return -(-state.size // state.block_size)


def _complete(state: ImageTransfer) -> bool:
    return state.first_missing >= _blocks_total(state)


_Impl = Callable[[ObjectContext, "Data | None"], None]


def _guarded(index: int, impl: _Impl) -> _Impl:
    """Refuse the method when transfer is disabled or the status does not admit it."""

    def run(ctx: ObjectContext, parameter: Data | None) -> None:
        enabled = ctx.get(5)
        if enabled.type == DataType.BOOLEAN and not enabled.value:
            raise _refuse("image transfer is disabled")
        status = _status(ctx)
        if status not in _ACCEPTS[index]:
            name = IMAGE_TRANSFER_STATUS.name_of(status)
            raise _refuse(f"method {index} is not allowed in image_transfer_status {name}")
        return impl(ctx, parameter)

    return run


def _initiate(ctx: ObjectContext, parameter: Data | None) -> None:
    assert parameter is not None  # invoke checked it against the method's parameter type
    identifier, size = (d.value for d in parameter.value)
    block_size = ctx.get(2)
    if block_size.type != DataType.DOUBLE_LONG_UNSIGNED or block_size.value == 0:
        raise _refuse("image_block_size is not set")
    if not 0 < size <= MAX_IMAGE_SIZE:
        raise _refuse(f"image_size {size} outside 1..{MAX_IMAGE_SIZE}")
    state = ctx.change(ImageTransfer)
    state.status, state.identifier, state.size = _S.INITIATED, bytes(identifier), size
    state.block_size, state.blocks, state.first_missing = block_size.value, {}, 0
    return None


def _block_transfer(ctx: ObjectContext, parameter: Data | None) -> None:
    assert parameter is not None  # invoke checked it against the method's parameter type
    number, value = (d.value for d in parameter.value)
    total = _blocks_total(_transfer(ctx))
    if number >= total:
        raise _refuse(f"block {number} outside the image's {total} blocks")
    state = ctx.change(ImageTransfer)
    bs = state.block_size
    expected = bs if number < total - 1 else state.size - bs * (total - 1)
    if len(value) != expected:
        raise _refuse(f"block {number} has {len(value)} octets, expected {expected}")
    state.blocks[number] = bytes(value)
    first = state.first_missing
    while first in state.blocks:
        first += 1
    state.first_missing = first
    state.status = _S.INITIATED
    return None


def _verify_now(ctx: ObjectContext) -> None:
    state = ctx.change(ImageTransfer)
    if not _complete(state):
        state.status = _S.VERIFICATION_FAILED
        raise _refuse(f"block {state.first_missing} was not transferred")
    state.status = _S.VERIFICATION_SUCCESSFUL


def _verify(ctx: ObjectContext, parameter: Data | None) -> None:
    _verify_now(ctx)
    return None


def _activate(ctx: ObjectContext, parameter: Data | None) -> None:
    if _status(ctx) != _S.VERIFICATION_SUCCESSFUL:
        _verify_now(ctx)
    state = ctx.change(ImageTransfer)
    state.status = _S.ACTIVATION_SUCCESSFUL
    state.activated_identifier = state.identifier
    running = Data(DataType.OCTET_STRING, state.identifier)
    for firmware in _active_firmware_identifiers(ctx):
        firmware.set(2, running)
    log_event(ctx, "standard", EventCode.FIRMWARE_ACTIVATED)
    ctx.restart()
    return None


def _active_firmware_identifiers(ctx: ObjectContext) -> list[ObjectContext]:
    """The Data objects naming the firmware the meter runs: OBIS a.0.0.2.0.255 (active
    firmware identifier; the module and communication firmware, B > 0, are other images)."""
    return [o for o in ctx.objects() if o.cls.class_id == _DATA and _is_active_firmware(bytes(o.logical_name))]


def _is_active_firmware(name: bytes) -> bool:
    return name[1:] == b"\x00\x00\x02\x00\xff"


def _blocks_status(ctx: ObjectContext) -> Data:
    state = _transfer(ctx)
    bits = "".join("1" if i in state.blocks else "0" for i in range(_blocks_total(state)))
    return Data(DataType.BIT_STRING, BitString(bits))


def _first_not_transferred(ctx: ObjectContext) -> Data:
    return Data(DataType.DOUBLE_LONG_UNSIGNED, _transfer(ctx).first_missing)


def _transfer_status(ctx: ObjectContext) -> Data:
    return Data(DataType.ENUM, _status(ctx))


def _to_activate_info(ctx: ObjectContext) -> Data:
    """The verified image, from verification until the next initiation (empty before)."""
    if _status(ctx) < _S.VERIFICATION_SUCCESSFUL or _status(ctx) == _S.VERIFICATION_FAILED:
        return Data(DataType.ARRAY, ())
    info = Data(DataType.STRUCTURE, (
        Data(DataType.DOUBLE_LONG_UNSIGNED, _transfer(ctx).size),
        Data(DataType.OCTET_STRING, _transfer(ctx).identifier),
        Data(DataType.OCTET_STRING, b""),  # no signature: a simulated image is not signed
    ))
    return Data(DataType.ARRAY, (info,))


def activated_identifier(ctx: ObjectContext) -> bytes | None:
    """Identifier of the last image this meter activated (None: it runs its original firmware)."""
    return _transfer(ctx).activated_identifier


def received_image(ctx: ObjectContext) -> bytes | None:
    """The image of the current transfer once every block arrived, else None."""
    state = _transfer(ctx)
    if not state.blocks or not _complete(state):
        return None
    return b"".join(state.blocks[i] for i in range(_blocks_total(state)))


IMAGE_TRANSFER = interface_class(18, 0, "Image transfer", [
    attribute(2, "image_block_size", DOUBLE_LONG_UNSIGNED,
              default=Data(DataType.DOUBLE_LONG_UNSIGNED, DEFAULT_BLOCK_SIZE)),
    attribute(3, "image_transferred_blocks_status", BIT_STRING, dynamic=True, getter=_blocks_status),
    attribute(4, "image_first_not_transferred_block_number", DOUBLE_LONG_UNSIGNED, dynamic=True,
              getter=_first_not_transferred),
    attribute(5, "image_transfer_enabled", BOOLEAN, default=Data(DataType.BOOLEAN, True)),
    attribute(6, "image_transfer_status", IMAGE_TRANSFER_STATUS, dynamic=True, getter=_transfer_status),
    attribute(7, "image_to_activate_info", Array(IMAGE_TO_ACTIVATE_INFO_ELEMENT), dynamic=True,
              getter=_to_activate_info),
], [
    method(1, "image_transfer_initiate", IMAGE_TRANSFER_INITIATE, impl=_guarded(1, _initiate)),
    method(2, "image_block_transfer", IMAGE_BLOCK_TRANSFER, impl=_guarded(2, _block_transfer)),
    method(3, "image_verify", INTEGER, impl=_guarded(3, _verify)),
    method(4, "image_activate", INTEGER, impl=_guarded(4, _activate)),
], sn_method_offset=0x40)

CLASSES = (IMAGE_TRANSFER,)
