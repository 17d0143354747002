"""run_bench times every registered report, with its default filters and with one
program over one month, as a program manager."""

from __future__ import annotations

import types
from typing import Any

from django.urls import reverse

from iopclinic.benchmark.pages import report_pages
from iopclinic.reports import REPORTS


def test_each_report_with_its_defaults_and_one_program_one_month() -> None:
    records: Any = types.SimpleNamespace(program=types.SimpleNamespace(pk=7))

    pages, note = report_pages(records)

    assert note == ""
    assert len(pages) == 2 * len(REPORTS) >= 8
    for report, (default, narrow) in zip(
        REPORTS, zip(pages[::2], pages[1::2], strict=True), strict=True
    ):
        url = reverse(report.url_name())
        assert default.url == url
        assert narrow.url.startswith(f"{url}?") and "program=7" in narrow.url
        assert {default.user, narrow.user} == {"manager"}
        assert default.kind == narrow.kind == "report"
