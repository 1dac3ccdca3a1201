"""Communication setup classes: local ports, HDLC, modems, internet, push, diagnostics.

IEC local port setup (19), IEC HDLC setup (23), IEC twisted pair (1) setup (24), Modem
configuration (27), Auto answer (28), Auto connect (29), Push setup (40), TCP-UDP setup (41),
IPv4 setup (42), MAC address setup (43), PPP setup (44), GPRS modem setup (45), SMTP setup (46),
GSM diagnostic (47), IPv6 setup (48), NTP setup (100), Communication port protection (124),
LTE monitoring (151), CoAP setup (152) and CoAP diagnostic (153), as the Blue Book (DLMS UA
1000-1) declares them.

Behaviour is real where a method edits the object's own state: the multicast and IPv6 address
arrays, NTP keys, port-protection reset, diagnostic counter resets. Push setup's push queues a
push in the meter's outbox (simulator/server/push.py builds it, the runtime sends it); the other
methods that would start traffic (connect, NTP synchronize) only leave a marker in the object's
per-meter state.
"""

from __future__ import annotations

from ..apdu.common import ActionResult, DataAccessResult
from ..axdr import Data
from ..state.effects import TrafficRequests
from .base import (
    AccessFailure, ActionFailure, InterfaceClass, MethodImpl, Setter, attribute, interface_class, method,
)
from .context import ObjectContext
from .types import (
    ANY, BOOLEAN, DATE_TIME, DOUBLE_LONG_UNSIGNED, INTEGER, LONG_UNSIGNED, NULL, OBIS, OCTET_STRING,
    UNSIGNED, VISIBLE_STRING, Array, Enum, OctetString, OneOf, Struct, TypeSpec,
)
from .values import (
    BAUD, CAPTURE_OBJECT_DEFINITION, CAPTURE_TIME, WINDOW_ELEMENT, enum, int_of, items, reset_counters,
    store_items, u8, u16, u32,
)

__all__ = [
    "CLASSES", "IEC_LOCAL_PORT_SETUP", "IEC_HDLC_SETUP", "IEC_HDLC_SETUP_V0", "IEC_TWISTED_PAIR_SETUP",
    "MODEM_CONFIGURATION", "AUTO_ANSWER", "AUTO_CONNECT", "AUTO_CONNECT_V1", "PUSH_SETUP",
    "PUSH_SETUP_V0", "PUSH_SETUP_V1", "TCP_UDP_SETUP", "IPV4_SETUP", "MAC_ADDRESS_SETUP", "PPP_SETUP",
    "GPRS_MODEM_SETUP", "SMTP_SETUP", "GSM_DIAGNOSTIC", "GSM_DIAGNOSTIC_V0", "IPV6_SETUP", "NTP_SETUP",
    "COMMUNICATION_PORT_PROTECTION", "LTE_MONITORING", "COAP_SETUP", "COAP_DIAGNOSTIC",
]

def _request_marker(which: str) -> MethodImpl:
    """A "start traffic" method: marks the request with `now` in the TrafficRequests record."""
    def impl(ctx: ObjectContext, parameter: Data | None) -> None:
        setattr(ctx.change(TrafficRequests), which, ctx.now)
        return None
    return impl


def _range_setter(index: int, low: int, high: int) -> Setter:
    """A setter that refuses values outside the range the Blue Book allows."""
    def setter(ctx: ObjectContext, value: Data) -> None:
        if not low <= value.value <= high:
            raise AccessFailure(DataAccessResult.OTHER_REASON, f"attribute {index} must be {low}..{high}")
        ctx.set(index, value)
    return setter


# -- IEC local port setup (19) -------------------------------------------------------------

IEC_LOCAL_PORT_SETUP = interface_class(19, 1, "IEC local port setup", [
    attribute(2, "default_mode", Enum(((0, "iec_62056_21"), (1, "iec_62056_46"), (2, "not_specified")))),
    attribute(3, "default_baud", BAUD),
    attribute(4, "prop_baud", BAUD),
    attribute(5, "response_time", Enum(((0, "ms_20"), (1, "ms_200")))),
    attribute(6, "device_addr", OCTET_STRING),
    attribute(7, "pass_p1", OCTET_STRING),
    attribute(8, "pass_p2", OCTET_STRING),
    attribute(9, "pass_w5", OCTET_STRING),
])


# -- IEC HDLC setup (23) --------------------------------------------------------------------
# Version 1 widened max_info_field_length to long-unsigned (32..2030); version 0 had unsigned
# (32..128). Ranges: window 1..7, inter-octet time-out 20..6000 ms.

def _hdlc(version: int) -> InterfaceClass:
    info_type, info_max = (LONG_UNSIGNED, 2030) if version >= 1 else (UNSIGNED, 128)
    info = u16(128) if version >= 1 else u8(128)
    return interface_class(23, version, "IEC HDLC setup", [
        attribute(2, "comm_speed", BAUD, default=enum(5)),
        attribute(3, "window_size_transmit", UNSIGNED, default=u8(1), setter=_range_setter(3, 1, 7)),
        attribute(4, "window_size_receive", UNSIGNED, default=u8(1), setter=_range_setter(4, 1, 7)),
        attribute(5, "max_info_field_length_transmit", info_type, default=info,
                  setter=_range_setter(5, 32, info_max)),
        attribute(6, "max_info_field_length_receive", info_type, default=info,
                  setter=_range_setter(6, 32, info_max)),
        attribute(7, "inter_octet_time_out", LONG_UNSIGNED, default=u16(25), setter=_range_setter(7, 20, 6000)),
        attribute(8, "inactivity_time_out", LONG_UNSIGNED, default=u16(120)),
        attribute(9, "device_address", LONG_UNSIGNED),
    ])


IEC_HDLC_SETUP_V0 = _hdlc(0)
IEC_HDLC_SETUP = _hdlc(1)


# -- IEC twisted pair (1) setup (24) ----------------------------------------------------------

IEC_TWISTED_PAIR_SETUP = interface_class(24, 1, "IEC twisted pair (1) setup", [
    attribute(2, "mode", Enum(((0, "inactive"), (1, "active")))),
    attribute(3, "comm_speed", BAUD),
    attribute(4, "primary_address_list", Array(UNSIGNED)),
    attribute(5, "tabi_list", Array(INTEGER)),
])


# -- Modem configuration (27), Auto answer (28), Auto connect (29) ----------------------------

MODEM_CONFIGURATION = interface_class(27, 1, "Modem configuration", [
    attribute(2, "comm_speed", BAUD),
    attribute(3, "initialization_string", Array(Struct((
        ("request", OCTET_STRING), ("response", OCTET_STRING), ("delay_after_response", LONG_UNSIGNED))))),
    attribute(4, "modem_profile", Array(OCTET_STRING)),
])

AUTO_ANSWER = interface_class(28, 2, "Auto answer", [
    attribute(2, "mode", Enum(((0, "line_dedicated"), (1, "shared_line_limited_calls"),
                               (2, "shared_line_unlimited_calls"), (3, "no_connection")))),
    attribute(3, "listening_window", Array(WINDOW_ELEMENT)),
    attribute(4, "status", Enum(((0, "inactive"), (1, "active"), (2, "locked"))), dynamic=True),
    attribute(5, "number_of_calls", UNSIGNED),
    attribute(6, "number_of_rings", Struct((("nr_rings_in_window", UNSIGNED), ("nr_rings_out_of_window", UNSIGNED)))),
    attribute(7, "list_of_allowed_callers", Array(Struct((
        ("caller_id", OCTET_STRING), ("call_type", Enum(((0, "normal_csd"), (1, "wake_up")))))))),
])

_AUTO_CONNECT_MODE = Enum(((0, "no_auto_dialling"), (1, "auto_dialling_anytime"),
                           (2, "auto_dialling_in_window"), (3, "regular_in_window_alarm_anytime"),
                           (4, "sms_plmn"), (5, "sms_pstn"), (6, "email"),
                           (101, "permanently_connected"), (102, "connected_in_window"),
                           (103, "connected_in_window_or_on_trigger"), (104, "connect_on_trigger")))


def _connect(ctx: ObjectContext, parameter: Data | None) -> None:
    """connect: refused while auto dialling is off; otherwise marks the request."""
    if int_of(ctx, 2) == 0:
        raise ActionFailure(ActionResult.TEMPORARY_FAILURE, "auto connect mode is no_auto_dialling")
    ctx.change(TrafficRequests).connect = ctx.now
    return None


def _auto_connect(version: int) -> InterfaceClass:
    return interface_class(29, version, "Auto connect", [
        attribute(2, "mode", _AUTO_CONNECT_MODE),
        attribute(3, "repetitions", UNSIGNED),
        attribute(4, "repetition_delay", LONG_UNSIGNED),
        attribute(5, "calling_window", Array(WINDOW_ELEMENT)),
        attribute(6, "destination_list", Array(OCTET_STRING)),
    ], [method(1, "connect", INTEGER, impl=_connect)] if version >= 2 else [])


AUTO_CONNECT_V1 = _auto_connect(1)
AUTO_CONNECT = _auto_connect(2)


# -- Push setup (40) ------------------------------------------------------------------------

_TRANSPORT_SERVICE = Enum(((0, "tcp"), (1, "udp"), (2, "ftp"), (3, "smtp"), (4, "sms"), (5, "hdlc"),
                           (6, "m_bus"), (7, "zigbee"), (8, "dlms_gateway")))
_MESSAGE_TYPE = Enum(((0, "a_xdr_xdlms_apdu"), (1, "xml_xdlms_apdu")))
_RESTRICTION = Struct((("restriction_type", Enum(((0, "none"), (1, "by_date"), (2, "by_entry")))),
                       ("restriction_value", ANY)))
_PROTECTION_PARAMETERS = Struct((
    ("protection_type", Enum(((0, "authentication"), (1, "encryption"), (2, "authenticated_encryption"),
                              (3, "digital_signature")))),
    ("protection_options", Struct((("transaction_id", OCTET_STRING), ("originator_system_title", OCTET_STRING),
                                   ("recipient_system_title", OCTET_STRING), ("other_information", OCTET_STRING),
                                   ("key_info", ANY)))),
))


def _push_object_definition(version: int) -> TypeSpec:
    fields: list[tuple[str, TypeSpec]] = list(CAPTURE_OBJECT_DEFINITION.fields)
    if version >= 1:
        fields.append(("restriction", _RESTRICTION))
    if version >= 2:
        fields.append(("columns", Array(CAPTURE_OBJECT_DEFINITION)))
    return Struct(tuple(fields))


def _push(ctx: ObjectContext, parameter: Data | None) -> None:
    """push: queue this object's push in the meter's outbox; a client's ACTION is trigger
    "action", a script run by the meter itself (a schedule) "script"."""
    ctx.trigger_push("action" if ctx.association is not None else "script")
    return None


def _reset_push(ctx: ObjectContext, parameter: Data | None) -> None:
    """reset (v2): forget this object's pushes queued and waiting to be sent."""
    ctx.reset_push()
    return None


def _push_setup(version: int) -> InterfaceClass:
    attrs = [
        attribute(2, "push_object_list", Array(_push_object_definition(version))),
        attribute(3, "send_destination_and_method", Struct((
            ("transport_service", _TRANSPORT_SERVICE), ("destination", OCTET_STRING), ("message", _MESSAGE_TYPE)))),
        attribute(4, "communication_window", Array(WINDOW_ELEMENT)),
        attribute(5, "randomisation_start_interval", LONG_UNSIGNED),
        attribute(6, "number_of_retries", UNSIGNED),
        attribute(7, "repetition_delay", LONG_UNSIGNED if version < 2 else Struct((
            ("repetition_delay_min", LONG_UNSIGNED), ("repetition_delay_exponent", LONG_UNSIGNED),
            ("repetition_delay_max", LONG_UNSIGNED)))),
    ]
    if version >= 1:
        attrs += [
            attribute(8, "port_reference", OBIS),
            attribute(9, "push_client_SAP", INTEGER),
            attribute(10, "push_protection_parameters", Array(_PROTECTION_PARAMETERS)),
        ]
    if version >= 2:
        attrs += [
            attribute(11, "push_operation_method", Enum(((0, "unconfirmed_retry_on_failure"),
                                                         (1, "unconfirmed_retry_on_missing_confirmation"),
                                                         (2, "confirmed_retry_on_missing_confirmation")))),
            attribute(12, "confirmation_parameters", Struct((("confirmation_start_date", DATE_TIME),
                                                             ("confirmation_interval", DOUBLE_LONG_UNSIGNED)))),
            attribute(13, "last_confirmation_date_time", DATE_TIME, dynamic=True),
        ]
    methods = [method(1, "push", INTEGER, impl=_push)]
    if version >= 2:
        methods.append(method(2, "reset", INTEGER, impl=_reset_push))
    return interface_class(40, version, "Push setup", attrs, methods)


PUSH_SETUP_V0 = _push_setup(0)
PUSH_SETUP_V1 = _push_setup(1)
PUSH_SETUP = _push_setup(2)


# -- TCP-UDP setup (41), IPv4 setup (42), MAC address setup (43) ------------------------------

TCP_UDP_SETUP = interface_class(41, 0, "TCP-UDP setup", [
    attribute(2, "TCP_UDP_port", LONG_UNSIGNED, default=u16(4059)),
    attribute(3, "IP_reference", OBIS),
    attribute(4, "MSS", LONG_UNSIGNED, default=u16(576)),
    attribute(5, "nb_of_sim_conn", UNSIGNED, default=u8(1)),
    attribute(6, "inactivity_time_out", LONG_UNSIGNED, default=u16(180)),
])


def _add_mc_ip_address(ctx: ObjectContext, parameter: Data | None) -> None:
    """add_mc_IP_address: append to multicast_IP_address unless it is already listed."""
    assert parameter is not None
    addresses = items(ctx, 4)
    if parameter not in addresses:
        store_items(ctx, 4, [*addresses, parameter])
    return None


def _delete_mc_ip_address(ctx: ObjectContext, parameter: Data | None) -> None:
    """delete_mc_IP_address: remove it; an address that is not listed is refused."""
    addresses = items(ctx, 4)
    if parameter not in addresses:
        raise ActionFailure(ActionResult.OTHER_REASON, "multicast address not in the list")
    store_items(ctx, 4, [a for a in addresses if a != parameter])
    return None


def _get_nbof_mc_ip_addresses(ctx: ObjectContext, parameter: Data | None) -> Data:
    return u16(len(items(ctx, 4)))


IPV4_SETUP = interface_class(42, 0, "IPv4 setup", [
    attribute(2, "DL_reference", OBIS),
    attribute(3, "IP_address", DOUBLE_LONG_UNSIGNED, dynamic=True),
    attribute(4, "multicast_IP_address", Array(DOUBLE_LONG_UNSIGNED)),
    attribute(5, "IP_options", Array(Struct((("IP_option_type", UNSIGNED), ("IP_option_length", UNSIGNED),
                                             ("IP_option_data", OCTET_STRING))))),
    attribute(6, "subnet_mask", DOUBLE_LONG_UNSIGNED),
    attribute(7, "gateway_IP_address", DOUBLE_LONG_UNSIGNED),
    attribute(8, "use_DHCP_flag", BOOLEAN),
    attribute(9, "primary_DNS_address", DOUBLE_LONG_UNSIGNED),
    attribute(10, "secondary_DNS_address", DOUBLE_LONG_UNSIGNED),
], [
    method(1, "add_mc_IP_address", DOUBLE_LONG_UNSIGNED, impl=_add_mc_ip_address),
    method(2, "delete_mc_IP_address", DOUBLE_LONG_UNSIGNED, impl=_delete_mc_ip_address),
    method(3, "get_nbof_mc_IP_addresses", INTEGER, impl=_get_nbof_mc_ip_addresses),
])

MAC_ADDRESS_SETUP = interface_class(43, 0, "MAC address setup", [
    attribute(2, "MAC_address", OCTET_STRING),
])


# -- PPP setup (44), GPRS modem setup (45), SMTP setup (46) -------------------------------------

PPP_SETUP = interface_class(44, 0, "PPP setup", [
    attribute(2, "PHY_reference", OBIS),
    attribute(3, "LCP_options", Array(Struct((("LCP_option_type", UNSIGNED), ("LCP_option_length", UNSIGNED),
                                              ("LCP_option_data", ANY))))),
    attribute(4, "IPCP_options", Array(Struct((("IPCP_option_type", UNSIGNED), ("IPCP_option_length", UNSIGNED),
                                               ("IPCP_option_data", ANY))))),
    attribute(5, "PPP_authentication", OneOf((Struct((("user_name", OCTET_STRING), ("password", OCTET_STRING))),
                                              NULL))),
])

_QOS_ELEMENT = Struct((("precedence", UNSIGNED), ("delay", UNSIGNED), ("reliability", UNSIGNED),
                       ("peak_throughput", UNSIGNED), ("mean_throughput", UNSIGNED)))

GPRS_MODEM_SETUP = interface_class(45, 0, "GPRS modem setup", [
    attribute(2, "APN", OCTET_STRING),
    attribute(3, "PIN_code", LONG_UNSIGNED),
    attribute(4, "quality_of_service", Struct((("default", _QOS_ELEMENT), ("requested", _QOS_ELEMENT)))),
])

SMTP_SETUP = interface_class(46, 0, "SMTP setup", [
    attribute(2, "SMTP_port", LONG_UNSIGNED, default=u16(25)),
    attribute(3, "user_name", OCTET_STRING),
    attribute(4, "login_password", OCTET_STRING),
    attribute(5, "server_address", OCTET_STRING),
    attribute(6, "sender_address", OCTET_STRING),
])


# -- GSM diagnostic (47) ----------------------------------------------------------------------

def _gsm_diagnostic(version: int) -> InterfaceClass:
    cell_id = DOUBLE_LONG_UNSIGNED if version >= 1 else LONG_UNSIGNED
    cell: list[tuple[str, TypeSpec]] = [("cell_ID", cell_id), ("location_ID", LONG_UNSIGNED),
                                        ("signal_quality", UNSIGNED), ("ber", UNSIGNED)]
    if version >= 1:
        cell += [("mcc", LONG_UNSIGNED), ("mnc", LONG_UNSIGNED), ("channel_number", DOUBLE_LONG_UNSIGNED)]
    return interface_class(47, version, "GSM diagnostic", [
        attribute(2, "operator", VISIBLE_STRING, dynamic=True),
        attribute(3, "status", Enum(((0, "not_registered"), (1, "registered_home"), (2, "searching"),
                                     (3, "registration_denied"), (4, "unknown"), (5, "registered_roaming"))),
                  dynamic=True),
        attribute(4, "cs_attachment", Enum(((0, "inactive"), (1, "incoming_call"), (2, "active"))), dynamic=True),
        attribute(5, "ps_status", Enum(((0, "inactive"), (1, "gprs"), (2, "edge"), (3, "umts"), (4, "hsdpa"),
                                        (5, "lte"), (6, "cdma"))), dynamic=True),
        attribute(6, "cell_info", Struct(tuple(cell)), dynamic=True),
        attribute(7, "adjacent_cells", Array(Struct((("cell_ID", cell_id), ("signal_quality", UNSIGNED)))),
                  dynamic=True),
        attribute(8, "capture_time", DATE_TIME, dynamic=True),
    ])


GSM_DIAGNOSTIC_V0 = _gsm_diagnostic(0)
GSM_DIAGNOSTIC = _gsm_diagnostic(1)


# -- IPv6 setup (48) ---------------------------------------------------------------------------

_IPV6 = OctetString(16)
_IPV6_ARRAYS = {0: 4, 1: 5, 2: 6}  # address_type -> unicast / multicast / gateway attribute


def _ipv6_target(parameter: Data | None) -> tuple[int, Data]:
    assert parameter is not None
    address_type, address = parameter.value
    attr = _IPV6_ARRAYS.get(address_type.value)
    if attr is None:
        raise ActionFailure(ActionResult.OTHER_REASON, f"address_type {address_type.value} is not 0..2")
    return attr, address


def _add_ipv6_address(ctx: ObjectContext, parameter: Data | None) -> None:
    """add_IPv6_address: append to the unicast, multicast or gateway array per address_type."""
    attr, address = _ipv6_target(parameter)
    addresses = items(ctx, attr)
    if address not in addresses:
        store_items(ctx, attr, [*addresses, address])
    return None


def _remove_ipv6_address(ctx: ObjectContext, parameter: Data | None) -> None:
    attr, address = _ipv6_target(parameter)
    addresses = items(ctx, attr)
    if address not in addresses:
        raise ActionFailure(ActionResult.OTHER_REASON, "IPv6 address not in the list")
    store_items(ctx, attr, [a for a in addresses if a != address])
    return None


_IPV6_ADDRESS_PARAMETER = Struct((("address_type", Enum(((0, "unicast"), (1, "multicast"), (2, "gateway")))),
                                  ("address", _IPV6)))

IPV6_SETUP = interface_class(48, 0, "IPv6 setup", [
    attribute(2, "DL_reference", OBIS),
    attribute(3, "address_config_mode", Enum(((0, "auto_configuration"), (1, "dhcpv6"), (2, "manual"),
                                              (3, "neighbour_discovery")))),
    attribute(4, "unicast_IPv6_addresses", Array(_IPV6), dynamic=True),
    attribute(5, "multicast_IPv6_addresses", Array(_IPV6)),
    attribute(6, "gateway_IPv6_addresses", Array(_IPV6)),
    attribute(7, "primary_DNS_address", OCTET_STRING),
    attribute(8, "secondary_DNS_address", OCTET_STRING),
    attribute(9, "traffic_class", UNSIGNED),
    attribute(10, "neighbor_discovery_setup", Array(Struct((("max_retry", UNSIGNED),
                                                            ("retry_wait_time", LONG_UNSIGNED),
                                                            ("send_period", DOUBLE_LONG_UNSIGNED))))),
], [
    method(1, "add_IPv6_address", _IPV6_ADDRESS_PARAMETER, impl=_add_ipv6_address),
    method(2, "remove_IPv6_address", _IPV6_ADDRESS_PARAMETER, impl=_remove_ipv6_address),
])


# -- NTP setup (100) ---------------------------------------------------------------------------

_NTP_KEY = Struct((("key_id", DOUBLE_LONG_UNSIGNED), ("key", OCTET_STRING)))


def _add_ntp_key(ctx: ObjectContext, parameter: Data | None) -> None:
    """add_authentication_key: a new key_id is appended, a known one gets its key replaced."""
    assert parameter is not None
    key_id = parameter.value[0]
    keys = [k for k in items(ctx, 6) if k.value[0] != key_id]
    store_items(ctx, 6, [*keys, parameter])
    return None


def _delete_ntp_key(ctx: ObjectContext, parameter: Data | None) -> None:
    keys = items(ctx, 6)
    kept = [k for k in keys if k.value[0] != parameter]
    if len(kept) == len(keys):
        raise ActionFailure(ActionResult.OTHER_REASON, "no such key_id")
    store_items(ctx, 6, kept)
    return None


NTP_SETUP = interface_class(100, 0, "NTP setup", [
    attribute(2, "activated", BOOLEAN),
    attribute(3, "server_address", OCTET_STRING),
    attribute(4, "server_port", LONG_UNSIGNED, default=u16(123)),
    attribute(5, "authentication_method", Enum(((0, "no_security"), (1, "shared_secrets"), (2, "autokey_iff")))),
    attribute(6, "authentication_keys", Array(_NTP_KEY)),
    attribute(7, "client_key", OCTET_STRING),
], [
    method(1, "synchronize", INTEGER, impl=_request_marker("synchronize")),
    method(2, "add_authentication_key", _NTP_KEY, impl=_add_ntp_key),
    method(3, "delete_authentication_key", DOUBLE_LONG_UNSIGNED, impl=_delete_ntp_key),
])


# -- Communication port protection (124) -------------------------------------------------------

def _reset_port_protection(ctx: ObjectContext, parameter: Data | None) -> None:
    """reset: unlock the port and clear failed_attempts (the cumulative counter stays)."""
    ctx.set(8, enum(0))
    ctx.set(9, u32(0))
    return None


COMMUNICATION_PORT_PROTECTION = interface_class(124, 0, "Communication port protection", [
    attribute(2, "protection_mode", Enum(((0, "locked"), (1, "locked_on_failed_attempts"), (2, "unlocked")))),
    attribute(3, "allowed_failed_attempts", LONG_UNSIGNED),
    attribute(4, "initial_lockout_time", DOUBLE_LONG_UNSIGNED),
    attribute(5, "steepness_factor", UNSIGNED),
    attribute(6, "max_lockout_time", DOUBLE_LONG_UNSIGNED),
    attribute(7, "port_reference", OBIS),
    attribute(8, "protection_status", Enum(((0, "unlocked"), (1, "temporarily_locked"), (2, "locked"))),
              dynamic=True, default=enum(0)),
    attribute(9, "failed_attempts", DOUBLE_LONG_UNSIGNED, dynamic=True, default=u32(0)),
    attribute(10, "cumulative_failed_attempts", DOUBLE_LONG_UNSIGNED, dynamic=True, default=u32(0)),
], [
    method(1, "reset", INTEGER, impl=_reset_port_protection),
])


# -- LTE monitoring (151) ----------------------------------------------------------------------

LTE_MONITORING = interface_class(151, 0, "LTE monitoring", [
    attribute(2, "LTE_network_parameters", Struct((
        ("T3402", LONG_UNSIGNED), ("T3412", LONG_UNSIGNED), ("T3412ext2", DOUBLE_LONG_UNSIGNED),
        ("T3324", LONG_UNSIGNED), ("TeDRX", DOUBLE_LONG_UNSIGNED), ("TPTW", LONG_UNSIGNED),
        ("qRxlevMin", INTEGER), ("qRxlevMinCE", INTEGER), ("qRxLevMinCE1", INTEGER))), dynamic=True),
    attribute(3, "LTE_quality_of_service", Struct((
        ("signal_quality", INTEGER), ("signal_level", INTEGER), ("signal_to_noise_ratio", INTEGER),
        ("coverage_enhancement", Enum(((0, "ce_level_0"), (1, "ce_level_1"), (2, "ce_level_2"),
                                       (3, "ce_level_3")))))), dynamic=True),
])


# -- CoAP setup (152), CoAP diagnostic (153) --------------------------------------------------

COAP_SETUP = interface_class(152, 0, "CoAP setup", [
    attribute(2, "UDP_reference", OBIS),
    attribute(3, "ack_timeout", LONG_UNSIGNED),
    attribute(4, "ack_random_factor", LONG_UNSIGNED),
    attribute(5, "max_retransmit", LONG_UNSIGNED),
    attribute(6, "n_start", LONG_UNSIGNED),
    attribute(7, "delay_ack_timeout", LONG_UNSIGNED),
    attribute(8, "exponential_back_off", LONG_UNSIGNED),
    attribute(9, "probing_rate", LONG_UNSIGNED),
    attribute(10, "CoAP_uri_path", OCTET_STRING),
    attribute(11, "transport_mode", Enum(((0, "reliable"), (1, "unreliable")))),
    attribute(12, "version", ANY),
    attribute(13, "token_length", UNSIGNED),
])

def _counters(*names: str) -> Struct:
    return Struct(tuple((n, DOUBLE_LONG_UNSIGNED) for n in names))


COAP_DIAGNOSTIC = interface_class(153, 0, "CoAP diagnostic", [
    attribute(2, "CoAP_messages_counters", _counters(
        "tx", "rx", "tx_resend", "tx_reset", "rx_reset", "tx_ack", "rx_ack", "rx_drop", "tx_non_piggybacked",
        "max_rtx_exceeded"), dynamic=True),
    attribute(3, "CoAP_request_response_counters", _counters(
        "rx_requests", "tx_requests", "rx_response", "tx_response", "tx_client_error", "rx_client_error",
        "tx_server_error", "rx_server_error"), dynamic=True),
    attribute(4, "CoAP_BT_counters", _counters("bw_started", "bw_completed", "bw_timeout"), dynamic=True),
    attribute(5, "capture_time", CAPTURE_TIME, dynamic=True),
], [
    method(1, "reset", INTEGER, impl=reset_counters(2, 3, 4)),
])


CLASSES = (
    IEC_LOCAL_PORT_SETUP, IEC_HDLC_SETUP_V0, IEC_HDLC_SETUP, IEC_TWISTED_PAIR_SETUP, MODEM_CONFIGURATION,
    AUTO_ANSWER, AUTO_CONNECT_V1, AUTO_CONNECT, PUSH_SETUP_V0, PUSH_SETUP_V1, PUSH_SETUP, TCP_UDP_SETUP,
    IPV4_SETUP, MAC_ADDRESS_SETUP, PPP_SETUP, GPRS_MODEM_SETUP, SMTP_SETUP, GSM_DIAGNOSTIC_V0,
    GSM_DIAGNOSTIC, IPV6_SETUP, NTP_SETUP, COMMUNICATION_PORT_PROTECTION, LTE_MONITORING, COAP_SETUP,
    COAP_DIAGNOSTIC,
)
