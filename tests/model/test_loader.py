"""The model loader: what a valid model becomes, and how every kind of mistake is reported.

Each error test writes a small model, and checks the message names the file, the line, the
object (OBIS and class) and the attribute, and says what was expected and what was found.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from simulator.apdu.acse import ApplicationContextName, MechanismName
from simulator.apdu.initiate import Conformance
from simulator.axdr import Data, DataType, Obis
from simulator.cosem.base import AttributeAccess, MethodAccess
from simulator.model.errors import ModelError, Problem
from simulator.model.loader import load_model, parse_model, validate_paths
from simulator.model.spec import SecurityPolicy, Template

HEADER = """\
name: test
description: a test meter
manufacturer: SIM
fields:
  lls_password: "12345678"
  ek: 000102030405060708090A0B0C0D0E0F
  ak: D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF
logical_devices:
  - server_sap: 1
    name: "SIM{serial}"
    associations:
      - {client_sap: 16, name: public}
    objects:
"""
CLOCK = """\
      - class: Clock
        obis: 0.0.1.0.0.255
        attributes:
          time_zone: -60
          daylight_savings_begin: "Sun *-03-254T02:00:00"
          daylight_savings_end: "Sun *-10-254T03:00:00"
          daylight_savings_deviation: 60
          daylight_savings_enabled: true
          clock_base: internal_crystal
"""
REGISTER = """\
      - class: Register
        obis: 1.0.1.8.0.255
        name: Active energy import
        attributes: {value: 0, scaler_unit: [0, Wh]}
"""


def model_text(objects: str, header: str = HEADER) -> str:
    return header + textwrap.indent(textwrap.dedent(objects), " " * 6)


def problems(text: str, name: str = "m.yaml") -> list[str]:
    with pytest.raises(ModelError) as exc:
        parse_model(text, name)
    return exc.value.lines()


def one_problem(text: str) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# ------------------------------------------------------------------ a valid model

def test_valid_model_becomes_the_shared_spec() -> None:
    text = HEADER + CLOCK + REGISTER + """\
      - class: data
        obis: 0.0.42.0.0.255
      - {class: 1, obis: 0.0.96.1.0.255, attributes: {2: "{serial}"}}
"""
    model = parse_model(text, "m.yaml")
    assert (model.name, model.description, model.manufacturer, model.file) == ("test", "a test meter", "SIM", "m.yaml")
    device = model.logical_devices[1]
    assert [str(o.logical_name) for o in device.objects] == [
        "0.0.1.0.0.255", "1.0.1.8.0.255", "0.0.42.0.0.255", "0.0.96.1.0.255"]
    clock, register, ldn, serial = device.objects
    assert clock.cls.name == "Clock" and clock.values[2] == Data(DataType.LONG, -60)
    assert clock.encoded[2] == bytes.fromhex("10FFC4")  # static: pre-encoded
    assert clock.encoded[1] is None  # time: dynamic, the getter answers
    assert register.values[1] == Data(DataType.DOUBLE_LONG_UNSIGNED, 0)
    assert register.encoded[1] == bytes.fromhex("0600000000")  # dynamic but no getter: pre-encoded too
    assert register.encoded[2] == bytes.fromhex("02020F00161E")
    assert register.label == "Active energy import"
    assert register.location is not None and register.location.line == line_of(text, "class: Register")
    assert ldn.templates == ((2, device.name),) and device.name == Template("SIM{serial}", "octet-string")
    assert serial.templates == ((2, Template("{serial}")),) and serial.values[1] is None
    assert device.find(bytes(Obis("1-0:1.8.0"))) is register


def test_default_name_and_manufacturer(tmp_path: Path) -> None:
    text = "logical_devices:\n  - associations: [{client_sap: 16}]\n    objects: []\n"
    path = tmp_path / "plain.yaml"
    path.write_text(text)
    model = load_model(path)
    assert (model.name, model.manufacturer) == ("plain", "SIM")
    assert model.logical_devices[1].name.render({"serial": "7"}) == Data(DataType.OCTET_STRING, b"SIM7")


def test_associations_rights_and_overrides() -> None:
    header = HEADER.replace("      - {client_sap: 16, name: public}\n", """\
      - {client_sap: 16, name: public, objects: [0.0.1.0.0.255]}
      - {client_sap: 2, name: reader, authentication: lls, secret: "{lls_password}", max_receive_pdu_size: 512}
      - client_sap: 1
        name: management
        context: ln-ciphered
        authentication: hls-gmac
        security_policy: authenticated-encrypted
        conformance: [get, set, action, block-transfer-with-get-or-read]
      - {client_sap: 3, name: custom, role: {attributes: read-write, methods: access}, exclude: [1.0.1.8.0.255]}
""")
    text = header + CLOCK + REGISTER + """\
        access:
          public: reader
          2: {attributes: {value: read-write, 3: none}, methods: {reset: access}}
      - {class: Association LN, obis: 0.0.40.0.0.255}
      - class: Security setup
        obis: 0.0.43.0.1.255
        attributes: {server_system_title: "hex:{system_title}"}
        keys: {global_unicast_encryption_key: "{ek}", authentication_key: "{ak}"}
"""
    device = parse_model(text, "m.yaml").logical_devices[1]
    public, reader, management, custom = (device.associations[s] for s in (16, 2, 1, 3))
    clock, register, current, setup = range(4)
    # public: its objects list, plus the override that lists the register, plus its association object
    assert sorted(public.rights) == [clock, register, current]
    assert public.association_object == current and public.security_setup_object is None
    assert public.rights[clock].attribute(2) == AttributeAccess.READ_ONLY  # class default read-write, public reads
    assert public.rights[clock].method(1) == MethodAccess.NO_ACCESS
    assert public.mechanism == MechanismName.LOWEST and public.context == ApplicationContextName.LOGICAL_NAME
    # reader: LLS, its own override on the register
    assert reader.mechanism == MechanismName.LOW and reader.max_receive_pdu_size == 512
    assert reader.secret is not None and reader.secret.render({}) == Data(DataType.OCTET_STRING, b"12345678")
    assert reader.rights[register].attribute(2) == AttributeAccess.READ_AND_WRITE
    assert reader.rights[register].attribute(3) == AttributeAccess.NO_ACCESS
    assert reader.rights[register].method(1) == MethodAccess.ACCESS
    # management: everything, ciphered, the device's only Security setup found for it
    assert management.rights[clock].attribute(1) == AttributeAccess.READ_ONLY
    assert management.rights[clock].attribute(2) == AttributeAccess.READ_AND_WRITE
    assert management.rights[clock].method(6) == MethodAccess.ACCESS
    assert management.security_policy == SecurityPolicy.AUTHENTICATED_ENCRYPTED
    assert management.security_setup_object == setup
    assert management.conformance == int(Conformance.GET | Conformance.SET | Conformance.ACTION
                                         | Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ)
    assert public.conformance == 0  # not given: the association layer's default
    # custom role, exclude
    assert register not in custom.rights and custom.rights[clock].attribute(3) == AttributeAccess.READ_AND_WRITE
    # rights are shared between associations with the same rights
    assert public.rights[clock] is reader.rights[clock]
    keys = device.objects[setup].secrets
    assert [name for name, _ in keys] == ["global_unicast_encryption_key", "authentication_key"]
    assert device.objects[setup].secret("authentication_key").render({}).value == bytes.fromhex(  # type: ignore[union-attr]
        "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")


def test_role_modes_as_numbers_and_yes_or_no() -> None:
    """A role's modes may be the Blue Book's numbers, and `methods: yes` / `no` mean access / no-access."""
    header = HEADER.replace("      - {client_sap: 16, name: public}\n", """\
      - {client_sap: 16, name: public, role: {attributes: 1, methods: yes}}
      - {client_sap: 2, name: reader, role: {attributes: 3, methods: no}}
""")
    device = parse_model(header + CLOCK, "m.yaml").logical_devices[1]
    yes, no = device.associations[16].rights[0], device.associations[2].rights[0]
    assert (yes.attribute(2), yes.method(1)) == (AttributeAccess.READ_ONLY, MethodAccess.ACCESS)
    assert (no.attribute(2), no.method(1)) == (AttributeAccess.READ_AND_WRITE, MethodAccess.NO_ACCESS)
    assert "attribute access mode" in one_problem(header.replace("attributes: 1,", "attributes: yes,") + CLOCK)


def test_association_object_by_partners_id_and_security_setup_reference() -> None:
    header = HEADER.replace("      - {client_sap: 16, name: public}\n", """\
      - {client_sap: 16, name: public}
      - {client_sap: 1, name: management, context: ln-ciphered, authentication: hls-gmac}
""")
    text = header + """\
      - {class: Association LN, obis: 0.0.40.0.0.255}
      - {class: Association LN, obis: 0.0.40.0.1.255, attributes: {associated_partners_id: [16, 1]}}
      - {class: Association LN, obis: 0.0.40.0.2.255,
         attributes: {associated_partners_id: [1, 1], security_setup_reference: 0.0.43.0.2.255}}
      - {class: Security setup, obis: 0.0.43.0.1.255}
      - {class: Security setup, obis: 0.0.43.0.2.255, keys: {global_unicast_encryption_key: "{ek}",
         authentication_key: "{ak}"}}
"""
    device = parse_model(text, "m.yaml").logical_devices[1]
    assert device.associations[16].association_object == 1
    assert device.associations[1].association_object == 2
    assert device.associations[1].security_setup_object == 4


def test_short_names_declared_and_numbered_for_sn() -> None:
    header = HEADER.replace("{client_sap: 16, name: public}", "{client_sap: 16, name: public, context: sn}")
    text = header + REGISTER + """\
        short_name: 0x0100
      - {class: Association SN, obis: 0.0.40.0.0.255, short_name: 0xFA00}
      - {class: Data, obis: 0.0.42.0.0.255}
"""
    device = parse_model(text, "m.yaml").logical_devices[1]
    register, assoc, ldn = device.objects
    assert register.short_name == 0x0100 and assoc.short_name == 0xFA00
    # the register takes 0x0100..0x0137 (3 attributes; reset at +0x28): the next free name follows
    assert ldn.short_name == 0x0130
    assert device.by_short_name == {0x0100: 0, 0xFA00: 1, 0x0130: 2}
    assert device.associations[16].association_object == 1


def test_x_keys_hold_anchors_and_merge_keys_work() -> None:
    text = HEADER.replace("name: test\n", "name: test\nx-unit: &unit {value: 0, scaler_unit: [0, Wh]}\n") + """\
      - {class: Register, obis: 1.0.1.8.0.255, attributes: *unit}
      - {class: Register, obis: 1.0.2.8.0.255, attributes: {<<: *unit, value: 5}}
"""
    a, b = parse_model(text, "m.yaml").logical_devices[1].objects
    assert a.values[2] is b.values[2]  # one shared scaler_unit
    assert b.values[1] == Data(DataType.DOUBLE_LONG_UNSIGNED, 5)


# ------------------------------------------------------------------ every error, with its place

def test_unknown_key_in_an_object() -> None:
    text = model_text("""\
        - class: Register
          obis: 1.0.1.8.0.255
          atributes: {value: 0}
        """)
    message = one_problem(text.replace("atributes: {value: 0}", "atributes: {value: 0}\n        attributes: {value: 0, scaler_unit: [0, Wh]}"))
    line = line_of(text, "atributes")
    assert message == (f"m.yaml:{line}: object 1.0.1.8.0.255 (Register): unknown key 'atributes' in an object "
                       "(did you mean 'attributes'?); expected class, version, obis, name, attributes, access, "
                       "short_name, keys, push_on")


def test_unknown_attribute_name() -> None:
    text = model_text("""\
        - class: Register
          obis: 1.0.1.8.0.255
          attributes: {value: 0, scaler_unit: [0, Wh], scalar_unit: 1}
        """)
    message = one_problem(text)
    assert message.startswith(f"m.yaml:{line_of(text, 'scalar_unit')}: object 1.0.1.8.0.255 (Register): "
                              "the class has no attribute 'scalar_unit' (did you mean 'scaler_unit'?)")


def test_wrong_type() -> None:
    text = model_text("""\
        - class: Register
          obis: 1.0.1.8.0.255
          attributes:
            value: 0
            scaler_unit: [-3, Wh, 1]
        """)
    assert one_problem(text) == (f"m.yaml:{line_of(text, 'scaler_unit')}: object 1.0.1.8.0.255 (Register) "
                                 "attribute 3 scaler_unit: expected 2 fields (scaler, unit), found a list of 3")


def test_value_out_of_range_on_its_own_line() -> None:
    text = HEADER + CLOCK.replace("time_zone: -60", "time_zone: 70000")
    assert one_problem(text) == (f"m.yaml:{line_of(text, 'time_zone')}: object 0.0.1.0.0.255 (Clock) attribute 3 "
                                 "time_zone: expected long (-32768..32767), found the integer 70000")


def test_bad_obis() -> None:
    text = model_text("""\
        - class: Register
          obis: 1.0.1.8.0.256
          attributes: {value: 0, scaler_unit: [0, Wh]}
        """)
    assert one_problem(text) == (f"m.yaml:{line_of(text, '256')}: object 1.0.1.8.0.256: bad OBIS: OBIS value group "
                                 "above 255 in '1.0.1.8.0.256'")


def test_bad_obis_inside_a_value() -> None:
    text = model_text("""\
        - class: Profile generic
          obis: 1.0.99.1.0.255
          attributes:
            capture_objects:
              - [Clock, 0.0.1.0.0.255, 2, 0]
              - [Register, 1.0.1.8.0, 2, 0]
              - [Register, 1.0.1.8, 2, 0]
            capture_period: 900
        """)
    message = one_problem(text)
    assert message.startswith(f"m.yaml:{line_of(text, '1.0.1.8, 2')}: object 1.0.99.1.0.255 (Profile generic) "
                              "attribute 3 capture_objects: [2].logical_name: expected an OBIS code")
    assert message.endswith("found the text '1.0.1.8'")


def test_unknown_class() -> None:
    text = model_text("""\
        - class: Registr
          obis: 1.0.1.8.0.255
        - class: 9999
          obis: 1.0.2.8.0.255
        - {class: Clock, version: 7, obis: 0.0.1.0.0.255}
        """)
    first, second, third = problems(text)
    assert first == (f"m.yaml:{line_of(text, 'Registr')}: object 1.0.1.8.0.255: unknown class 'Registr' "
                     "(did you mean 'Register'?); `cosem-sim classes` lists the declared classes")
    assert second.startswith(f"m.yaml:{line_of(text, '9999')}: object 1.0.2.8.0.255: unknown class '9999'")
    assert third == f"m.yaml:{line_of(text, 'version: 7')}: object 0.0.1.0.0.255 (Clock): class Clock has no version 7; declared: 0"


def test_class_by_any_spelling_and_version() -> None:
    text = model_text("""\
        - {class: profile_generic, version: 1, obis: 1.0.99.1.0.255}
        - {class: ProfileGeneric, obis: 1.0.99.2.0.255}
        - {class: IEC HDLC setup, version: 0, obis: 0.0.22.0.0.255, attributes: {device_address: 17}}
        """)
    a, b, c = parse_model(text, "m.yaml").logical_devices[1].objects
    assert (a.cls.class_id, a.cls.version, b.cls.class_id) == (7, 1, 7)
    assert c.cls.key == (23, 0)


def test_duplicate_obis() -> None:
    text = model_text("""\
        - {class: Register, obis: 1.0.1.8.0.255, attributes: {value: 0, scaler_unit: [0, Wh]}}
        - {class: Register, obis: 1-0:1.8.0*255, attributes: {value: 1, scaler_unit: [0, Wh]}}
        """)
    first = line_of(text, "1.0.1.8.0.255")
    assert one_problem(text) == (f"m.yaml:{line_of(text, '1-0:1.8.0')}: object 1.0.1.8.0.255 (Register): OBIS "
                                 f"1.0.1.8.0.255 declared twice (first at line {first})")


def test_bad_template() -> None:
    text = model_text("""\
        - class: Data
          obis: 0.0.96.1.0.255
          attributes:
            value: "{serail}"
        """)
    message = one_problem(text)
    assert message.startswith(f"m.yaml:{line_of(text, 'serail')}: object 0.0.96.1.0.255 (Data) attribute 2 value: "
                              "bad template: unknown field {serail} (did you mean 'serial'?); known fields: ")
    assert "lls_password" in message and "manufacturer" in message


def test_unknown_unit_and_enum_names() -> None:
    text = HEADER + CLOCK.replace("clock_base: internal_crystal", "clock_base: crystal") + """\
      - class: Register
        obis: 1.0.1.8.0.255
        attributes:
          value: 0
          scaler_unit: {scaler: 3, unit: kWh}
"""
    clock_error, unit_error = problems(text)
    assert clock_error.startswith(f"m.yaml:{line_of(text, 'crystal')}: object 0.0.1.0.0.255 (Clock) attribute 9 "
                                  "clock_base: unknown name 'crystal' (did you mean 'internal_crystal'?); expected enum (0 ")
    assert unit_error.startswith(f"m.yaml:{line_of(text, 'kWh')}: object 1.0.1.8.0.255 (Register) attribute 3 "
                                 "scaler_unit: unit: unknown name 'kWh' (did you mean 'Wh'?); expected enum: a number")


def test_missing_value_the_class_cannot_answer() -> None:
    text = HEADER + CLOCK.replace('          daylight_savings_end: "Sun *-10-254T03:00:00"\n', "")
    assert one_problem(text) == (f"m.yaml:{line_of(text, 'class: Clock')}: object 0.0.1.0.0.255 (Clock) attribute 6 "
                                 "daylight_savings_end: no value given and the class has no default; expected "
                                 "octet-string (date-time)")


def test_all_problems_at_once_in_file_order() -> None:
    text = model_text("""\
        - {class: Registr, obis: 1.0.1.8.0.255}
        - {class: Register, obis: 1.0.2.8.0.255, attributes: {value: 0, scaler_unit: [0, kWh]}}
        - {class: Data, obis: 0.0.96.1.0.255, attributes: {value: "{x}"}}
        """).replace("manufacturer: SIM", "manufacturer: sim")
    found = problems(text)
    assert len(found) == 4
    assert [int(p.split(":")[1]) for p in found] == sorted(int(p.split(":")[1]) for p in found)
    assert "manufacturer id" in found[0]


def test_yaml_problems() -> None:
    assert problems("a: [1, 2\n") == ["m.yaml:2: not valid YAML: did not find expected ',' or ']'"]
    text = model_text("""\
        - class: Data
          obis: 0.0.96.1.0.255
          obis: 0.0.96.1.1.255
        """)
    dup = one_problem(text)
    assert dup == f"m.yaml:{line_of(text, '0.0.96.1.1.255')}: key 'obis' repeated (first at line {line_of(text, '0.0.96.1.0.255')})"
    assert problems("") == ["m.yaml:1: expected a model (a mapping with name, description, manufacturer, fields, "
                            "logical_devices, living), found nothing"]
    assert "quote values that start with '*'" in problems("a: *-12-25\n")[0]


def test_model_level_problems() -> None:
    text = textwrap.dedent("""\
        name: t
        manufacturer: SIMX
        fields: {1bad: x, ok: [1]}
        logical_devices:
          - server_sap: 1
            objects: []
          - server_sap: 1
            associations: [{client_sap: 16}]
            objects: []
        colour: blue
        """)
    found = problems(text)
    assert "m.yaml:2: expected a 3-letter upper-case manufacturer id (FLAG id), found 'SIMX'" in found
    assert "m.yaml:3: field name '1bad' must be a word (letters, digits, _)" in found
    assert "m.yaml:3: field 'ok': expected a default value, found a list of 1" in found
    assert "m.yaml:5: logical device 1: a logical device needs at least one association" in found
    assert "m.yaml:7: logical device 1: logical device 1 declared twice" in found
    assert any(p.startswith("m.yaml:10: unknown key 'colour' in the model") for p in found)


def test_association_problems() -> None:
    header = HEADER.replace("      - {client_sap: 16, name: public}\n", """\
      - {client_sap: 16, name: public, role: publik, objects: [9.9.9.9.9.9]}
      - {client_sap: 16, name: again}
      - {client_sap: 2, name: reader, authentication: lls, contxt: ln}
      - {client_sap: 3, authentication: hls-gmac, security_policy: encrypted, conformance: [gett]}
      - {client_sap: 4, authentication: foo, secret: x}
""")
    text = header + REGISTER + """\
        access: {publc: none}
"""
    found = problems(text)
    line = line_of(text, "publik")
    assert (f"m.yaml:{line}: association 16 (public): unknown role 'publik' (did you mean 'public'?); expected one "
            "of public, reader, management, class-default or {attributes: <mode>, methods: <mode>}") in found
    assert f"m.yaml:{line}: association 16 (public): objects: logical device 1 has no object 9.9.9.9.9.9" in found
    assert (f"m.yaml:{line_of(text, 'again')}: association 16 (again): client SAP 16 already has an association "
            f"(line {line})") in found
    reader = line_of(text, "reader")
    assert any(p.startswith(f"m.yaml:{reader}: association 2 (reader): unknown key 'contxt' in an association "
                            "(did you mean 'context'?)") for p in found)
    assert (f"m.yaml:{reader}: association 2 (reader): authentication low needs a 'secret' (a password or HLS secret, "
            "usually a template such as \"{lls_password}\")") in found
    gmac = line_of(text, "hls-gmac")
    assert (f"m.yaml:{gmac}: association 3: security policy encrypted needs a ciphered context "
            "(ln-ciphered or sn-ciphered)") in found
    assert (f"m.yaml:{gmac}: association 3: ciphering and HLS-GMAC need a Security setup object (class 64) with "
            "keys; name it with security_setup") in found
    assert any(p.startswith(f"m.yaml:{gmac}: association 3: unknown conformance bit the text 'gett' (did you mean "
                            "'get'?)") for p in found)
    assert any(p.startswith(f"m.yaml:{line_of(text, 'foo')}: association 4: unknown authentication mechanism 'foo'")
               for p in found)
    assert (f"m.yaml:{line_of(text, 'publc')}: object 1.0.1.8.0.255 (Register): access: no association 'publc' (did "
            "you mean 'public'?); associations are public, reader, 16, 2, 3, 4") in found


def test_access_override_problems() -> None:
    text = HEADER + REGISTER + """\
        access:
          public: {attributes: {valeu: read-only}}
          16: {methods: {reset: sometimes}}
"""
    assert problems(text) == [
        f"m.yaml:{line_of(text, 'valeu')}: object 1.0.1.8.0.255 (Register): the class has no attribute 'valeu' "
        "(did you mean 'value'?); its attributes are 1 logical_name, 2 value, 3 scaler_unit",
        f"m.yaml:{line_of(text, 'sometimes')}: object 1.0.1.8.0.255 (Register): unknown method access mode "
        "'sometimes'; expected one of no-access, none, access, authenticated-access",
    ]


def test_security_setup_without_keys_and_bad_keys() -> None:
    header = HEADER.replace("      - {client_sap: 16, name: public}\n", """\
      - {client_sap: 1, context: ln-ciphered, authentication: hls-gmac, security_setup: 0.0.43.0.1.255}
""")
    text = header + """\
      - class: Security setup
        obis: 0.0.43.0.1.255
        keys: {master_key: "0x0011", global_key: "{ek}"}
      - {class: Register, obis: 1.0.1.8.0.255, attributes: {value: 0, scaler_unit: [0, Wh]}, keys: {}}
"""
    found = problems(text)
    assert any("attribute key master_key: template renders to 2 octets, expected 16" in p and "0011" not in p
               for p in found)
    assert any("unknown key name 'global_key'" in p for p in found)
    assert any("only a Security setup (class 64) holds keys" in p for p in found)
    assert any("has no global_unicast_encryption_key and no authentication_key under 'keys'" in p for p in found)


def test_short_name_problems() -> None:
    text = model_text("""\
        - {class: Register, obis: 1.0.1.8.0.255, short_name: 0x0100, attributes: {value: 0, scaler_unit: [0, Wh]}}
        - {class: Data, obis: 0.0.42.0.0.255, short_name: 0x0108}
        - {class: Data, obis: 0.0.42.0.1.255, short_name: 0x0203}
        """)
    assert problems(text) == [
        f"m.yaml:{line_of(text, '0x0108')}: object 0.0.42.0.0.255 (Data): short name 0x0108 overlaps 1.0.1.8.0.255 "
        "at 0x0100 (which takes 0x30 names)",
        f"m.yaml:{line_of(text, '0x0203')}: object 0.0.42.0.1.255 (Data): a short name is a multiple of 8, found 0x0203",
    ]


def test_problem_text_without_object() -> None:
    assert str(Problem("f.yaml", 3, "oops")) == "f.yaml:3: oops"
    assert str(Problem("f.yaml", 3, "oops", owner="logical device 1")) == "f.yaml:3: logical device 1: oops"


# ------------------------------------------------------------------ files, cache, validate

def test_load_is_cached_by_path_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(HEADER + REGISTER)
    first = load_model(path)
    assert load_model(path) is first
    assert load_model(str(tmp_path / "." / "m.yaml")) is first
    path.write_text(HEADER.replace("a test meter", "changed") + REGISTER)
    os.utime(path, ns=(1, 1))
    second = load_model(path)
    assert second is not first and second.description == "changed"


def test_validate_paths_lists_every_problem_of_every_file(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(HEADER + REGISTER)
    bad = tmp_path / "bad.yaml"
    bad.write_text(model_text("- {class: Registr, obis: 1.0.1.8.0.255}\n- {class: Data, obis: x}\n"))
    lines = validate_paths([good, bad, tmp_path / "missing.yaml"])
    assert len(lines) == 3
    assert lines[0].startswith(f"{bad}:") and "unknown class 'Registr'" in lines[0]
    assert lines[1].startswith(f"{bad}:") and "bad OBIS" in lines[1]
    assert lines[2] == f"{tmp_path / 'missing.yaml'}:1: cannot read: No such file or directory"
    assert validate_paths([good]) == []
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path / "missing.yaml")


def test_references_to_objects_of_the_wrong_class() -> None:
    header = HEADER.replace("      - {client_sap: 16, name: public}\n", """\
      - {client_sap: 16, association_object: 1.0.1.8.0.255, security_setup: 1.0.1.8.0.255, pre_established: 3}
      - {client_sap: 17, pre_established: yes, association_object: 0.0.40.0.9.255}
""")
    text = header + REGISTER
    line = line_of(text, "client_sap: 16")
    assert problems(text) == [
        f"m.yaml:{line}: association 16: association_object must be an Association LN (class 15), 1.0.1.8.0.255 is "
        "Register",
        f"m.yaml:{line}: association 16: security_setup must be a Security setup (class 64), 1.0.1.8.0.255 is Register",
        f"m.yaml:{line}: association 16: expected true or false, found the integer 3",
        f"m.yaml:{line + 1}: association 17: association_object: logical device 1 has no object 0.0.40.0.9.255",
    ]
    fixed = text.replace(", pre_established: 3", "").replace("association_object: 1.0.1.8.0.255, security_setup: "
                                                               "1.0.1.8.0.255", "name: x").replace(
        ", association_object: 0.0.40.0.9.255", "")
    device = parse_model(fixed, "m.yaml").logical_devices[1]
    assert device.associations[17].pre_established and not device.associations[16].pre_established


def test_structural_problems() -> None:
    text = textwrap.dedent("""\
        logical_devices:
          - associations: [{client_sap: 16}]
            objects:
              - just a string
              - {class: Data, obis: 0.0.96.1.0.255, attributes: [1]}
              - {class: [1], obis: {a: 1}}
              - {obis: 0.0.96.1.2.255}
              - {class: Data}
              - {class: Data, obis: 0.0.96.1.3.255, attributes: {logical_name: x, value: 1, 2: 2}}
          - [1]
        """)
    assert problems(text) == [
        "m.yaml:4: logical device 1: expected an object as a mapping, found the text 'just a string'",
        "m.yaml:5: object 0.0.96.1.0.255 (Data): expected attributes as a mapping, found a list of 1",
        "m.yaml:6: expected an OBIS code, found a mapping (a)",
        "m.yaml:6: object ?: expected a class id or name, found a list of 1",
        "m.yaml:7: object 0.0.96.1.2.255: an object needs 'class'",
        "m.yaml:8: an object needs 'obis'",
        "m.yaml:9: object 0.0.96.1.3.255 (Data) attribute 1 logical_name: logical_name is the object's 'obis'",
        "m.yaml:9: object 0.0.96.1.3.255 (Data) attribute 2 value: given twice (by name and by index)",
        "m.yaml:10: expected a logical device as a mapping, found a list of 1",
    ]


def test_yaml_keys_must_be_words_and_merges_take_mappings() -> None:
    assert problems("? [a]\n: 1\n")[0] == "m.yaml:1: a key must be a plain word, found a collection"
    assert "m.yaml:2: '<<' merges mappings only" in problems("x: &a [1]\ny: {<<: *a}\n")
