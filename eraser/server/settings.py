"""The server's settings, read from ERASER_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from eraser import contract, engines
from eraser.pipeline import DEFAULT_GROW


@dataclass(frozen=True)
class Settings:
    api_keys: tuple[str, ...]  # accepted ailabapi-api-key values; never empty in a running app
    result_dir: Path = Path("results")
    result_ttl: float = contract.URL_TTL_SECONDS  # seconds a result URL works, then 404
    # Erases running at once. One per CPU: decoding and encoding run in the same workers, the event
    # loop itself does little (bench/server_load.py: 2 workers beat 1 on a 2-CPU machine).
    workers: int = os.cpu_count() or 1
    max_queue: int = 64  # requests waiting for a worker; beyond that, 503 flow restriction
    engine: str = engines.DEFAULT
    grow: int = DEFAULT_GROW
    public_url: str = ""  # origin put into image_url (behind a proxy); default: the request's own
    purge_interval: float = 60.0

    def __post_init__(self):
        # Found at start-up, not as a failure of every request blamed on the client's photo.
        if self.engine not in engines.names():
            raise ValueError(f"ERASER_ENGINE must be one of {', '.join(engines.names())}, not {self.engine!r}.")

    @classmethod
    def from_env(cls, environ=os.environ) -> "Settings":
        def number(name, default, kind):
            value = environ.get(name, "").strip()
            try:
                return kind(value) if value else default
            except ValueError:
                raise ValueError(f"{name} must be a number, not {value!r}.") from None

        keys = tuple(k.strip() for k in environ.get("ERASER_API_KEYS", "").split(",") if k.strip())
        return cls(
            api_keys=keys,
            result_dir=Path(environ.get("ERASER_RESULT_DIR", "") or "results"),
            result_ttl=number("ERASER_RESULT_TTL", cls.result_ttl, float),
            workers=number("ERASER_WORKERS", cls.workers, int),
            max_queue=number("ERASER_MAX_QUEUE", cls.max_queue, int),
            engine=environ.get("ERASER_ENGINE", "") or cls.engine,
            public_url=environ.get("ERASER_PUBLIC_URL", "").rstrip("/"),
        )
