"""Security setup (64, versions 0 and 1): the security policy, suite, system titles and keys.

The keys themselves are no attribute: they live in the meter's state, one `SecurityState` per
Security setup object (simulator/state/security.py, `ctx.security()`), filled from the model's
templates at first use, and the association sessions read them from there.

- security_activate sets security_policy; it may only keep or add protection (Blue Book), and
  refuses digital-signature bits, since general-signing (suites 1/2) is not built.
- key_transfer (global_key_transfer in version 0) unwraps each key with AES key wrap under the
  master key and stages it: the keys take effect once the response to this request has been
  protected with the old ones, as real meters do. All keys or none: one bad entry refuses all.
- key_agreement, generate_key_pair, generate_certificate_request, import_certificate,
  export_certificate and remove_certificate belong to security suites 1 and 2 (ECDH, ECDSA and
  certificates), which this simulator does not implement yet: they are refused (other-reason).
"""

from __future__ import annotations

from ..apdu.common import ActionResult
from ..axdr import Data, DataType
from ..security.errors import SecurityError, SecurityParameterError
from ..security.keywrap import KeyId, unwrap_key
from ..security.policy import strengthens, valid_policy
from .base import ActionFailure, InterfaceClass, MethodImpl, attribute, interface_class, method
from .context import ObjectContext
from .types import OCTET_STRING, AnyType, Array, Enum, Struct

__all__ = ["CLASSES", "SECURITY_SETUP"]

SECURITY_POLICY_V0 = Enum(((0, "nothing"), (1, "all_messages_authenticated"), (2, "all_messages_encrypted"),
                           (3, "all_messages_authenticated_and_encrypted")), open=False)
# Version 1: a bit map in an enum; bit 2 authenticated request, 3 encrypted request, 4 digitally
# signed request, 5 authenticated response, 6 encrypted response, 7 digitally signed response.
SECURITY_POLICY_V1 = Enum(((0, "nothing"), (0x04, "authenticated_request"), (0x08, "encrypted_request"),
                           (0x10, "digitally_signed_request"), (0x20, "authenticated_response"),
                           (0x40, "encrypted_response"), (0x80, "digitally_signed_response")))
SECURITY_SUITE = Enum(((0, "aes_gcm_128"), (1, "ecdh_ecdsa_aes_gcm_128_sha256"),
                       (2, "ecdh_ecdsa_aes_gcm_256_sha384")))
KEY_ID = Enum(((0, "global_unicast_encryption_key"), (1, "global_broadcast_encryption_key"),
               (2, "authentication_key"), (3, "master_key")))
KEY_DATA = Array(Struct((("key_id", KEY_ID), ("key_wrapped", OCTET_STRING))))
KEY_AGREEMENT_DATA = Array(Struct((("key_id", KEY_ID), ("key_ciphered_data", OCTET_STRING))))
CERTIFICATE_INFO = Struct((
    ("certificate_entity", Enum(((0, "server"), (1, "client"), (2, "certification_authority"), (3, "other")))),
    ("certificate_type", Enum(((0, "digital_signature"), (1, "key_agreement"), (2, "tls"), (3, "other")))),
    ("serial_number", OCTET_STRING), ("issuer", OCTET_STRING), ("subject", OCTET_STRING),
    ("subject_alt_name", OCTET_STRING)))
KEY_PAIR = Enum(((0, "digital_signature"), (1, "key_agreement"), (2, "tls")))
CERTIFICATE_IDENTIFICATION = Struct((
    ("certificate_identification_type", Enum(((0, "by_entity"), (1, "by_serial")))),
    ("certificate_identification_options", AnyType())))

_SIGNING = 0x10 | 0x80  # digitally signed request / response


def _security_activate(ctx: ObjectContext, parameter: Data | None) -> None:
    if parameter is None:
        raise ActionFailure(ActionResult.TYPE_UNMATCHED, "security_activate needs the new policy")
    new = parameter.value
    if not valid_policy(new, ctx.cls.version) or (ctx.cls.version >= 1 and new & _SIGNING):
        raise ActionFailure(ActionResult.OTHER_REASON, f"security policy {new} is not supported")
    current = ctx.get(2).value
    if not strengthens(new, current):
        raise ActionFailure(ActionResult.OTHER_REASON, "the security policy can only be strengthened")
    ctx.set(2, Data(DataType.ENUM, new))


def _key_transfer(ctx: ObjectContext, parameter: Data | None) -> None:
    if parameter is None:
        raise ActionFailure(ActionResult.TYPE_UNMATCHED, "key_transfer needs key data")
    try:
        material = ctx.security()
    except SecurityParameterError:  # the profile did not fill this meter's key templates
        raise ActionFailure(ActionResult.OTHER_REASON, "this meter's keys are not configured") from None
    kek = material.key(KeyId.MASTER_KEY)
    if kek is None:
        raise ActionFailure(ActionResult.OTHER_REASON, "no master key to unwrap with")
    allowed = set(KeyId) if ctx.cls.version >= 1 else set(KeyId) - {KeyId.MASTER_KEY}
    keys: list[tuple[KeyId, bytes]] = []
    for item in parameter.value:
        key_id, wrapped = item.value[0].value, bytes(item.value[1].value)
        if key_id not in allowed:
            raise ActionFailure(ActionResult.OTHER_REASON, f"key_id {key_id} cannot be transferred")
        try:
            keys.append((KeyId(key_id), unwrap_key(kek, wrapped)))
        except SecurityError:
            raise ActionFailure(ActionResult.OTHER_REASON, f"wrapped key {key_id} does not unwrap") from None
    for key_id, key in keys:
        material.stage(key_id, key)


def _not_built(name: str) -> MethodImpl:
    def refuse(ctx: ObjectContext, parameter: Data | None) -> None:
        raise ActionFailure(ActionResult.OTHER_REASON, f"{name}: security suites 1 and 2 are not implemented")
    return refuse


def _security_setup(version: int) -> InterfaceClass:
    attrs = [
        attribute(2, "security_policy", SECURITY_POLICY_V0 if version == 0 else SECURITY_POLICY_V1,
                  default=Data(DataType.ENUM, 0)),
        attribute(3, "security_suite", SECURITY_SUITE, default=Data(DataType.ENUM, 0)),
        attribute(4, "client_system_title", OCTET_STRING, default=Data(DataType.OCTET_STRING, b"")),
        attribute(5, "server_system_title", OCTET_STRING, default=Data(DataType.OCTET_STRING, b"")),
    ]
    if version == 0:
        return interface_class(64, 0, "Security setup", attrs, [
            method(1, "security_activate", SECURITY_POLICY_V0, impl=_security_activate),
            method(2, "global_key_transfer", KEY_DATA, impl=_key_transfer),
        ], sn_method_offset=0x28)
    attrs.append(attribute(6, "certificates", Array(CERTIFICATE_INFO), default=Data(DataType.ARRAY, ())))
    return interface_class(64, 1, "Security setup", attrs, [
        method(1, "security_activate", SECURITY_POLICY_V1, impl=_security_activate),
        method(2, "key_transfer", KEY_DATA, impl=_key_transfer),
        method(3, "key_agreement", KEY_AGREEMENT_DATA, impl=_not_built("key_agreement")),
        method(4, "generate_key_pair", KEY_PAIR, impl=_not_built("generate_key_pair")),
        method(5, "generate_certificate_request", KEY_PAIR, impl=_not_built("generate_certificate_request")),
        method(6, "import_certificate", OCTET_STRING, impl=_not_built("import_certificate")),
        method(7, "export_certificate", CERTIFICATE_IDENTIFICATION, impl=_not_built("export_certificate")),
        method(8, "remove_certificate", CERTIFICATE_IDENTIFICATION, impl=_not_built("remove_certificate")),
    ], sn_method_offset=0x30)


SECURITY_SETUP_V0 = _security_setup(0)
SECURITY_SETUP = _security_setup(1)

CLASSES = (SECURITY_SETUP_V0, SECURITY_SETUP)
