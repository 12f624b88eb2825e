"""The server's settings, read from ERASER_* environment variables and checked before anything starts."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from eraser import contract, engines
from eraser.errors import SettingsError
from eraser.pipeline import DEFAULT_GROW

MB = 2**20


# name: (environment variable, lowest, highest, what it is). Numbers outside, nan and inf are refused.
LIMITS = {
    "result_ttl": ("ERASER_RESULT_TTL", 1, 30 * 86400, "seconds"),
    "workers": ("ERASER_WORKERS", 1, 256, "erase processes"),
    "max_queue": ("ERASER_MAX_QUEUE", 0, 100_000, "waiting requests"),
    "purge_interval": ("ERASER_PURGE_INTERVAL", 0.01, 86400, "seconds"),
    "header_timeout": ("ERASER_HEADER_TIMEOUT", 0.1, 600, "seconds"),
    "body_timeout": ("ERASER_BODY_TIMEOUT", 0.1, 3600, "seconds"),
    "job_timeout": ("ERASER_JOB_TIMEOUT", 0.1, 86400, "seconds"),
    "store_mb": ("ERASER_RESULT_STORE_MB", 1, 2**30, "megabytes"),
    "upload_mb": ("ERASER_UPLOAD_MEMORY_MB", 7, 2**20, "megabytes"),  # at least one full request
    "max_connections": ("ERASER_MAX_CONNECTIONS", 8, 1_000_000, "connections"),
    "grow": ("ERASER_GROW", 0, 200, "pixels"),
}


@dataclass(frozen=True)
class Settings:
    api_keys: tuple[str, ...]  # accepted ailabapi-api-key values; never empty in a running app
    result_dir: Path = Path("results")
    result_ttl: float = contract.URL_TTL_SECONDS  # seconds a result URL works, then 404
    # Erases running at once, each in its own process. One per CPU: decoding and encoding run in the
    # same workers (bench/server_load.py: 2 workers beat 1 on a 2-CPU machine).
    workers: int = os.cpu_count() or 1
    max_queue: int = 64  # requests waiting for a worker; beyond that, 503 flow restriction
    engine: str = engines.DEFAULT
    grow: int = DEFAULT_GROW
    public_url: str = ""  # origin put into image_url (behind a proxy); default: the request's own
    purge_interval: float = 60.0
    # A connection must complete a request's headers this long after it opens (or after its last
    # answer), and send the body within body_timeout; then it is closed (slowloris).
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    job_timeout: float = 120.0  # an erase running longer has its process killed: 504
    store_mb: int = 1024  # results kept at most; when full, new work gets 503 until some expire
    upload_mb: int = 256  # request bodies held in memory at once, being received or waiting
    max_connections: int = 1000  # open connections; past it, the longest-idle one is closed

    def __post_init__(self):
        problems = []
        # Found at start-up, not as a failure of every request blamed on the client's photo.
        if self.engine not in engines.names():
            problems.append(f"ERASER_ENGINE must be one of {', '.join(engines.names())}, not {self.engine!r}.")
        for name, (variable, low, high, unit) in LIMITS.items():
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
                problems.append(f"{variable} must be a number of {unit} from {low} to {high}, not {value!r}.")
        if self.public_url:
            parts = urlsplit(self.public_url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query \
                    or parts.fragment or parts.username:
                problems.append("ERASER_PUBLIC_URL must be an origin such as https://erase.example.org, "
                                f"not {self.public_url!r}.")
        if problems:
            raise SettingsError(problems)

    @classmethod
    def from_env(cls, environ=os.environ) -> Settings:
        problems, values = [], {}
        kinds = {f.name: f.type for f in fields(cls)}
        for name, (variable, *_) in LIMITS.items():
            text = environ.get(variable, "").strip()
            if not text:
                continue
            try:
                values[name] = int(text) if kinds[name] == "int" else float(text)
            except ValueError:
                problems.append(f"{variable} must be a number, not {text!r}.")
        keys = tuple(k.strip() for k in environ.get("ERASER_API_KEYS", "").split(",") if k.strip())
        try:
            settings = cls(api_keys=keys, result_dir=Path(environ.get("ERASER_RESULT_DIR", "") or "results"),
                           engine=environ.get("ERASER_ENGINE", "") or cls.engine,
                           public_url=environ.get("ERASER_PUBLIC_URL", "").strip().rstrip("/"), **values)
        except SettingsError as error:
            problems += error.problems
        if problems:
            raise SettingsError(problems)
        return settings

    @property
    def max_active(self) -> int:
        """Erase requests admitted at once: running plus waiting."""
        return self.workers + self.max_queue
