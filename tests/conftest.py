"""Shared test helpers, and CI's rule: with COSEM_SIM_NO_SKIP=1 (set by .ci/run) a skip is a failure.

Tests that need a tool skip without it (the serial tests need socat); on a developer's machine
that is a convenience, in CI it would hide 18 untested transports.
"""

from __future__ import annotations

import os
from typing import Any, Generator

import pytest

NO_SKIP = "COSEM_SIM_NO_SKIP"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get(NO_SKIP) == "1" and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, and {NO_SKIP}=1 (CI) allows no skip: {reason}"
