"""A fleet split into shards (`run --shard I/N`): each shard answers exactly its meters (fleet
index I modulo N) at the addresses and ports of the whole fleet, and a head-end reading them
through dlms-cosem (TCP wrapper) and gurux-dlms (UDP wrapper) gets the same bytes as from the
unsharded fleet; each shard keeps its own state database; sockets handed over by a supervisor
(COSEM_SIM_SOCKETS) are served; shared lines, bad shards and bad variables are refused in one
line; COSEM_SIM_* variables give run's options, the command line wins.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from dlms_cosem import cosem, enumerations
from dlms_cosem.client import DlmsClient
from dlms_cosem.security import LowLevelSecurityAuthentication
from gurux_dlms.objects import GXDLMSData

from simulator.cli import build_parser, main
from simulator.runtime.environment import apply_environment
from simulator.runtime.profile import demo_profile_path
from simulator.runtime.shard import WHOLE, Shard, parse_shard

from .harness import RunningFleet
from .peers import LDN, GuruxPeer, SocketPipe, gurux_client, read, wrapper_transport
from .test_state_restart import alarm_filter

ROOT = Path(__file__).resolve().parents[2]
SERIAL = cosem.CosemAttribute(interface=enumerations.CosemInterface.DATA,
                              instance=cosem.Obis(0, 0, 96, 1, 0, 255), attribute=2)
FIRMWARE = cosem.CosemAttribute(interface=enumerations.CosemInterface.DATA,
                                instance=cosem.Obis(1, 0, 0, 2, 0, 255), attribute=2)
# Six meters, indices 0..5: group a (idis_poly, a password per meter) by address over the TCP and
# UDP wrappers, group b (water) by port. Shard 0/2 serves a#0, a#2, b#1; shard 1/2 a#1, b#0, b#2.
PROFILE = """
name: six
groups:
  - name: a
    model: idis_poly
    count: 3
    fields: {{lls_password: {{derive: "six secret", bytes: 4}}}}
    listen:
      - {{transport: tcp, addressing: address, host: 127.0.9.1, port: {a}}}
      - {{transport: udp, addressing: address, host: 127.0.9.1, port: {a}}}
  - name: b
    model: water
    count: 3
    listen: [{{transport: tcp, host: 127.0.0.1, port: {b}, port_step: 1}}]
"""


def free_ports(count: int) -> int:
    """The first of `count` consecutive ports free for TCP and UDP on every address."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        with contextlib.ExitStack() as held:
            try:
                for port in range(base, base + count):
                    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                        sock = held.enter_context(socket.socket(socket.AF_INET, kind))
                        sock.bind(("0.0.0.0", port))
            except OSError:
                continue
        return base
    raise RuntimeError("no free ports")


@pytest.fixture(scope="module")
def six(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[int, tuple[str, str, int]]]:
    """The profile, and where each fleet meter is: (group, host, port)."""
    a, b = free_ports(1), free_ports(3)
    where = {i: ("a", f"127.0.9.{1 + i}", a) for i in range(3)}
    where.update({3 + i: ("b", "127.0.0.1", b + i) for i in range(3)})
    return PROFILE.format(a=a, b=b), where


def password(index: int, group: str) -> bytes:
    """Meter `index`'s LLS password: group a's derived from its serial (profile.py's derive rule)."""
    if group == "b":
        return b"12345678"
    return hmac.new(b"six secret", f"lls_password/{index + 1:08d}".encode(), "sha256").hexdigest()[:8].upper().encode()


def head_end_reads(index: int, where: tuple[str, str, int]) -> list[Any]:
    """What a head-end reads from a meter: LDN, serial number and firmware over the TCP wrapper
    as the LLS reader (dlms-cosem); for group a also the LDN over the UDP wrapper (gurux-dlms)."""
    group, host, port = where
    client = DlmsClient(transport=wrapper_transport(port, 2, host=host),
                        authentication=LowLevelSecurityAuthentication(secret=password(index, group)), timeout=5)
    with client.session() as session:
        values: list[Any] = [session.get(attribute) for attribute in (LDN, SERIAL, FIRMWARE)]
    if group == "a":
        peer = GuruxPeer(SocketPipe(host, port, udp=True), gurux_client(16))
        try:
            values += peer.session_read((GXDLMSData("0.0.42.0.0.255"), 2))
        finally:
            peer.pipe.close()
    return values


def refused(where: tuple[str, str, int]) -> bool:
    """Nothing listens there: TCP is refused, and a UDP datagram comes back as port unreachable."""
    group, host, port = where
    try:
        socket.create_connection((host, port), timeout=5).close()
        return False
    except ConnectionRefusedError:
        pass
    if group == "a":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(5)
            udp.connect((host, port))
            udp.send(b"\x00\x01\x00\x10\x00\x01\x00\x01\x00")
            with pytest.raises(ConnectionRefusedError):
                udp.recv(100)
    return True


@pytest.mark.parametrize("text, shard", [("0/1", WHOLE), ("1/4", Shard(1, 4)), (" 3 / 4 ", Shard(3, 4))])
def test_parse_shard(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard
    assert shard.label == f"shard {shard.index}/{shard.count}"
    assert [i for i in range(9) if shard.owns(i)] == list(range(shard.index, 9, shard.count))


@pytest.mark.parametrize("text, message", [
    ("2/2", "shard 2 of 2 does not exist: shards count from 0 to 1"),
    ("x", "expected I/N like 0/4 (shard I of N, from 0), found 'x'"),
    ("1", "expected I/N like 0/4"), ("-1/2", "expected I/N"), ("0/0", "expected at least 1 shard")])
def test_a_shard_that_cannot_be_is_one_clear_line(text: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert message in parse_shard_error(text)
    assert main(["run", f"--shard={text}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cosem-sim run: --shard: ") and message in err and err.count("\n") == 1


def parse_shard_error(text: str) -> str:
    with pytest.raises(ValueError) as caught:
        parse_shard(text)
    return str(caught.value)


def test_shards_answer_their_meters_with_the_bytes_of_the_whole_fleet(
        six: tuple[str, dict[int, tuple[str, str, int]]], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    profile, where = six
    with RunningFleet(profile, tmp_path):
        expected = {index: head_end_reads(index, at) for index, at in where.items()}
    assert expected[0][0] == b"\x09\x0bSIM00000001" and expected[5][0] == b"\x09\x0bSIM00000006"
    assert expected[1][3] == b"SIM00000002"  # gurux over UDP
    assert len({bytes(reads[0]) for reads in expected.values()}) == 6
    caplog.set_level(logging.INFO, "simulator.push")
    for shard in (Shard(0, 2), Shard(1, 2)):
        caplog.clear()
        with RunningFleet(profile, tmp_path, shard=shard) as fleet:
            mine = [i for i in where if shard.owns(i)]
            assert {e.index for endpoint in fleet.engine.endpoints for e in endpoint.meters()} == set(mine)
            for index, at in where.items():
                if shard.owns(index):
                    assert head_end_reads(index, at) == expected[index], f"meter {index} through {shard.label}"
                else:
                    assert refused(at), f"meter {index} answered through {shard.label}"
            # the meters of the other shard were never built
            assert sorted(fleet.call(lambda: list(fleet.engine.fleet.live_meters))) == mine
        # idis_poly pushes by itself (scheduled daily readings, alarms): only this shard's meters
        owned_a = len([i for i in range(3) if shard.owns(i)])
        assert f"group a: {owned_a} meter{'s' if owned_a > 1 else ''} push by themselves" in caplog.text
    # both shards at once, on one host: the head-end reads the whole fleet as from one process
    with RunningFleet(profile, tmp_path, shard=Shard(0, 2)), RunningFleet(profile, tmp_path, shard=Shard(1, 2)):
        assert {index: head_end_reads(index, at) for index, at in where.items()} == expected


def test_each_shard_keeps_its_own_state(six: tuple[str, dict[int, tuple[str, str, int]]], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A SET through shard 1/2 (meter a#1) survives that shard's restart and is only in its file
    (`cosem-sim state --shard 1/2` shows it); the unsharded fleet keeps state.sqlite3."""
    profile, where = six
    state = tmp_path / "state"
    _, host, port = where[1]

    def management(counter: int) -> GuruxPeer:
        return GuruxPeer(SocketPipe(host, port), gurux_client(1, invocation_counter=counter, system_title=b"SHARDSET"))

    with RunningFleet(profile, tmp_path, state_dir=state, shard=Shard(0, 2)):
        pass
    with RunningFleet(profile, tmp_path, state_dir=state, shard=Shard(1, 2)):
        peer = management(5000)
        try:
            peer.connect()
            peer.request(peer.client.write(alarm_filter(0x0BADCAFE), 2))
            peer.release()
        finally:
            peer.pipe.close()
    assert sorted(p.name for p in state.glob("*.sqlite3")) == ["state.shard-0-of-2.sqlite3",
                                                               "state.shard-1-of-2.sqlite3"]
    assert kept(state / "state.shard-1-of-2.sqlite3") == [("a", 1)]
    assert kept(state / "state.shard-0-of-2.sqlite3") == []
    capsys.readouterr()  # gurux-dlms prints as it ciphers
    assert main(["state", str(tmp_path / "fleet.yaml"), "--state-dir", str(state), "--shard", "1/2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"profile six: 1 meters with state kept in {state / 'state.shard-1-of-2.sqlite3'}\n")
    assert "00000002" in out and "0.0.97.98.10.255" in out
    with RunningFleet(profile, tmp_path, state_dir=state, shard=Shard(1, 2)):
        peer = management(9000)
        try:
            (value,) = peer.session_read((alarm_filter(), 2))
        finally:
            peer.pipe.close()
    assert value == 0x0BADCAFE
    with RunningFleet(profile, tmp_path, state_dir=state):
        peer = management(9500)
        try:
            (value,) = peer.session_read((alarm_filter(), 2))
        finally:
            peer.pipe.close()
    assert value != 0x0BADCAFE  # the whole fleet's own database, which no shard wrote
    assert (state / "state.sqlite3").exists()


def kept(database: Path) -> list[tuple[str, int]]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return db.execute("SELECT grp, group_index FROM meters ORDER BY id").fetchall()


@contextlib.contextmanager
def running(*options: str, env: dict[str, str] | None = None, pass_fds: tuple[int, ...] = ()) -> Iterator[str]:
    """`cosem-sim run` in a child process until its banner's first line; yields that line."""
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "run", *options], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, pass_fds=pass_fds,
                            env={**os.environ, **(env or {})})
    assert proc.stdout is not None and proc.stderr is not None
    try:
        first = proc.stdout.readline()
        if not first.startswith("cosem-sim: profile"):
            pytest.fail(first + proc.stderr.read())
        yield first
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err


INHERITED = """
name: inherited
groups:
  - name: a
    model: minimal
    count: 2
    listen:
      - {{transport: tcp, addressing: address, host: 127.0.10.1, port: {port}}}
      - {{transport: udp, addressing: address, host: 127.0.10.1, port: {port}}}
"""


def test_a_run_serves_the_sockets_it_is_handed(tmp_path: Path) -> None:
    """The test binds the sockets (a supervisor's part) and hands them to `cosem-sim run --shard 0/2`:
    the child could not bind them itself (they are held without SO_REUSEADDR), yet its meter
    answers through them; a connection to the other shard's meter is closed unanswered."""
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("0.0.0.0", 0))
        port = tcp.getsockname()[1]
        udp.bind(("0.0.0.0", port))
        tcp.listen()
        profile = tmp_path / "inherited.yaml"
        profile.write_text(INHERITED.format(port=port))
        handed = [{"transport": "tcp", "host": "0.0.0.0", "port": port, "fd": tcp.fileno()},
                  {"transport": "udp", "host": "0.0.0.0", "port": port, "fd": udp.fileno()}]
        env = {"COSEM_SIM_SOCKETS": json.dumps(handed)}
        with running(str(profile), "--shard", "0/2", "--no-state", env=env, pass_fds=(tcp.fileno(), udp.fileno())):
            assert read(wrapper_transport(port, 16, host="127.0.10.1"), 16, LDN) == [b"\x09\x0bSIM00000001"]
            peer = GuruxPeer(SocketPipe("127.0.10.1", port, udp=True), gurux_client(16))
            try:
                assert peer.session_read((GXDLMSData("0.0.42.0.0.255"), 2)) == [b"SIM00000001"]
            finally:
                peer.pipe.close()
            with socket.create_connection(("127.0.10.2", port), timeout=5) as other:  # a#1: shard 1's
                assert other.recv(1) == b""
        # a descriptor that names no endpoint of the fleet is refused, by what it claims to be
        wrong = [{"transport": "tcp", "host": "127.0.0.1", "port": port, "fd": tcp.fileno()}]
        done = subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(profile), "--no-state"], cwd=ROOT,
                              capture_output=True, text=True, timeout=30, pass_fds=(tcp.fileno(),),
                              env={**os.environ, "COSEM_SIM_SOCKETS": json.dumps(wrong)})
    assert done.returncode == 1
    assert done.stderr == f"COSEM_SIM_SOCKETS:1: fd {handed[0]['fd']} (tcp 127.0.0.1:{port}) names no endpoint " \
                          "of the fleet\n"


def test_a_line_shared_across_shards_is_refused_with_file_line_and_group(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo's four electricity meters share one multidrop HDLC line: two shards cannot split it."""
    demo = demo_profile_path()
    line = next(n for n, text in enumerate(demo.read_text().splitlines(), 1) if "addressing: multidrop" in text)
    assert main(["run", str(demo), "--shard", "1/2"]) == 1
    assert capsys.readouterr().err == (
        f"{demo}:{line}: group electricity: hdlc-tcp 127.0.0.1:4099 is shared by meters electricity#0 (shard 0/2) "
        "and electricity#1 (shard 1/2) and cannot be split across shards: give each meter its own port or address\n")


def environment(*argv: str, hostname: str = "sim-0", **env: str) -> Any:
    args = build_parser().parse_args(["run", *argv])
    apply_environment(args, {f"COSEM_SIM_{name}": value for name, value in env.items()}, lambda: hostname)
    return args


def test_the_environment_gives_run_its_options_and_the_command_line_wins() -> None:
    args = environment(PROFILE="/p.yaml", HOST="0.0.0.0", PORT_OFFSET="1000", STATE_DIR="/state",
                       CONTROL="0.0.0.0:8059", SHARD="2/4", UNRELATED="x", LANG="C")
    assert (args.profile, args.host, args.port_offset, args.state_dir, args.control, args.shard, args.workers) == \
        (Path("/p.yaml"), "0.0.0.0", 1000, Path("/state"), "0.0.0.0:8059", Shard(2, 4), None)
    args = environment("/q.yaml", "--host", "127.0.0.2", "--port-offset", "5", "--state-dir", "/s", "--control",
                       "127.0.0.1:0", "--shard", "1/3", PROFILE="/p.yaml", HOST="0.0.0.0", PORT_OFFSET="1000",
                       STATE_DIR="/state", CONTROL="0.0.0.0:8059", SHARD="2/4", WORKERS="4")
    assert (args.profile, args.host, args.port_offset, args.state_dir, args.control, args.shard, args.workers) == \
        (Path("/q.yaml"), "127.0.0.2", 5, Path("/s"), "127.0.0.1:0", Shard(1, 3), None)
    assert environment().shard == WHOLE and environment().port_offset == 0 and environment(PORT_OFFSET="").port_offset == 0
    assert environment(SHARD="1", SHARDS="3").shard == Shard(1, 3)
    # a StatefulSet's pod sim-7 is shard 7
    assert environment(SHARD_FROM_HOSTNAME="1", SHARDS="10", hostname="sim-7").shard == Shard(7, 10)
    assert environment(SHARD_FROM_HOSTNAME="1", SHARDS="20", hostname="cosem-sim-12.sim.lab").shard == Shard(12, 20)
    assert environment(WORKERS="3").workers == 3 and environment("--workers", "2", WORKERS="3").workers == 2
    assert environment("--workers", "auto").workers == (os.cpu_count() or 1) == environment(WORKERS="0").workers


@pytest.mark.parametrize("argv, env, message", [
    ((), {"PORT_OFFSET": "ten"}, "COSEM_SIM_PORT_OFFSET: expected an integer, found 'ten'"),
    ((), {"HOST": "localhost"}, "COSEM_SIM_HOST: expected an IPv4 address like 0.0.0.0, found 'localhost'"),
    ((), {"CONTROL": "localhost:8059"}, "COSEM_SIM_CONTROL: expected HOST:PORT like 0.0.0.0:8059, found 'localhost:8059'"),
    ((), {"SHARD": "4/4"}, "COSEM_SIM_SHARD: shard 4 of 4 does not exist: shards count from 0 to 3"),
    ((), {"SHARD": "1"}, "COSEM_SIM_SHARD: '1' needs COSEM_SIM_SHARDS (the number of shards), or give I/N"),
    ((), {"SHARD": "1/4", "SHARDS": "3"}, "COSEM_SIM_SHARD 1/4 says 4 shards, COSEM_SIM_SHARDS 3"),
    ((), {"SHARD_FROM_HOSTNAME": "1", "SHARDS": "3"},
     "COSEM_SIM_SHARD_FROM_HOSTNAME: the host name 'rig' does not end in -I (a StatefulSet pod's ordinal, as in sim-3)"),
    ((), {"SHARD_FROM_HOSTNAME": "1"}, "COSEM_SIM_SHARD_FROM_HOSTNAME: COSEM_SIM_SHARDS must say how many shards"),
    ((), {"SHARD_FROM_HOSTNAME": "maybe"}, "COSEM_SIM_SHARD_FROM_HOSTNAME: expected 1 or 0, found 'maybe'"),
    ((), {"WORKERS": "-2"}, "COSEM_SIM_WORKERS: expected a number of worker processes (0 or auto: one per processor)"),
    (("--workers", "2"), {"SHARD": "0/2"}, "--workers cannot be combined with a shard from the environment"),
    (("--workers", "2", "--shard", "0/2"), {}, "--shard and --workers cannot be combined"),
])
def test_a_bad_variable_is_one_line_naming_it(argv: tuple[str, ...], env: dict[str, str], message: str,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "rig")
    for name, value in env.items():
        monkeypatch.setenv(f"COSEM_SIM_{name}", value)
    assert main(["run", str(tmp_path / "none.yaml"), *argv]) == 1  # a value taken would fail on the profile
    err = capsys.readouterr().err
    assert err.startswith(f"cosem-sim run: {message}") and err.count("\n") == 1, err


def test_a_shard_from_the_environment_names_itself_its_file_and_its_control_port(
        six: tuple[str, dict[int, tuple[str, str, int]]], tmp_path: Path) -> None:
    """A container's `cosem-sim run` with no options: the profile, shard, state directory and control
    plane from COSEM_SIM_*; shard 1's control plane listens at the control port (a container has
    its own address: only --workers moves a worker's port)."""
    profile, where = six
    path = tmp_path / "six.yaml"
    path.write_text(profile)
    control = free_ports(1)
    env = {"COSEM_SIM_PROFILE": str(path), "COSEM_SIM_SHARD": "1", "COSEM_SIM_SHARDS": "2",
           "COSEM_SIM_STATE_DIR": str(tmp_path / "state"), "COSEM_SIM_CONTROL": f"127.0.0.1:{control}"}
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "run"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
    assert proc.stdout is not None
    try:
        lines = [proc.stdout.readline()]
        while not lines[-1].startswith("control plane:") and lines[-1]:
            lines.append(proc.stdout.readline())
        banner = "".join(lines)
        assert banner.startswith(f"cosem-sim: profile six: shard 1/2: 3 of 6 meters ({path})"), banner
        assert f"kept in {tmp_path / 'state' / 'state.shard-1-of-2.sqlite3'}" in banner
        assert re.search(rf"control plane: http://127\.0\.0\.1:{control}\b", banner), banner
        assert head_end_reads(1, where[1])[0] == b"\x09\x0bSIM00000002"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err


@pytest.mark.parametrize("argv, worker", [
    (["run", "p.yaml", "--workers", "2", "--no-state"], ["--log-level", "warning", "p.yaml", "--no-state"]),
    (["--log-level", "info", "run", "--workers=auto", "p.yaml"], ["--log-level", "info", "p.yaml"]),
    (["run", "--work", "3", "--host", "0.0.0.0"], ["--log-level", "warning", "--host", "0.0.0.0"]),
])
def test_each_worker_gets_the_run_arguments_without_workers(argv: list[str], worker: list[str]) -> None:
    """What cli.py hands the supervisor for its workers (each adds its --shard)."""
    from simulator.cli import _worker_argv

    args = build_parser().parse_args(argv)
    args.argv = argv
    assert _worker_argv(args) == worker
