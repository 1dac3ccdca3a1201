"""SETs over a real socket with gurux-dlms (the management client, HLS-GMAC with authenticated
encryption): what the standard does not allow is refused and nothing is stored.

- Clock time_zone 9999 (outside -720..840): other-reason; the clock still reads and the load
  profile still captures (before, both answered other-reason until the zone was set back).
- A Limiter threshold of the wrong type (an octet-string for a double-long): type-unmatched.
- The published invocation counter 0.0.43.1.1.255: read-write-denied; the object list gives the
  management client read-only access to it.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from gurux_dlms import GXDLMSException
from gurux_dlms.enums import AccessMode, DataType as GuruxType, ErrorCode
from gurux_dlms.objects import GXDLMSAssociationLogicalName, GXDLMSLimiter, GXDLMSProfileGeneric

from .harness import RunningFleet
from .peers import GuruxPeer, SocketPipe, clock, counter_object, gurux_client

PROFILE = """
groups:
  - {name: e, model: idis_poly, listen: [{transport: tcp, host: 127.0.0.1, port: 0}]}
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningFleet]:
    with RunningFleet(PROFILE, tmp_path_factory.mktemp("writes"), state_dir=None) as running:
        yield running


@pytest.fixture
def management(fleet: RunningFleet) -> Iterator[GuruxPeer]:
    pipe = SocketPipe("127.0.0.1", fleet.port("tcp"))
    peer = GuruxPeer(pipe, gurux_client(1))
    peer.connect()
    try:
        yield peer
    finally:
        peer.release()
        pipe.close()


def refusal(peer: GuruxPeer, obj: Any, attribute: int) -> int:
    with pytest.raises(GXDLMSException) as refused:
        peer.request(peer.client.write(obj, attribute))
    return refused.value.errorCode


def test_time_zone_out_of_range_is_refused_and_the_clock_stays_readable(management: GuruxPeer) -> None:
    meter_clock = clock()
    management.read(meter_clock, 3)
    zone = meter_clock.timeZone
    meter_clock.timeZone = 9999
    assert refusal(management, meter_clock, 3) == ErrorCode.OTHER_REASON
    assert management.read(meter_clock, 3) == zone
    assert management.read(meter_clock, 2) is not None  # the time reads
    profile = GXDLMSProfileGeneric("1.0.99.1.0.255")
    management.request(management.client.method(profile, 2, 0, GuruxType.INT8))  # capture answers success


def test_limiter_threshold_of_another_type_is_refused(management: GuruxPeer) -> None:
    limiter = GXDLMSLimiter("0.0.17.0.0.255")
    before = management.read(limiter, 4)
    limiter.thresholdNormal = b"\x01\x02"
    limiter.setDataType(4, GuruxType.OCTET_STRING)
    assert refusal(management, limiter, 4) == ErrorCode.UNMATCHED_TYPE
    assert management.read(limiter, 4) == before


def test_the_published_invocation_counter_is_read_only(management: GuruxPeer) -> None:
    counter = counter_object()
    before = management.read(counter, 2)
    counter.value = 0
    counter.setDataType(2, GuruxType.UINT32)
    assert refusal(management, counter, 2) == ErrorCode.READ_WRITE_DENIED
    assert management.read(counter, 2) > before  # still the meter's: it counts this session's requests
    association = GXDLMSAssociationLogicalName("0.0.40.0.0.255")
    management.read(association, 2)
    listed = next(o for o in association.objectList if o.logicalName == "0.0.43.1.1.255")
    assert listed.getAccess(2) == AccessMode.READ
