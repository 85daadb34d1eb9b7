"""Settings of the django-cqrs peer process: ``dj_cqrs`` installed, ``CQRS = {...}`` as its
users write it, a SQLite file of its own (``CQRS_PEER_DB``)."""

from __future__ import annotations

import os

SECRET_KEY = "interop-peer"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "dj_cqrs",
    "tests.toolkit.cqrs.interop.peer",
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["CQRS_PEER_DB"]}
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CQRS = {
    "transport": "dj_cqrs.transport.RabbitMQTransport",
    "url": os.environ["CQRS_PEER_URL"],
    "exchange": os.environ["CQRS_PEER_EXCHANGE"],
    "queue": os.environ["CQRS_PEER_QUEUE"],
    "master": {"CQRS_AUTO_UPDATE_FIELDS": False, "CQRS_MESSAGE_TTL": 86400},
    "replica": {"CQRS_MAX_RETRIES": 3, "CQRS_RETRY_DELAY": 1},
}
LOGGING = {
    "version": 1,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django-cqrs": {"handlers": ["stderr"], "level": "WARNING"}},
}
