"""gunicorn settings for `make serve` (gunicorn -c python:iopclinic.gunicorn)."""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# %(U)s is the path without its query string: the admin's search puts names in ?q=.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
accesslog = "-"
errorlog = "-"
