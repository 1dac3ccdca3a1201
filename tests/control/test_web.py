"""The web UI in a real browser: Debian's headless Chromium driven by Playwright for Python, against
the demo fleet (its listeners moved to free ports) with the control plane on 127.0.0.1, port 0.

The page is found by roles and labels as a screen reader sees it. What the page shows is checked
against an independent DLMS client (dlms-cosem) reading the same meter over a real socket.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from dlms_cosem import cosem, enumerations
from dlms_cosem.exceptions import DlmsClientException
from playwright.sync_api import Browser, Page, expect, sync_playwright

from simulator.control.plane import ControlPlane
from simulator.runtime.profile import demo_profile_path

from ..runtime.harness import RunningFleet
from .harness import serving
from ..runtime.peers import LDN, read, wrapper_transport

CHROMIUM = "/usr/bin/chromium"  # Debian's (.ci/run installs it); Playwright downloads no browser here
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
POWER_FAILURES = cosem.CosemAttribute(interface=enumerations.CosemInterface.DATA,
                                      instance=cosem.Obis(0, 0, 96, 7, 21, 255), attribute=2)
DEMO_SERIALS = [f"{n:08d}" for n in range(1, 13)]  # README: electricity 1-4, gas 5-7, water 8-10, minimal 11-12
WAIT_MS = 10_000  # how long the page may take to show what is asked: a bound, not a pause


def demo_on_free_ports() -> str:
    """The shipped demo profile with every listener on port 0 (the demo's fixed ports may be taken)."""
    text = demo_profile_path().read_text(encoding="utf-8")
    text = re.sub(r"port: \d+(, port_step: \d+)?", "port: 0", text)
    return re.sub(r"^(state_dir|control):.*$", "", text, flags=re.M)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def demo(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[RunningFleet, ControlPlane]]:
    with serving(demo_on_free_ports(), tmp_path, tmp_path / "state", getattr(request, "param", None)) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        yield page
    finally:
        context.close()


def power_failures(port: int) -> int:
    """Number of power failures (0.0.96.7.21.255) as the reader client (2, LLS) reads it."""
    (value,) = read(wrapper_transport(port, 2), 2, POWER_FAILURES)
    assert value[0] in (0x06, 0x12, 0x11), value.hex()  # an unsigned integer of some width
    return int.from_bytes(value[1:], "big")


def test_the_page_shows_the_demo_meters(demo: tuple[RunningFleet, ControlPlane], page: Page) -> None:
    _, plane = demo
    page.goto(plane.url)
    meters = page.get_by_role("table", name="Meters")
    for serial in DEMO_SERIALS:
        expect(meters.get_by_role("link", name=f"Meter {serial}")).to_be_visible()
    expect(meters.get_by_role("row")).to_have_count(len(DEMO_SERIALS) + 1)  # and the header
    expect(page.get_by_role("status")).to_contain_text("12 meters")
    page.get_by_label("Group", exact=True).select_option("gas")
    expect(meters.get_by_role("row")).to_have_count(3 + 1)
    expect(meters.get_by_role("link", name="Meter 00000005")).to_be_visible()
    expect(page.get_by_role("log", name="Recent errors")).to_be_empty()


def test_a_power_failure_from_the_page_shows_in_the_meter_and_its_trace(
        demo: tuple[RunningFleet, ControlPlane], page: Page) -> None:
    fleet, plane = demo
    port = fleet.port("tcp", 0)
    page.goto(plane.url)
    page.get_by_role("link", name="Meter 00000001").click()
    expect(page.get_by_role("heading", name="Meter 00000001")).to_be_visible()
    objects = page.get_by_role("table", name="Objects")
    expect(objects).to_contain_text("0.0.96.7.21.255")
    count = page.get_by_label("Value of 0.0.96.7.21.255")
    before = power_failures(port)
    expect(count).to_have_text(re.compile(rf"\b{before}$"))

    page.get_by_label("Duration (s)").fill("60")
    page.get_by_role("button", name="Power failure").click()
    expect(page.get_by_role("list", name="Injected events")).to_contain_text(re.compile(r"power-failure .*\(60 s\)"))

    # a head-end reads the counter after the power failure: the meter counts it...
    assert power_failures(port) == before + 1
    # ...the page's view of the meter shows it, and its live trace shows that read on the wire:
    # the GET for the counter from the client, and the meter's answer with the new count
    expect(count).to_have_text(re.compile(rf"\b{before + 1}$"))
    frames = page.get_by_role("log", name="Trace").get_by_role("listitem")
    expect(frames.filter(has_text="get-request-normal").last).to_contain_text("instance-id: 0.0.96.7.21.255")
    expect(frames.filter(has_text="get-response-normal").last).to_contain_text(
        re.compile(rf"result: (long-|double-long-)?unsigned {before + 1}\b"))
    expect(page.get_by_role("log", name="Recent errors")).to_be_empty()


@pytest.mark.parametrize("demo", ["web-token-93ab"], indirect=True)
def test_with_a_token_the_page_loads_and_asks_for_it(demo: tuple[RunningFleet, ControlPlane], page: Page) -> None:
    _, plane = demo
    assert page.goto(plane.url).ok  # the page and its files need no token; the API does
    errors = page.get_by_role("log", name="Recent errors")
    expect(errors).to_contain_text("401")
    expect(errors).not_to_contain_text("web-token-93ab")
    meters = page.get_by_role("table", name="Meters")
    expect(meters.get_by_role("link")).to_have_count(0)
    page.get_by_label("Token", exact=True).fill("web-token-93ab")
    page.get_by_label("Token", exact=True).press("Enter")
    expect(meters.get_by_role("link", name="Meter 00000001")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("12 meters")


def test_a_fault_added_on_the_page_refuses_a_dlms_association_until_cleared(
        demo: tuple[RunningFleet, ControlPlane], page: Page) -> None:
    fleet, plane = demo
    port = fleet.port("tcp", 0)
    page.goto(plane.url + "#meter=00000001")
    expect(page.get_by_role("heading", name="Meter 00000001")).to_be_visible()
    page.get_by_label("Fault", exact=True).select_option("refuse")
    page.get_by_label("Diagnostic").fill("authentication-failure")
    page.get_by_role("button", name="Add fault").click()
    faults = page.get_by_role("list", name="Active faults")
    expect(faults).to_contain_text("refuse")
    with pytest.raises(DlmsClientException, match="REJECTED_PERMANENT.*AUTHENTICATION_FAILED"):
        read(wrapper_transport(port, 16), 16, LDN)
    page.get_by_role("button", name="Clear faults").click()
    expect(faults.get_by_role("listitem")).to_have_count(0)
    assert read(wrapper_transport(port, 16), 16, LDN) == [bytes((0x09, 11)) + b"SIM00000001"]
    expect(page.get_by_role("log", name="Recent errors")).to_contain_text("association rejected")
    # on the whole group: the electricity group's other meters refuse too, the gas meters do not
    page.get_by_label("On the whole group (electricity)").check()
    page.get_by_role("button", name="Add fault").click()
    expect(faults).to_contain_text("refuse")
    with pytest.raises(DlmsClientException, match="AUTHENTICATION_FAILED"):
        read(wrapper_transport(fleet.port("tcp", 3), 16), 16, LDN)
    assert read(wrapper_transport(fleet.port("tcp", 4), 16), 16, LDN) == [bytes((0x09, 11)) + b"SIM00000005"]
    page.get_by_role("button", name="Clear faults").click()
    expect(faults.get_by_role("listitem")).to_have_count(0)
    assert read(wrapper_transport(fleet.port("tcp", 3), 16), 16, LDN) == [bytes((0x09, 11)) + b"SIM00000004"]


@pytest.mark.parametrize("demo", ["web-token-93ab"], indirect=True)
def test_only_the_ui_files_are_served_without_the_token(demo: tuple[RunningFleet, ControlPlane]) -> None:
    _, plane = demo

    def status(path: str, method: str = "GET") -> int:
        request = urllib.request.Request(plane.url.rstrip("/") + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    for path in ("/", "/static/index.html", "/static/app.js", "/static/style.css"):
        assert status(path) == 200, path
    assert status("/static/missing.js") == 404
    assert status("/static/%2E%2E/api_web.py") in (403, 404)  # nothing outside web/
    for path in ("/api/meters", "/metrics", "/api/meters/00000001/trace"):
        assert status(path) == 401, path
    assert status("/static/app.js", "POST") in (401, 405)
