"""Power-line and low-power radio network classes: S-FSK, PRIME, G3-PLC (and hybrid RF), ZigBee.

S-FSK Phy&MAC setup (50), S-FSK Active initiator (51), S-FSK MAC synchronization timeouts (52),
S-FSK MAC counters (53), IEC 61334-4-32 LLC setup (55), S-FSK Reporting system list (56),
ISO/IEC 8802-2 LLC Type 1, 2 and 3 setup (57..59), 61334-4-32 LLC SSCS setup (80), the PRIME
NB OFDM PLC classes (81..86), G3-PLC MAC layer counters (90), G3-PLC MAC setup (91), G3-PLC
6LoWPAN adaptation layer setup (92), the G3-PLC hybrid RF classes (160..162) and the ZigBee
classes (101..104).

A simulated meter has no network interface of these kinds, so the classes are tables: their
values come from the model. Methods succeed; the counter classes' reset really zeroes the
counters, the G3 MAC table look-ups answer from the stored tables.

Sources: S-FSK, LLC type 2, PRIME and G3 follow the Blue Book as cross-checked with gurux-dlms.
The tables of 55, 57, 59, 101..104 and 160..162 could not be checked against Blue Book text here
(gurux-dlms implements none of them): they are written from the standards the classes mirror
(ISO/IEC 8802-2 LLC parameters, ZigBee commissioning attributes, the G3-PLC hybrid PIB) and
are provisional.
"""

from __future__ import annotations

from ..apdu.common import ActionResult
from ..axdr import Data
from .base import ActionFailure, InterfaceClass, MethodImpl, attribute, interface_class, method
from .context import ObjectContext
from .types import (
    BIT_STRING, BOOLEAN, DATE_TIME, DOUBLE_LONG_UNSIGNED, INTEGER, LONG, LONG_UNSIGNED, OCTET_STRING,
    UNSIGNED, Array, Enum, Struct, TypeSpec,
)
from .values import BAUD, array, items, reset_counters, store_items

__all__ = ["CLASSES"]


def _succeed(ctx: ObjectContext, parameter: Data | None) -> None:
    """A method whose effect lies outside the simulated meter (a network that is not there)."""
    return None


def _counters(class_id: int, version: int, name: str, counter: TypeSpec, names: tuple[str, ...]) -> InterfaceClass:
    """A class of plain counters (attributes 2..n) with a reset method."""
    return interface_class(class_id, version, name, [
        attribute(i, n, counter, dynamic=True) for i, n in enumerate(names, start=2)
    ], [method(1, "reset", INTEGER, impl=reset_counters(*range(2, 2 + len(names))))])


def _plain(class_id: int, version: int, name: str, fields: tuple[tuple[str, TypeSpec], ...],
           dynamic: frozenset[str] = frozenset()) -> InterfaceClass:
    return interface_class(class_id, version, name, [
        attribute(i, n, t, dynamic=n in dynamic) for i, (n, t) in enumerate(fields, start=2)
    ])


# -- S-FSK (50..56) ------------------------------------------------------------------------

_PHASE = Enum(((0, "not_defined"), (1, "phase_1"), (2, "phase_2"), (3, "phase_3")))

SFSK_PHY_MAC_SETUP = interface_class(50, 1, "S-FSK Phy&MAC setup", [
    attribute(2, "initiator_electrical_phase", _PHASE),
    attribute(3, "delta_electrical_phase", Enum(((0, "not_defined"), (1, "degrees_0"), (2, "degrees_60"),
                                                 (3, "degrees_120"), (4, "degrees_180"), (5, "degrees_minus_120"),
                                                 (6, "degrees_minus_60"))),
              dynamic=True),
    attribute(4, "max_receiving_gain", UNSIGNED),
    attribute(5, "max_transmitting_gain", UNSIGNED),
    attribute(6, "search_initiator_threshold", UNSIGNED),
    attribute(7, "frequencies", Struct((("mark_frequency", DOUBLE_LONG_UNSIGNED),
                                        ("space_frequency", DOUBLE_LONG_UNSIGNED)))),
    attribute(8, "mac_address", LONG_UNSIGNED, dynamic=True),
    attribute(9, "mac_group_addresses", Array(LONG_UNSIGNED)),
    attribute(10, "repeater", Enum(((0, "never_repeater"), (1, "always_repeater"), (2, "dynamic_repeater")))),
    attribute(11, "repeater_status", BOOLEAN, dynamic=True),
    attribute(12, "min_delta_credit", UNSIGNED, dynamic=True),
    attribute(13, "initiator_mac_address", LONG_UNSIGNED, dynamic=True),
    attribute(14, "synchronization_locked", BOOLEAN, dynamic=True),
    attribute(15, "transmission_speed", BAUD),
])

SFSK_ACTIVE_INITIATOR = interface_class(51, 0, "S-FSK Active initiator", [
    attribute(2, "active_initiator", Struct((("system_title", OCTET_STRING), ("mac_address", LONG_UNSIGNED),
                                             ("l_sap_selector", UNSIGNED))), dynamic=True),
], [method(1, "reset_NEW_not_synchronized", INTEGER, impl=_succeed)])

SFSK_MAC_SYNCHRONIZATION_TIMEOUTS = _plain(52, 0, "S-FSK MAC synchronization timeouts", (
    ("search_initiator_timeout", LONG_UNSIGNED), ("synchronization_confirmation_timeout", LONG_UNSIGNED),
    ("time_out_not_addressed", LONG_UNSIGNED), ("time_out_frame_not_OK", LONG_UNSIGNED)))

_ADDRESS_COUNTER = Array(Struct((("mac_address", LONG_UNSIGNED), ("counter", DOUBLE_LONG_UNSIGNED))))

SFSK_MAC_COUNTERS = interface_class(53, 0, "S-FSK MAC counters", [
    attribute(2, "synchronization_register", _ADDRESS_COUNTER, dynamic=True),
    attribute(3, "desynchronization_listing", Struct(tuple((n, DOUBLE_LONG_UNSIGNED) for n in (
        "desynchronization_after_physical_layer_reason", "desynchronization_after_time_out_not_addressed",
        "desynchronization_after_time_out_frame_not_OK", "desynchronization_after_write_request",
        "desynchronization_after_wrong_initiator"))), dynamic=True),
    attribute(4, "broadcast_frames_counter", _ADDRESS_COUNTER, dynamic=True),
    attribute(5, "repetitions_counter", DOUBLE_LONG_UNSIGNED, dynamic=True),
    attribute(6, "transmissions_counter", DOUBLE_LONG_UNSIGNED, dynamic=True),
    attribute(7, "CRC_OK_frames_counter", DOUBLE_LONG_UNSIGNED, dynamic=True),
    attribute(8, "CRC_NOK_frames_counter", DOUBLE_LONG_UNSIGNED, dynamic=True),
], [method(1, "reset", INTEGER, impl=reset_counters(2, 3, 4, 5, 6, 7, 8))])

IEC_61334_4_32_LLC_SETUP = _plain(55, 1, "IEC 61334-4-32 LLC setup", (
    ("max_frame_length", UNSIGNED),
    ("reply_status_list", Array(Struct((("mac_address", LONG_UNSIGNED), ("l_sap_selector", UNSIGNED),
                                        ("reply_status", OCTET_STRING)))))), frozenset({"reply_status_list"}))

SFSK_REPORTING_SYSTEM_LIST = _plain(56, 0, "S-FSK Reporting system list", (
    ("reporting_system_list", Array(OCTET_STRING)),), frozenset({"reporting_system_list"}))


# -- ISO/IEC 8802-2 LLC setup (57..59) ---------------------------------------------------------

LLC_TYPE_1_SETUP = _plain(57, 0, "ISO/IEC 8802-2 LLC Type 1 setup", (("max_octets_ui_pdu", LONG_UNSIGNED),))

LLC_TYPE_2_SETUP = _plain(58, 0, "ISO/IEC 8802-2 LLC Type 2 setup", (
    ("transmit_window_size_k", UNSIGNED), ("transmit_window_size_RW", UNSIGNED),
    ("max_octets_i_pdu_N1", LONG_UNSIGNED), ("max_number_transmissions_N2", UNSIGNED),
    ("acknowledgement_timer", LONG_UNSIGNED), ("bit_timer", LONG_UNSIGNED), ("reject_timer", LONG_UNSIGNED),
    ("busy_state_timer", LONG_UNSIGNED)))

LLC_TYPE_3_SETUP = _plain(59, 0, "ISO/IEC 8802-2 LLC Type 3 setup", (
    ("max_octets_ACn_pdu_N3", LONG_UNSIGNED), ("max_transmissions_N4", UNSIGNED),
    ("acknowledgement_time_T1", LONG_UNSIGNED), ("receive_lifetime_var_T2", LONG_UNSIGNED),
    ("transmit_lifetime_var_T3", LONG_UNSIGNED)))


# -- PRIME NB OFDM PLC (80..86) ------------------------------------------------------------

LLC_SSCS_SETUP = interface_class(80, 0, "61334-4-32 LLC SSCS setup", [
    attribute(2, "service_node_address", LONG_UNSIGNED, dynamic=True),
    attribute(3, "base_node_address", LONG_UNSIGNED, dynamic=True),
], [method(1, "reset", INTEGER, impl=_succeed)])

PRIME_PHY_COUNTERS = _counters(81, 0, "PRIME NB OFDM PLC Physical layer counters", LONG_UNSIGNED, (
    "phy_stats_crc_incorrect_count", "phy_stats_crc_fail_count", "phy_stats_tx_drop_count",
    "phy_stats_rx_drop_count"))

PRIME_MAC_SETUP = _plain(82, 0, "PRIME NB OFDM PLC MAC setup", tuple((n, UNSIGNED) for n in (
    "mac_min_switch_search_time", "mac_max_promotion_pdu", "mac_promotion_pdu_tx_period",
    "mac_beacons_per_frame", "mac_scp_max_tx_attempts", "mac_ctl_re_tx_timer", "mac_max_ctl_re_tx")))

PRIME_MAC_FUNCTIONAL_PARAMETERS = _plain(83, 0, "PRIME NB OFDM PLC MAC functional parameters", (
    ("mac_LNID", LONG), ("mac_LSID", UNSIGNED), ("mac_SID", UNSIGNED), ("mac_SNA", OCTET_STRING),
    ("mac_state", Enum(((0, "disconnected"), (1, "terminal"), (2, "switch"), (3, "base")))),
    ("mac_SCP_length", LONG), ("mac_node_hierarchy_level", UNSIGNED), ("mac_beacon_slot_count", UNSIGNED),
    ("mac_beacon_rx_slot", UNSIGNED), ("mac_beacon_tx_slot", UNSIGNED), ("mac_beacon_rx_frequency", UNSIGNED),
    ("mac_beacon_tx_frequency", UNSIGNED), ("mac_capabilities", LONG_UNSIGNED),
), frozenset({"mac_LNID", "mac_LSID", "mac_SID", "mac_SNA", "mac_state", "mac_SCP_length", "mac_node_hierarchy_level",
              "mac_beacon_slot_count", "mac_beacon_rx_slot", "mac_beacon_tx_slot", "mac_beacon_rx_frequency",
              "mac_beacon_tx_frequency"}))

PRIME_MAC_COUNTERS = _counters(84, 0, "PRIME NB OFDM PLC MAC counters", DOUBLE_LONG_UNSIGNED, (
    "mac_tx_data_pkt_count", "mac_rx_data_pkt_count", "mac_tx_ctrl_pkt_count", "mac_rx_ctrl_pkt_count",
    "mac_csma_fail_count", "mac_csma_ch_busy_count"))

PRIME_MAC_NETWORK_ADMINISTRATION_DATA = interface_class(85, 0, "PRIME NB OFDM PLC MAC network administration data", [
    attribute(2, "mac_list_multicast_entries", Array(Struct((("lcid", INTEGER), ("members", LONG)))), dynamic=True),
    attribute(3, "mac_list_switch_table", Array(LONG), dynamic=True),
    attribute(4, "mac_list_direct_table", Array(Struct((
        ("source_sid", LONG), ("source_lnid", LONG), ("source_lcid", LONG), ("destination_sid", LONG),
        ("destination_lnid", LONG), ("destination_lcid", LONG), ("did", OCTET_STRING)))), dynamic=True),
    attribute(5, "mac_list_available_switches", Array(Struct((
        ("sna", OCTET_STRING), ("ls_id", LONG), ("level", INTEGER), ("rx_level", INTEGER), ("rx_snr", INTEGER)))),
        dynamic=True),
    attribute(6, "mac_list_phy_comm", Array(Struct((
        ("eui", OCTET_STRING), ("tx_power", INTEGER), ("tx_coding", INTEGER), ("rx_coding", INTEGER),
        ("rx_lvl", INTEGER), ("snr", INTEGER), ("tx_power_modified", INTEGER), ("tx_coding_modified", INTEGER),
        ("rx_coding_modified", INTEGER)))), dynamic=True),
], [method(1, "reset", INTEGER, impl=reset_counters(2, 3, 4, 5, 6))])

PRIME_APPLICATIONS_IDENTIFICATION = _plain(86, 0, "PRIME NB OFDM PLC Applications identification", (
    ("firmware_version", OCTET_STRING), ("vendor_id", LONG_UNSIGNED), ("product_id", LONG_UNSIGNED)))


# -- G3-PLC (90..92) ---------------------------------------------------------------------------

_G3_COUNTERS = ("mac_Tx_data_packet_count", "mac_Rx_data_packet_count", "mac_Tx_cmd_packet_count",
                "mac_Rx_cmd_packet_count", "mac_CSMA_fail_count", "mac_CSMA_no_ACK_count", "mac_bad_CRC_count",
                "mac_Tx_data_broadcast_count", "mac_Rx_data_broadcast_count")

G3_MAC_LAYER_COUNTERS = _counters(90, 0, "G3-PLC MAC layer counters", DOUBLE_LONG_UNSIGNED, _G3_COUNTERS)

_NEIGHBOUR = Struct((
    ("short_address", LONG_UNSIGNED), ("payload_modulation_scheme", BOOLEAN), ("tone_map", BIT_STRING),
    ("modulation", Enum(((0, "robust"), (1, "dbpsk"), (2, "dqpsk"), (3, "d8psk"), (4, "qam16")))),
    ("tx_gain", INTEGER), ("tx_res", Enum(((0, "db6"), (1, "db3")))), ("tx_coeff", BIT_STRING), ("lqi", UNSIGNED),
    ("phase_differential", INTEGER), ("TMR_valid_time", UNSIGNED), ("neighbour_valid_time", UNSIGNED)))
_POS_ENTRY = Struct((("short_address", LONG_UNSIGNED), ("LQI", UNSIGNED), ("valid_time", UNSIGNED)))


def _entry_lookup(table: int) -> MethodImpl:
    """mac_get_*_entry: the entries of `table` whose short_address is the parameter."""
    def impl(ctx: ObjectContext, parameter: Data | None) -> Data:
        return array([e for e in items(ctx, table) if e.value and e.value[0] == parameter])
    return impl


G3_MAC_SETUP = interface_class(91, 3, "G3-PLC MAC setup", [
    attribute(2, "mac_short_address", LONG_UNSIGNED, dynamic=True),
    attribute(3, "mac_RC_coord", LONG_UNSIGNED, dynamic=True),
    attribute(4, "mac_PAN_id", LONG_UNSIGNED, dynamic=True),
    attribute(5, "mac_key_table", Array(Struct((("mac_key_id", UNSIGNED), ("mac_key", OCTET_STRING))))),
    attribute(6, "mac_frame_counter", DOUBLE_LONG_UNSIGNED, dynamic=True),
    attribute(7, "mac_tone_mask", BIT_STRING),
    attribute(8, "mac_TMR_TTL", UNSIGNED),
    attribute(9, "mac_max_frame_retries", UNSIGNED),
    attribute(10, "mac_neighbour_table_entry_TTL", UNSIGNED),
    attribute(11, "mac_neighbour_table", Array(_NEIGHBOUR), dynamic=True),
    attribute(12, "mac_high_priority_window_size", UNSIGNED),
    attribute(13, "mac_CSMA_fairness_limit", UNSIGNED),
    attribute(14, "mac_beacon_randomization_window_length", UNSIGNED),
    attribute(15, "mac_A", UNSIGNED),
    attribute(16, "mac_K", UNSIGNED),
    attribute(17, "mac_min_CW_attempts", UNSIGNED),
    attribute(18, "mac_cenelec_legacy_mode", UNSIGNED),
    attribute(19, "mac_FCC_legacy_mode", UNSIGNED),
    attribute(20, "mac_max_BE", UNSIGNED),
    attribute(21, "mac_max_CSMA_backoffs", UNSIGNED),
    attribute(22, "mac_min_BE", UNSIGNED),
    attribute(23, "mac_broadcast_max_CW_enabled", BOOLEAN),
    attribute(24, "mac_transmit_atten", UNSIGNED),
    attribute(25, "mac_POS_table", Array(_POS_ENTRY), dynamic=True),
    attribute(26, "mac_duplicate_detection_TTL", UNSIGNED),
], [
    method(1, "mac_get_neighbour_table_entry", LONG_UNSIGNED, impl=_entry_lookup(11)),
    method(2, "mac_get_POS_table_entry", LONG_UNSIGNED, impl=_entry_lookup(25)),
])

_ADP_ATTRIBUTES: tuple[tuple[str, TypeSpec], ...] = (
    ("adp_max_hops", UNSIGNED),
    ("adp_weak_LQI_value", UNSIGNED),
    ("adp_security_level", UNSIGNED),
    ("adp_prefix_table", Array(OCTET_STRING)),
    ("adp_routing_configuration", Array(Struct((
        ("adp_net_traversal_time", UNSIGNED), ("adp_routing_table_entry_TTL", LONG_UNSIGNED), ("adp_Kr", UNSIGNED),
        ("adp_Km", UNSIGNED), ("adp_Kc", UNSIGNED), ("adp_Kq", UNSIGNED), ("adp_Kh", UNSIGNED), ("adp_Krt", UNSIGNED),
        ("adp_RREQ_retries", UNSIGNED), ("adp_RREQ_RERR_wait", UNSIGNED),
        ("adp_Blacklist_table_entry_TTL", LONG_UNSIGNED), ("adp_unicast_RREQ_gen_enable", BOOLEAN),
        ("adp_RLC_enabled", BOOLEAN), ("adp_add_rev_link_cost", UNSIGNED))))),
    ("adp_broadcast_log_table_entry_TTL", LONG_UNSIGNED),
    ("adp_routing_table", Array(Struct((
        ("destination_address", LONG_UNSIGNED), ("next_hop_address", LONG_UNSIGNED), ("route_cost", LONG_UNSIGNED),
        ("hop_count", UNSIGNED), ("weak_link_count", UNSIGNED), ("valid_time", LONG_UNSIGNED))))),
    ("adp_context_information_table", Array(Struct((
        ("CID", BIT_STRING), ("context_length", UNSIGNED), ("context", OCTET_STRING), ("C", BOOLEAN),
        ("valid_lifetime", LONG_UNSIGNED))))),
    ("adp_blacklist_table", Array(Struct((("neighbour_address", LONG_UNSIGNED), ("valid_time", LONG_UNSIGNED))))),
    ("adp_broadcast_log_table", Array(Struct((("source_address", LONG_UNSIGNED), ("sequence_number", UNSIGNED),
                                              ("valid_time", LONG_UNSIGNED))))),
    ("adp_group_table", Array(LONG_UNSIGNED)),
    ("adp_max_join_wait_time", LONG_UNSIGNED),
    ("adp_path_discovery_time", UNSIGNED),
    ("adp_active_key_index", UNSIGNED),
    ("adp_metric_type", UNSIGNED),
    ("adp_coord_short_address", LONG_UNSIGNED),
    ("adp_disable_default_routing", BOOLEAN),
    ("adp_device_type", Enum(((0, "device"), (1, "pan_coordinator"), (2, "not_defined")))),
    ("adp_default_coord_route_enabled", BOOLEAN),
    ("adp_destination_address_set", Array(LONG_UNSIGNED)),
    ("adp_low_LQI_value", UNSIGNED),
    ("adp_high_LQI_value", UNSIGNED),
)
_ADP_DYNAMIC = frozenset({"adp_routing_table", "adp_context_information_table", "adp_blacklist_table",
                          "adp_broadcast_log_table", "adp_group_table", "adp_coord_short_address"})

G3_6LOWPAN = _plain(92, 3, "G3-PLC 6LoWPAN adaptation layer setup", _ADP_ATTRIBUTES, _ADP_DYNAMIC)


# -- G3-PLC hybrid RF (160..162): provisional, see the module docstring ------------------------

G3_HYBRID_RF_MAC_LAYER_COUNTERS = _counters(160, 0, "G3-PLC Hybrid RF MAC layer counters", DOUBLE_LONG_UNSIGNED,
                                            tuple(f"{n}_RF" for n in _G3_COUNTERS))

G3_HYBRID_RF_MAC_SETUP = interface_class(161, 0, "G3-PLC Hybrid RF MAC setup", [
    attribute(2, "mac_DSN_RF", UNSIGNED, dynamic=True),
    attribute(3, "mac_max_BE_RF", UNSIGNED),
    attribute(4, "mac_max_CSMA_backoffs_RF", UNSIGNED),
    attribute(5, "mac_max_frame_retries_RF", UNSIGNED),
    attribute(6, "mac_min_BE_RF", UNSIGNED),
    attribute(7, "mac_timestamp_support_RF", BOOLEAN),
    attribute(8, "mac_frame_counter_RF", DOUBLE_LONG_UNSIGNED, dynamic=True),
    attribute(9, "mac_duplicate_detection_TTL_RF", UNSIGNED),
    attribute(10, "mac_POS_table_RF", Array(_POS_ENTRY), dynamic=True),
    attribute(11, "mac_operating_mode_RF", UNSIGNED),
    attribute(12, "mac_channel_number_RF", LONG_UNSIGNED),
    attribute(13, "mac_duty_cycle_usage_RF", UNSIGNED, dynamic=True),
    attribute(14, "mac_duty_cycle_period_RF", LONG_UNSIGNED),
    attribute(15, "mac_duty_cycle_limit_RF", LONG_UNSIGNED),
    attribute(16, "mac_duty_cycle_threshold_RF", UNSIGNED),
    attribute(17, "mac_disable_PHY_RF", BOOLEAN),
    attribute(18, "mac_frequency_band_RF", UNSIGNED),
    attribute(19, "mac_transmit_atten_RF", LONG_UNSIGNED),
], [method(1, "mac_get_POS_table_entry_RF", LONG_UNSIGNED, impl=_entry_lookup(10))])

G3_HYBRID_6LOWPAN = _plain(162, 0, "G3-PLC Hybrid 6LoWPAN adaptation layer setup", _ADP_ATTRIBUTES, _ADP_DYNAMIC)


# -- ZigBee (101..104): provisional, see the module docstring ---------------------------------

ZIGBEE_SAS_STARTUP = _plain(101, 0, "ZigBee SAS startup", (
    ("short_address", LONG_UNSIGNED), ("extended_PAN_ID", OCTET_STRING), ("PAN_ID", LONG_UNSIGNED),
    ("channel_mask", DOUBLE_LONG_UNSIGNED), ("protocol_version", UNSIGNED),
    ("stack_profile", Enum(((1, "zigbee"), (2, "zigbee_pro")))),
    ("start_up_control", Enum(((0, "part_of_network"), (1, "form_network"), (2, "rejoin"), (3, "join")))),
    ("trust_center_address", OCTET_STRING), ("link_key", OCTET_STRING), ("network_key", OCTET_STRING),
    ("use_insecure_join", BOOLEAN)))

ZIGBEE_SAS_JOIN = _plain(102, 0, "ZigBee SAS join", (
    ("scan_attempts", UNSIGNED), ("time_between_scans", LONG_UNSIGNED), ("rejoin_interval", LONG_UNSIGNED),
    ("rejoin_retry_interval", LONG_UNSIGNED)))

ZIGBEE_SAS_APS_FRAGMENTATION = _plain(103, 0, "ZigBee SAS APS fragmentation", (
    ("APS_interframe_delay", LONG_UNSIGNED), ("APS_max_window_size", UNSIGNED)))

_ACTIVE_DEVICE = Struct((
    ("mac_address", OCTET_STRING), ("status", BIT_STRING), ("max_RSSI", INTEGER), ("average_RSSI", INTEGER),
    ("min_RSSI", INTEGER), ("max_LQI", UNSIGNED), ("average_LQI", UNSIGNED), ("min_LQI", UNSIGNED),
    ("last_communication_date_time", DATE_TIME), ("number_of_hops", UNSIGNED), ("transmission_failures", UNSIGNED),
    ("transmission_successes", UNSIGNED), ("application_version", UNSIGNED), ("stack_version", UNSIGNED)))


def _unregister_device(ctx: ObjectContext, parameter: Data | None) -> None:
    """unregister_device: drop the active device with this MAC address."""
    devices = items(ctx, 4)
    kept = [d for d in devices if not d.value or d.value[0] != parameter]
    if len(kept) == len(devices):
        raise ActionFailure(ActionResult.OTHER_REASON, "no active device with that MAC address")
    store_items(ctx, 4, kept)
    return None


def _unregister_all_devices(ctx: ObjectContext, parameter: Data | None) -> None:
    store_items(ctx, 4, [])
    return None


ZIGBEE_NETWORK_CONTROL = interface_class(104, 0, "ZigBee network control", [
    attribute(2, "enable_disable_joining", BOOLEAN),
    attribute(3, "join_timeout", LONG_UNSIGNED),
    attribute(4, "active_devices", Array(_ACTIVE_DEVICE), dynamic=True),
], [
    method(1, "register_device", OCTET_STRING, impl=_succeed),
    method(2, "unregister_device", OCTET_STRING, impl=_unregister_device),
    method(3, "unregister_all_devices", INTEGER, impl=_unregister_all_devices),
    method(4, "backup_PAN", INTEGER, impl=_succeed),
    method(5, "restore_PAN", INTEGER, impl=_succeed),
    method(6, "identify_device", OCTET_STRING, impl=_succeed),
    method(7, "remove_mirror", OCTET_STRING, impl=_succeed),
    method(8, "update_network_key", INTEGER, impl=_succeed),
    method(9, "update_link_key", OCTET_STRING, impl=_succeed),
    method(10, "create_PAN", INTEGER, impl=_succeed),
    method(11, "remove_PAN", INTEGER, impl=_succeed),
])


CLASSES = (
    SFSK_PHY_MAC_SETUP, SFSK_ACTIVE_INITIATOR, SFSK_MAC_SYNCHRONIZATION_TIMEOUTS, SFSK_MAC_COUNTERS,
    IEC_61334_4_32_LLC_SETUP, SFSK_REPORTING_SYSTEM_LIST, LLC_TYPE_1_SETUP, LLC_TYPE_2_SETUP, LLC_TYPE_3_SETUP,
    LLC_SSCS_SETUP, PRIME_PHY_COUNTERS, PRIME_MAC_SETUP,
    PRIME_MAC_FUNCTIONAL_PARAMETERS, PRIME_MAC_COUNTERS, PRIME_MAC_NETWORK_ADMINISTRATION_DATA,
    PRIME_APPLICATIONS_IDENTIFICATION, G3_MAC_LAYER_COUNTERS, G3_MAC_SETUP, G3_6LOWPAN,
    G3_HYBRID_RF_MAC_LAYER_COUNTERS, G3_HYBRID_RF_MAC_SETUP, G3_HYBRID_6LOWPAN, ZIGBEE_SAS_STARTUP,
    ZIGBEE_SAS_JOIN, ZIGBEE_SAS_APS_FRAGMENTATION, ZIGBEE_NETWORK_CONTROL,
)
