"""A program manager opens each report in Chromium: charts drawn under the site's
Content-Security-Policy with no violation, their numbers in a table, the CSV export."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import Group

from iopclinic import roles
from iopclinic.reports import REPORTS
from iopclinic.reports.rollups import refresh_rollups
from tests.factories import EnrollmentFactory, TrackFactory

from .test_browser import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_reads_each_report_and_exports_it(
    page: Any, live_server: Any, django_user_model: Any, console_errors: list[str]
) -> None:
    roles.sync_roles()
    manager = django_user_model.objects.create_user(
        "manager", password=PASSWORD, is_staff=True
    )
    manager.groups.add(Group.objects.get(name=roles.PROGRAM_MANAGER))
    track = TrackFactory(capacity=12)
    today = datetime.date.today()
    for n in range(6):
        EnrollmentFactory(track=track, admitted_on=today - datetime.timedelta(200 + n))
    refresh_rollups()

    sign_in(page, live_server, "manager")
    for report in REPORTS:
        page.click("#content-main >> text=Reports")
        page.click(f"#content-main >> text={report.title}")
        page.wait_for_selector("svg.chart")
        assert page.locator("svg.chart").first.is_visible()
        # Every chart's numbers are in a table: under it, or one it names.
        charts = page.locator("figure.report-chart")
        for n in range(charts.count()):
            figure = charts.nth(n)
            if figure.locator("table.report-chart-data").count() == 0:
                named = figure.locator("p.help").inner_text().split('"')[1]
                assert page.locator(f"caption:text-is('{named}')").count() == 1
        with page.expect_download() as download:
            page.click("#export-csv")
        assert download.value.suggested_filename.startswith(report.slug)
        page.goto(f"{live_server.url}/admin/")
    assert console_errors == []
