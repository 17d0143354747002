"""Logging filters that keep client data out of every log line."""

import logging
import re

# A path followed by a query string, inside a request line
# ("GET /admin/?q=Smith HTTP/1.1") or a full URL. The admin's search and filters put
# names and dates of birth in the query.
QUERY_STRING = re.compile(r"(?P<path>/[^\s?\"']*)\?[^\s\"']*")


class DropQueryStrings(logging.Filter):
    """Rewrite each record so any URL in it keeps its path and loses its query
    string."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = QUERY_STRING.sub(r"\g<path>", message)
        if cleaned != message:
            record.msg = cleaned
            record.args = ()
        return True
