"""What stands between the service and a hostile client: strict user ids, upload checks (size,
declared type against the bytes), and token-bucket rate limits per API key and per user id."""

import re
import threading
import time

from otemachi.core.errors import InvalidInput, RateLimited

USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_UPLOAD = 5 * 1024 * 1024  # bytes per image; a signature scan at 600 dpi is well under 1 MB
MAGIC = {  # declared content type -> how the file must start
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "image/bmp": (b"BM",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}


def user_id(text: str) -> str:
    """A user id of 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit."""
    if not USER_ID.fullmatch(text):
        raise InvalidInput(
            f"user id {text[:80]!r} is not valid: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return text


def upload(name: str, content_type: str | None, data: bytes) -> bytes:
    """The bytes of an uploaded image, if small enough and really of the declared type."""
    if not data:
        raise InvalidInput(f"{name}: the upload is empty")
    if len(data) > MAX_UPLOAD:
        raise InvalidInput(f"{name}: {len(data):,} bytes is too large (limit {MAX_UPLOAD:,})")
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in MAGIC:
        raise InvalidInput(f"{name}: content type {kind!r} is not accepted; send {list(MAGIC)}")
    if not data.startswith(MAGIC[kind]):
        raise InvalidInput(f"{name}: declared {kind}, but the bytes are not a {kind} file")
    return data


class RateLimit:
    """Token buckets: each key may make ``burst`` requests at once and ``rate`` per second after.
    In memory, per server process."""

    def __init__(self, rate: float, burst: int, what: str) -> None:
        self.rate, self.burst, self.what = rate, burst, what
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last time)
        self.lock = threading.Lock()
        self.pruned = time.monotonic()

    def take(self, key: str) -> None:
        """Spend one token of ``key``; RateLimited (with Retry-After) when none is left."""
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1:
                self.buckets[key] = (tokens, now)
                wait = (1 - tokens) / self.rate
                raise RateLimited(f"too many requests for this {self.what}; retry later", wait)
            self.buckets[key] = (tokens - 1, now)
            if now - self.pruned > 60:  # forget buckets that have refilled: they hold nothing
                full = self.burst / self.rate
                self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < full}
                self.pruned = now
