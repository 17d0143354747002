"""run_bench takes the reports to time from ``iopclinic.reports.REPORTS`` when the
reports exist, and says so when they do not."""

from __future__ import annotations

import datetime
import sys
import types
from typing import Any

import pytest
from django.urls import reverse

from iopclinic.benchmark.pages import last_full_month, querystring, report_pages


@pytest.fixture
def records() -> Any:
    return types.SimpleNamespace(
        program=types.SimpleNamespace(pk=7), track=types.SimpleNamespace(pk=21)
    )


def test_without_a_registry_the_reports_are_skipped(
    records: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "iopclinic.reports", types.ModuleType("empty"))
    pages, note = report_pages(records)
    assert pages == []
    assert "no REPORTS registry" in note


def test_each_report_with_its_defaults_and_one_program_one_month(
    records: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Census:
        url_name = "admin:index"
        title = "Census"
        default_query = ""
        month_query = "program={program}&month={month}"

    registry = types.ModuleType("iopclinic.reports")
    registry.REPORTS = [  # type: ignore[attr-defined]
        Census,
        {
            "url_name": "admin:index",
            "name": "Outcomes",
            "default_query": {"period": "quarter"},
            "month_query": lambda **v: {"track": v["track"], "from": v["start"]},
        },
    ]
    monkeypatch.setitem(sys.modules, "iopclinic.reports", registry)

    pages, note = report_pages(records)

    start, _ = last_full_month(datetime.date.today())
    index = reverse("admin:index")
    assert note == ""
    assert [(page.label, page.url) for page in pages] == [
        ("Census: default filters (program manager)", index),
        (
            "Census: one program, one month (program manager)",
            f"{index}?program=7&month={start:%Y-%m}",
        ),
        ("Outcomes: default filters (program manager)", f"{index}?period=quarter"),
        (
            "Outcomes: one program, one month (program manager)",
            f"{index}?track=21&from={start.isoformat()}",
        ),
    ]
    assert {page.user for page in pages} == {"manager"}


def test_querystrings() -> None:
    values = {"program": 3, "month": "2026-10"}
    assert querystring(None, values) is None
    assert querystring("?p={program}", values) == "p=3"
    assert querystring({"m": "{month}"}, values) == "m=2026-10"
    assert last_full_month(datetime.date(2026, 3, 15)) == (
        datetime.date(2026, 2, 1),
        datetime.date(2026, 2, 28),
    )
