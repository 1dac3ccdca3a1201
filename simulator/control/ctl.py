"""`cosem-sim ctl`: the control plane's HTTP API from a shell or a test rig's script.

Each verb is one or a few requests to a running `cosem-sim run` (the demo listens on
http://127.0.0.1:8059), answered as text for people or, with --json, as the API's own JSON.
Exit status: 0 done; 1 the control plane answered with an error (no such meter, a write the
meter refuses, a bad fault); 2 the command could not be sent (bad arguments, the control plane
not reachable, the token missing or wrong). Errors are one line saying what was wrong.
The token (--token or COSEM_SIM_TOKEN) is sent as a bearer token and never printed.
Standard library only (urllib): `ctl` works without starting an event loop.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TextIO

__all__ = ["DEFAULT_URL", "add_ctl_arguments", "run_ctl", "CtlError", "Api", "value_text"]

DEFAULT_URL = "http://127.0.0.1:8059"
_TIMEOUT_S = 10.0
_PAGE = 500


class CtlError(Exception):
    """What went wrong, in one line, with the exit status it gives (1 the API said no, 2 not sent)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Api:
    """The control plane at `url`; `token` goes in the Authorization header only."""

    url: str
    token: str | None = None
    timeout_s: float = _TIMEOUT_S

    def _request(self, method: str, path: str, body: Any = None) -> urllib.request.Request:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        return request

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """The answer's JSON (None when empty); CtlError naming the request when it fails."""
        try:
            with urllib.request.urlopen(self._request(method, path, body), timeout=self.timeout_s) as answer:
                text = answer.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            raise _http_error(method, path, exc) from None
        except (urllib.error.URLError, OSError) as exc:
            raise self._unreachable(exc) from None
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise CtlError(f"{method} {path}: the answer is not JSON", 1) from None

    def events(self, path: str) -> Iterator[tuple[str, Any]]:
        """Server-sent events from `path`: (event name, its data as JSON or text), until the stream ends."""
        try:
            answer = urllib.request.urlopen(self._request("GET", path), timeout=None)
        except urllib.error.HTTPError as exc:
            raise _http_error("GET", path, exc) from None
        except (urllib.error.URLError, OSError) as exc:
            raise self._unreachable(exc) from None
        with answer:
            name, data = "message", []
            for raw in answer:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif not line and data:
                    text = "\n".join(data)
                    try:
                        yield name, json.loads(text)
                    except ValueError:
                        yield name, text
                    name, data = "message", []

    def _unreachable(self, exc: BaseException) -> CtlError:
        reason = getattr(exc, "reason", None) or exc
        reason = getattr(reason, "strerror", None) or reason
        return CtlError(f"cannot reach the control plane at {self.url}: {reason} "
                        "(is `cosem-sim run` running with `control:` or --control?)", 2)


def _http_error(method: str, path: str, exc: urllib.error.HTTPError) -> CtlError:
    text = ""
    try:
        body = json.loads(exc.read().decode("utf-8") or "{}")
        text = str(body.get("error", "")) if isinstance(body, dict) else ""
    except ValueError:
        pass
    text = text or exc.reason or "error"
    status = 2 if exc.code in (401, 403) else 1
    if exc.code == 401:
        text += " (give the control plane's token with --token or COSEM_SIM_TOKEN)"
    return CtlError(f"{method} {path}: {exc.code} {text}", status)


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def _meter(serial: str) -> str:
    return f"/api/meters/{_quote(serial)}"


def parse_value(text: str) -> Any:
    """A VALUE argument: JSON when it is JSON (10, "10", {"type": "long-unsigned", "value": 10}), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


# -- text output ------------------------------------------------------------------------------

def value_text(value: Any, indent: str = "") -> list[str]:
    """A value typed as `cosem-sim decode --json` shows Data, as decode's text shows it."""
    if isinstance(value, dict) and "type" in value and "value" in value:
        kind, inner = value["type"], value["value"]
        if isinstance(inner, list) and kind in ("structure", "array", "compact-array"):
            lines = [f"{indent}{kind}[{len(inner)}]"]
            for item in inner:
                lines += value_text(item, indent + "  ")
            return lines
        readings = [str(value[k]) for k in ("obis", "date_time") if value.get(k) is not None]
        return [f"{indent}{kind} {_scalar(inner)}" + (f" ({', '.join(readings)})" if readings else "")]
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{indent}{key}:")
                lines += value_text(item, indent + "  ")
            else:
                lines.append(f"{indent}{key}: {_scalar(item)}")
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, (dict, list)):
                sub = value_text(item, indent + "  ")
                lines.append(f"{indent}- {sub[0].lstrip()}" if sub else f"{indent}-")
                lines += sub[1:]
            else:
                lines.append(f"{indent}- {_scalar(item)}")
        return lines
    return [f"{indent}{_scalar(value)}"]


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value) if value else ("-" if isinstance(value, list) else "{}")
    return str(value)


_METER_COLUMNS = ("serial", "group", "model", "state", "connections", "associations", "last_activity", "faults")


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[str]:
    present = [c for c in columns if any(c in row for row in rows)] or sorted({k for r in rows for k in r})
    cells = [[_cell(row.get(c)) for c in present] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(present)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(present, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    return lines


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return str(value.get("kind") or value.get("name") or len(value))
    return _scalar(value)


def _frame_lines(frame: Any) -> list[str]:
    if not isinstance(frame, dict):
        return [str(frame)]
    head = " ".join(_scalar(frame[k]) for k in ("time", "serial", "direction", "transport", "peer", "note")
                    if frame.get(k) is not None)
    lines = [head, "  " + str(frame.get("hex", ""))]
    if frame.get("text"):
        lines += ["    " + line for line in str(frame["text"]).splitlines()]
    return lines


# -- the verbs --------------------------------------------------------------------------------

Output = tuple[Any, list[str]]
"""A verb's result: the JSON (for --json) and its text lines."""


def _items(answer: Any, key: str) -> list[Any]:
    if isinstance(answer, dict):
        found = answer.get(key)
        return found if isinstance(found, list) else []
    return answer if isinstance(answer, list) else []


def _meters(api: Api, args: argparse.Namespace) -> Output:
    query = {k: v for k, v in (("group", args.group), ("model", args.model), ("state", args.state)) if v}
    meters: list[Any] = []
    while True:
        path = "/api/meters?" + urllib.parse.urlencode({**query, "offset": len(meters), "limit": _PAGE})
        answer = api.call("GET", path)
        page = _items(answer, "meters")
        meters += page
        total = answer.get("total") if isinstance(answer, dict) else None
        if not page or not isinstance(total, int) or len(meters) >= total:
            break
    lines = _table(meters, _METER_COLUMNS) if meters else []
    return meters, lines + [f"{len(meters)} meter{'s' if len(meters) != 1 else ''}"]


def _show(api: Api, args: argparse.Namespace) -> Output:
    answer = api.call("GET", _meter(args.serial))
    return answer, value_text(answer)


def _attribute_path(args: argparse.Namespace) -> str:
    return f"{_meter(args.serial)}/objects/{_quote(args.obis)}/{_quote(args.attribute)}"


def _value_output(answer: Any, key: str = "value") -> Output:
    """The value as the simulator writes Data (the answer's `text`), else from its typed JSON."""
    if not isinstance(answer, dict):
        return answer, value_text(answer)
    if answer.get("hidden"):
        return answer, [f"({answer['hidden']})"]
    if isinstance(answer.get("text"), str):
        return answer, answer["text"].splitlines()
    return answer, value_text(answer.get(key))


def _get(api: Api, args: argparse.Namespace) -> Output:
    return _value_output(api.call("GET", _attribute_path(args)))


def _set(api: Api, args: argparse.Namespace) -> Output:
    answer = api.call("PUT", _attribute_path(args), {"value": parse_value(args.value)})
    return _value_output(answer)


def _call(api: Api, args: argparse.Namespace) -> Output:
    body = {} if args.parameter is None else {"parameter": parse_value(args.parameter)}
    answer = api.call("POST", f"{_meter(args.serial)}/methods/{_quote(args.obis)}/{_quote(args.method)}", body)
    if isinstance(answer, dict) and answer.get("returned") is None and not answer.get("hidden"):
        return answer, [f"{args.obis} method {args.method}: {answer.get('result', 'done')}"]
    return _value_output(answer, "returned")


def _fault(api: Api, args: argparse.Namespace) -> Output:
    if (args.kind == "delay") != (args.ms is not None):
        raise CtlError("fault: MS (milliseconds) goes with delay only: fault SERIAL delay MS" if args.ms is not None
                       else "fault: delay needs MS, the milliseconds added to each answer: fault SERIAL delay 300", 2)
    body: dict[str, Any] = {"kind": args.kind}
    if args.ms is not None:
        body["ms"] = args.ms
    for key in ("jitter_ms", "ratio", "diagnostic", "mode"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    answer = api.call("POST", _target(args) + "/faults", body)
    return answer, value_text(answer) if answer else [f"{args.kind} fault added to {args.serial}"]


def _target(args: argparse.Namespace) -> str:
    return f"/api/groups/{_quote(args.serial)}" if args.group else _meter(args.serial)


def _unfault(api: Api, args: argparse.Namespace) -> Output:
    answer = api.call("DELETE", _target(args) + "/faults")
    return answer, value_text(answer) if answer else [f"faults cleared on {args.serial}"]


def _event(api: Api, args: argparse.Namespace) -> Output:
    body: dict[str, Any] = {"kind": args.kind}
    for key in ("duration_s", "phase", "register", "bits"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    answer = api.call("POST", f"{_meter(args.serial)}/events", body)
    return answer, value_text(answer) if answer else [f"{args.kind} injected into {args.serial}"]


def _time(api: Api, args: argparse.Namespace) -> Output:
    changes: list[dict[str, Any]] = []
    if args.rate is not None:
        changes.append({"rate": args.rate})
    if args.paused is not None:
        changes.append({"paused": args.paused})
    if args.jump is not None:
        changes.append({"jump_s": args.jump})
    for change in changes:
        api.call("PUT", "/api/time", change)
    answer = api.call("GET", "/api/time")
    return answer, value_text(answer)


def _trace(api: Api, args: argparse.Namespace) -> Output:
    answer = api.call("GET", f"{_meter(args.serial)}/trace")
    frames = _items(answer, "frames")
    return answer, [line for frame in frames for line in _frame_lines(frame)]


def _follow(api: Api, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    """Frames as they cross the wire, one block (or one JSON line) each, until Ctrl-C or the stream ends."""
    for name, event in api.events("/api/trace/stream?" + urllib.parse.urlencode({"serial": args.serial})):
        if name == "skipped":
            frames = event.get("frames") if isinstance(event, dict) else event
            err.write(f"cosem-sim ctl: {frames} frames skipped: this reader did not keep up\n")
        else:
            out.write(json.dumps(event) + "\n" if args.json else "\n".join(_frame_lines(event)) + "\n")
        out.flush()


_VERBS: dict[str, Callable[[Api, argparse.Namespace], Output]] = {
    "meters": _meters, "show": _show, "get": _get, "set": _set, "call": _call, "fault": _fault,
    "unfault": _unfault, "event": _event, "time": _time, "trace": _trace,
}


def add_ctl_arguments(parser: argparse.ArgumentParser) -> None:
    # --url, --token and --json go before or after the verb (the latter without a default of its own).
    def connection(target: argparse.ArgumentParser, defaults: bool) -> None:
        suppress = argparse.SUPPRESS
        target.add_argument("--url", default=os.environ.get("COSEM_SIM_URL", DEFAULT_URL) if defaults else suppress,
                            help=f"the control plane (default: {DEFAULT_URL} or COSEM_SIM_URL)")
        target.add_argument("--token", default=None if defaults else suppress,
                            help="its bearer token (default: COSEM_SIM_TOKEN)")
        target.add_argument("--json", action="store_true", default=False if defaults else suppress,
                            help="print the API's JSON instead of text")

    connection(parser, True)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(name: str, text: str) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        connection(sub, False)
        return sub

    meters = verb("meters", "list the fleet's meters: serial, group, model, state")
    meters.add_argument("--group", help="only this group's meters")
    meters.add_argument("--model", help="only meters of this object model")
    meters.add_argument("--state", choices=("idle", "live", "connected"), help="only meters in this state")
    verb("show", "one meter: identity, addresses, associations open, last activity, faults active") \
        .add_argument("serial", metavar="SERIAL")
    for name, text in (("get", "read an attribute"), ("set", "write an attribute, checked like a DLMS SET")):
        sub = verb(name, text)
        sub.add_argument("serial", metavar="SERIAL")
        sub.add_argument("obis", metavar="OBIS", help="the object's logical name, e.g. 0.0.1.0.0.255")
        sub.add_argument("attribute", metavar="ATTR", help="the attribute's index or name (value, scaler_unit)")
        if name == "set":
            sub.add_argument("value", metavar="VALUE", help='the value: JSON typed as `cosem-sim decode --json` '
                                                            'shows Data ({"type": "long-unsigned", "value": 10}), '
                                                            'or a plain number or string')
    call = verb("call", "invoke a method")
    call.add_argument("serial", metavar="SERIAL")
    call.add_argument("obis", metavar="OBIS")
    call.add_argument("method", metavar="METHOD", help="the method's index or name (reset)")
    call.add_argument("parameter", metavar="VALUE", nargs="?", help="its parameter, as for set")
    fault = verb("fault", "make a meter (or with --group, a group) misbehave on the wire")
    fault.add_argument("serial", metavar="SERIAL", help="the meter's serial number (with --group, the group's name)")
    fault.add_argument("kind", metavar="KIND",
                       choices=("delay", "drop", "corrupt", "refuse", "silence", "close", "reboot"),
                       help="delay, drop, corrupt, refuse, silence, close or reboot")
    fault.add_argument("ms", metavar="MS", type=float, nargs="?", help="delay: milliseconds added to each answer")
    fault.add_argument("--jitter-ms", dest="jitter_ms", type=float, help="delay: ± this many milliseconds")
    fault.add_argument("--ratio", type=float, help="drop, corrupt, close: the share of answers hit (0..1]")
    fault.add_argument("--diagnostic", help="refuse: the AARE's diagnostic, e.g. no-reason-given")
    fault.add_argument("--mode", choices=("fcs", "tag"), help="corrupt: break the HDLC FCS or the APDU's tag")
    fault.add_argument("--group", action="store_true", help="SERIAL names a group")
    unfault = verb("unfault", "clear a meter's (or with --group, a group's) faults")
    unfault.add_argument("serial", metavar="SERIAL", help="the meter's serial number (with --group, the group's name)")
    unfault.add_argument("--group", action="store_true", help="SERIAL names a group")
    event = verb("event", "inject an event: power-failure, cover-open, terminal-cover-open, magnetic-field, "
                          "voltage-sag, voltage-swell, alarm")
    event.add_argument("serial", metavar="SERIAL")
    event.add_argument("kind", metavar="KIND")
    event.add_argument("duration_s", metavar="DURATION", type=float, nargs="?", help="seconds the event lasts")
    event.add_argument("--phase", type=int, choices=(1, 2, 3), help="voltage-sag, voltage-swell: the phase")
    event.add_argument("--register", type=int, choices=(1, 2), help="alarm: alarm register 1 or 2")
    event.add_argument("--bits", type=int, help="alarm: the bits to set")
    time = verb("time", "the fleet's time: show it, change its rate, pause, resume or jump forward")
    time.add_argument("--rate", type=float, help="fleet seconds per real second")
    paused = time.add_mutually_exclusive_group()
    paused.add_argument("--pause", dest="paused", action="store_const", const=True, help="stop the fleet's clock")
    paused.add_argument("--resume", dest="paused", action="store_const", const=False, help="let it run again")
    time.add_argument("--jump", type=float, metavar="S", help="move the fleet's clock S seconds forward")
    trace = verb("trace", "a meter's last frames, hex and decoded; --follow for the live stream")
    trace.add_argument("serial", metavar="SERIAL")
    trace.add_argument("--follow", action="store_true", help="print frames as they cross the wire until Ctrl-C")


def run_ctl(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    api = Api(args.url, args.token or os.environ.get("COSEM_SIM_TOKEN") or None)
    try:
        if args.verb == "trace" and args.follow:
            _follow(api, args, out, err)
            return 0
        answer, lines = _VERBS[args.verb](api, args)
    except CtlError as exc:
        err.write(f"cosem-sim ctl: {exc}\n")
        return exc.status
    except KeyboardInterrupt:
        return 0
    out.write(json.dumps(answer, indent=2) + "\n" if args.json else "".join(line + "\n" for line in lines))
    return 0
