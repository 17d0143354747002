"""No client data reaches the logs, including the server's access log."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from iopclinic import gunicorn
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the configured handlers write, as the server's console shows it."""
    buffer = io.StringIO()
    handlers = {
        handler
        for logger in [logging.root, *logging.root.manager.loggerDict.values()]
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler)
    }
    assert handlers, "LOGGING configures no console handler"
    previous = {handler: handler.setStream(buffer) for handler in handlers}
    yield buffer
    for handler, stream in previous.items():
        handler.setStream(stream)


def test_searching_a_client_leaves_no_name_in_any_log_line(
    client: Any, coordinator: Any, log_output: io.StringIO
) -> None:
    record = ClientFactory(
        first_name="Zebedee", last_name="Quillfeather", phone="555-0142"
    )
    client.force_login(coordinator)
    changelist = reverse("admin:intake_client_changelist")

    assert client.get(changelist, {"q": "Quillfeather"}).status_code == 200
    client.get(reverse("admin:intake_client_change", args=[record.pk]))
    client.get("/no-such-page/", {"q": "Quillfeather"})  # a 404 is logged
    # The development server's request line, as runserver logs it.
    logging.getLogger("django.server").info(
        '"%s" %s %s',
        f"GET {changelist}?q=Quillfeather&phone=555-0142 HTTP/1.1",
        "200",
        "512",
    )

    output = log_output.getvalue()
    assert f"GET {changelist} HTTP/1.1" in output, (
        "the request line itself is still logged"
    )
    assert "Not Found: /no-such-page/" in output
    for secret in ["Quillfeather", "Zebedee", "555-0142", "q="]:
        assert secret not in output, output


def test_gunicorn_access_log_omits_query_strings() -> None:
    # %(U)s is the path alone; %(r)s (request line) and %(q)s (query) would carry ?q=.
    assert "%(U)s" in gunicorn.access_log_format
    assert "%(r)s" not in gunicorn.access_log_format
    assert "%(q)s" not in gunicorn.access_log_format
