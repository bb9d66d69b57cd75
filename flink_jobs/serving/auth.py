"""API-key auth of the feature routes: header ``X-API-Key``, keys from ``SPORTSFEAT_API_KEYS``."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Security
from fastapi.security import APIKeyHeader

from flink_jobs.errors import UserError
from flink_jobs.serving import API_KEY_HEADER
from flink_jobs.settings import Settings

ENVIRONMENTS = ("dev", "prod")
_header = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="One of SPORTSFEAT_API_KEYS."
)


def api_keys(settings: Settings) -> tuple[bytes, ...]:
    """The accepted keys (none = auth off); prod refuses to run without any."""
    if settings.environment not in ENVIRONMENTS:
        choices = " or ".join(ENVIRONMENTS)
        raise UserError(f"SPORTSFEAT_ENVIRONMENT={settings.environment!r}: use {choices}")
    keys = tuple(k.strip().encode() for k in settings.api_keys.split(",") if k.strip())
    if not keys and settings.environment == "prod":
        raise UserError(
            "the feature API refuses to run in prod without API keys: "
            "set SPORTSFEAT_API_KEYS to a comma-separated list of keys"
        )
    return keys


def require_key(keys: tuple[bytes, ...]) -> Callable[[str | None], Awaitable[None]]:
    """A dependency that lets a request through only with one of `keys` (any, when none)."""

    async def check(given: str | None = Security(_header)) -> None:
        if not keys:
            return
        if given is None:
            raise HTTPException(401, f"missing {API_KEY_HEADER} header: send one of the API keys")
        candidate = given.encode()
        matched = False
        for key in keys:  # every key compared in constant time, none skipped
            matched |= hmac.compare_digest(candidate, key)
        if not matched:
            raise HTTPException(401, f"invalid API key in {API_KEY_HEADER}")

    return check
