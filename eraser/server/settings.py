"""The server's settings, read from ERASER_* environment variables and checked before anything starts."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from eraser import contract, engines
from eraser.errors import SettingsError
from eraser.pipeline import DEFAULT_GROW

MB = 2**20
S3_MAX_TTL = 7 * 86400  # the longest a SigV4 presigned URL can be valid
S3_PREFIX = "results/"
# What boto3 itself accepts as a bucket name (S3 proper is stricter; other stores are not).
_BUCKET = re.compile(r"[A-Za-z0-9._-]{1,255}")
# Key segments in S3's "safe characters", each followed by a slash; no "." or ".." segments.
_PREFIX = re.compile(r"(?:(?!\.{1,2}/)[A-Za-z0-9!_.*'()-]+/){1,32}")


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
    # Results in this S3-compatible bucket (eraser/server/s3store.py) instead of result_dir, so that
    # several replicas can share them; image_url is then a presigned URL into the bucket.
    s3_bucket: str = ""
    s3_endpoint_url: str = ""  # for stores other than AWS (MinIO, R2, Ceph RGW); "" for AWS
    s3_prefix: str = S3_PREFIX  # where in the bucket results go, ending in "/"

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
        problems += self._s3_problems()
        if problems:
            raise SettingsError(problems)

    def _s3_problems(self) -> list[str]:
        problems = []
        if not self.s3_bucket:
            # Without the bucket these would be silently ignored and results kept on local disk.
            if self.s3_endpoint_url:
                problems.append("ERASER_S3_ENDPOINT_URL is set but ERASER_S3_BUCKET is not: set the bucket too, "
                                "or unset ERASER_S3_ENDPOINT_URL.")
            if self.s3_prefix != S3_PREFIX:
                problems.append("ERASER_S3_PREFIX is set but ERASER_S3_BUCKET is not: set the bucket too, "
                                "or unset ERASER_S3_PREFIX.")
            return problems
        if not _BUCKET.fullmatch(self.s3_bucket):
            problems.append("ERASER_S3_BUCKET must be a bucket name (letters, digits, '.', '-' and '_'), "
                            f"not {self.s3_bucket!r}.")
        if self.s3_endpoint_url:
            problems += _endpoint_problems(self.s3_endpoint_url)
        if not _PREFIX.fullmatch(self.s3_prefix):
            problems.append("ERASER_S3_PREFIX must be a key prefix such as results/ or eraser/results/ "
                            f"(letters, digits and !-_.*'() between slashes), not {self.s3_prefix!r}.")
        if isinstance(self.result_ttl, (int, float)) and self.result_ttl > S3_MAX_TTL:
            problems.append(f"ERASER_RESULT_TTL must be at most {S3_MAX_TTL} seconds (7 days) with ERASER_S3_BUCKET, "
                            f"the longest a presigned URL lasts, not {self.result_ttl!r}.")
        return problems

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
        prefix = environ.get("ERASER_S3_PREFIX", "").strip().strip("/")
        try:
            settings = cls(api_keys=keys, result_dir=Path(environ.get("ERASER_RESULT_DIR", "") or "results"),
                           engine=environ.get("ERASER_ENGINE", "") or cls.engine,
                           public_url=environ.get("ERASER_PUBLIC_URL", "").strip().rstrip("/"),
                           s3_bucket=environ.get("ERASER_S3_BUCKET", "").strip(),
                           s3_endpoint_url=environ.get("ERASER_S3_ENDPOINT_URL", "").strip().rstrip("/"),
                           s3_prefix=f"{prefix}/" if prefix else S3_PREFIX, **values)
        except SettingsError as error:
            problems += error.problems
        if problems:
            raise SettingsError(problems)
        return settings

    @property
    def max_active(self) -> int:
        """Erase requests admitted at once: running plus waiting."""
        return self.workers + self.max_queue


def _endpoint_problems(url: str) -> list[str]:
    parts = urlsplit(url)
    if "@" in parts.netloc:  # never echoed: what precedes the @ may be a secret
        return [("ERASER_S3_ENDPOINT_URL must not hold a user name or password: give the credentials in "
                 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.")]
    try:
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number from 0 to 65535)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.path not in ("", "/") or parts.query or parts.fragment:
        return [f"ERASER_S3_ENDPOINT_URL must be an origin such as https://minio.example.org:9000, not {url!r}."]
    return []
