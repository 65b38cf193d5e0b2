"""What `spin-detect serve` runs with: where the model and index are, who may call, and the limits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from detector.api import DEFAULT_MAX_CHARS
from detector.errors import InputError

__all__ = ["Limits", "ServeSettings", "TOKEN_ENV", "LOCAL_HOST", "read_token"]

TOKEN_ENV = "SPIN_DETECTOR_TOKEN"
LOCAL_HOST = "127.0.0.1"
ANY_HOST = "0.0.0.0"


@dataclass(frozen=True)
class Limits:
    """Request limits; each one exceeded is answered with a 4xx JSON error naming it.

    ``max_chars`` is the library's article limit (`detector.api.DEFAULT_MAX_CHARS`).
    """

    max_body_bytes: int = 10_000_000
    max_batch_articles: int = 32
    max_sentences: int = 512
    max_chars: int = DEFAULT_MAX_CHARS
    request_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch_articles", "max_sentences", "max_chars"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"limit {name}={value!r} must be a whole number >= 1")
        if not self.request_timeout_s > 0:
            raise InputError(f"request_timeout_s={self.request_timeout_s!r} must be a positive number of seconds")


@dataclass(frozen=True)
class ServeSettings:
    """The service: index folder, model folder (None: `Detector.load`'s default), precision, whether
    sources may be added and removed, the bearer token (None: no token), the micro-batch window and
    the limits. ``host`` None binds to all interfaces with a token and to localhost without one."""

    index: str | Path
    model: str | Path | None = None
    precision: str = "fp32"
    writable: bool = False
    token: str | None = None
    host: str | None = None
    port: int = 8000
    batch_wait_ms: float = 5.0
    batch_articles: int = 32
    limits: Limits = field(default_factory=Limits)

    @property
    def bind_host(self) -> str:
        """The interface the server listens on."""
        if self.host is not None:
            return self.host
        return ANY_HOST if self.token else LOCAL_HOST


def read_token(token_file: str | Path | None) -> str | None:
    """The bearer token from ``token_file``, else from $SPIN_DETECTOR_TOKEN, else None."""
    if token_file is not None:
        path = Path(token_file)
        if not path.is_file():
            raise InputError(f"no token file at {str(path)!r}: give a file holding the bearer token on one line")
        token = path.read_text(encoding="utf-8").strip()
        if not token:
            raise InputError(f"the token file {str(path)!r} is empty: write the bearer token into it")
        return token
    return os.environ.get(TOKEN_ENV, "").strip() or None
