"""Structured logs: JSON lines for machines, one short line for people, never a secret.

Every process of the platform (the CLI, the writer, the API and uvicorn's loggers) logs
through one handler on the root logger, set up by `configure`. A JSON line carries ``ts``,
``level``, ``logger`` and ``msg``, plus the context fields a call passes in ``extra``
(``CONTEXT``: job, feature group, version, entity, ...). Secrets are masked before a record
is formatted: passwords in URLs, ``password=``/``sasl.password=``/``api_key=``-style
assignments, and the literal secrets the process knows (its API keys).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from flink_jobs.settings import Settings

# Context fields a record may carry (``log.info(..., extra={"group": "user_activity"})``).
CONTEXT = ("job", "group", "version", "entity", "topic", "partition", "offset", "route", "status")
MASK = "***"
URL_PASSWORD = re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@", re.IGNORECASE)
ASSIGNED_SECRET = re.compile(
    r"(?P<keep>\b(?:[a-z0-9_.-]*password|passwd|secret|token|api[_-]?keys?|x-api-key)"
    r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&}]+",
    re.IGNORECASE,
)
QUIET = ("httpx", "httpx2")  # one INFO line per HTTP request
UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


class Redactor:
    """Masks secrets in text: by pattern, and the literal values it was given."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so that a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = URL_PASSWORD.sub(rf"\g<keep>{MASK}@", text)
        text = ASSIGNED_SECRET.sub(rf"\g<keep>{MASK}", text)
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text


class _Formatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        """The record as redacted fields: msg, the context it carries, and its exception."""
        out: dict[str, Any] = {"msg": self.redact(record.getMessage())}
        for name in CONTEXT:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = self.redact(value) if isinstance(value, str) else value
        if record.exc_info:
            out["exc"] = self.redact(self.formatException(record.exc_info))
        return out


class JsonFormatter(_Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        head = {"ts": ts.replace("+00:00", "Z"), "level": record.levelname.lower()}
        return json.dumps({**head, "logger": record.name, **self.fields(record)}, default=str)


class TextFormatter(_Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = self.fields(record)
        exc = fields.pop("exc", None)
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S.%f")[:-3]
        line = f"{ts} {record.levelname:7} {record.name}: {fields.pop('msg')}"
        context = " ".join(f"{k}={v}" for k, v in fields.items())
        line = f"{line}  [{context}]" if context else line
        return f"{line}\n{exc}" if exc else line


def formatter(fmt: str, stream: TextIO, secrets: Iterable[str] = ()) -> logging.Formatter:
    """`fmt` json, text, or auto: text when `stream` is a terminal, JSON lines otherwise."""
    if fmt == "auto":
        fmt = "text" if stream.isatty() else "json"
    redact = Redactor(secrets)
    return TextFormatter(redact) if fmt == "text" else JsonFormatter(redact)


def configure(
    fmt: str, secrets: Iterable[str] = (), level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Route every logger of this process through one handler in format `fmt` (idempotent)."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(fmt, stream, secrets))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in UVICORN:  # uvicorn's own handlers would print a second, unstructured line
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def configure_process(settings: Settings) -> None:
    """Logs of a platform process: in its configured format, its credentials masked."""
    configure(settings.log_format, secrets=settings.secrets())
