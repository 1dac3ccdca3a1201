"""HLS with MD5 (mechanism 3) and SHA-1 (mechanism 4) over a real socket with gurux-dlms.

`cosem-sim validate` accepts exactly the mechanisms the association layer serves; these two
are kept because an independent client associates with them (all four passes) and reads.
"""

from __future__ import annotations

import pytest
from gurux_dlms.secure import GXDLMSSecureClient
from gurux_dlms import GXDLMSException
from gurux_dlms.enums import Authentication, InterfaceType

from simulator.model.catalogue import SHIPPED_DIR

from .harness import RunningFleet
from .peers import GuruxPeer, SocketPipe, energy_register

SECRET = b"HLS-secret-0001"
ASSOCIATIONS = """\
        role: public
      - {client_sap: 3, authentication: hls-md5, secret: "HLS-secret-0001", role: reader}
      - {client_sap: 4, authentication: hls-sha1, secret: "HLS-secret-0001", role: reader}
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("hls")
    minimal = (SHIPPED_DIR / "minimal.yaml").read_text(encoding="utf-8")
    (directory / "digest.yaml").write_text(minimal.replace("        role: public\n", ASSOCIATIONS, 1), encoding="utf-8")
    profile = "groups:\n  - {name: d, model: digest.yaml, listen: [{transport: tcp, host: 127.0.0.1, port: 0}]}\n"
    with RunningFleet(profile, directory, state_dir=None) as running:
        yield running


@pytest.mark.parametrize("client_sap, mechanism", [(3, Authentication.HIGH_MD5), (4, Authentication.HIGH_SHA1)])
def test_gurux_associates_with_a_digest_mechanism_and_reads(fleet: RunningFleet, client_sap: int,
                                                            mechanism: Authentication) -> None:
    client = GXDLMSSecureClient(True, client_sap, 1, mechanism, SECRET, InterfaceType.WRAPPER)
    pipe = SocketPipe("127.0.0.1", fleet.port("tcp"))
    try:
        (value,) = GuruxPeer(pipe, client).session_read((energy_register(), 2))
    finally:
        pipe.close()
    assert value == 0


def test_a_wrong_secret_is_refused_at_pass_3(fleet: RunningFleet) -> None:
    client = GXDLMSSecureClient(True, 3, 1, Authentication.HIGH_MD5, b"not-the-secret", InterfaceType.WRAPPER)
    pipe = SocketPipe("127.0.0.1", fleet.port("tcp"))
    try:
        with pytest.raises(GXDLMSException):  # the meter refuses the client's f(StoC)
            GuruxPeer(pipe, client).connect()
    finally:
        pipe.close()
