"""Results in an S3-compatible bucket (AWS S3, MinIO, R2, Ceph RGW), shared by any number of replicas.

Nothing is kept on this machine and nothing about a result is remembered here: put() sends the
bytes from memory in one PutObject, and the client downloads them from the bucket itself through
a presigned GET URL that lasts the result's lifetime, so any replica can answer any request. The
bucket's lifecycle rule deletes old results (docs/deployment.md), so this store counts no room:
it is full only while the bucket cannot be written, and then it checks the bucket every second
(HeadBucket) until it can be, as LocalDirStore does with its directory (docs/server.md).
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
from datetime import UTC, datetime

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as NetworkError

from eraser.server.settings import S3_PREFIX
from eraser.server.storage import Reservation, Stored, StoreFailed, StoreFull, refuse_new_work

log = logging.getLogger(__name__)

# Every call ends: a connection within 5 s, no socket wait over 30 s, at most 3 attempts in all
# (botocore's standard retry mode, with its jittered backoff between them).
CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "total_max_attempts": 3},
                signature_version="s3v4")  # SigV4 presigned URLs: the only kind that can last days


class S3ResultStore:
    """Results at <prefix><token> in one bucket. Credentials and region come from boto3's usual
    chain (AWS_* variables, profile, instance or task role)."""

    def __init__(self, bucket: str, prefix: str = S3_PREFIX, endpoint_url: str = "", client=None):
        self.bucket, self.prefix = bucket, prefix
        # A session of its own: boto3's default session is not thread-safe; its clients are.
        self.client = client or boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, config=CONFIG)
        self.problem: str | None = None  # why the bucket cannot be written, until it can
        self._lock = threading.Lock()

    def check(self) -> None:
        """StoreFailed, saying why in words, unless the bucket answers HeadBucket."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as error:
            raise StoreFailed(describe(error)) from None

    def full(self) -> bool:
        return self.problem is not None

    def reservation(self, size: int) -> Reservation:
        return Reservation(self, size)

    def _hold(self, room: Reservation) -> None:
        with self._lock:
            if room.state != "new":
                raise StoreFull("the request ended before its erase began")
            if self.problem:
                raise StoreFull(self.problem)
            room.state = "held"

    def _release(self, room: Reservation) -> None:
        with self._lock:
            room.state = "done"

    def put(self, data: bytes, media_type: str, expires_at: float, room: Reservation | None = None) -> str:
        if room is not None:
            room.release()  # nothing was counted: the bucket's lifecycle rule bounds it
        if self.problem:
            raise StoreFull(self.problem)
        token = secrets.token_urlsafe(32)
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + token, Body=data, ContentType=media_type,
                                   Expires=datetime.fromtimestamp(expires_at, UTC))
        except (BotoCoreError, ClientError) as error:
            problem = self._broken(describe(error))
            if transient(error):
                raise StoreFull(problem) from None
            raise StoreFailed(problem) from None
        return token

    def url(self, token: str, seconds: float) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.prefix + token}, ExpiresIn=math.ceil(seconds))

    def get(self, token: str, now: float) -> Stored | None:
        return None  # the client fetches results from the bucket, through url()

    def purge(self, now: float) -> int:
        return 0  # the bucket's lifecycle rule deletes results; listing it from every replica would not scale

    def _broken(self, why: str) -> str:
        return refuse_new_work(self, f"the bucket cannot be written ({why})")

    def recheck(self) -> None:
        if self.problem is None:
            return
        try:
            self.check()
        except StoreFailed:
            return
        with self._lock:
            self.problem = None
        log.info("the bucket can be written again: taking new work")


def transient(error: Exception) -> bool:
    """True when trying again later may work: the network, a timeout, the store busy or failing."""
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return status >= 500 or status in (408, 429)
    return isinstance(error, (NetworkError, HTTPClientError))


def describe(error: Exception) -> str:
    """What went wrong, from the error's class and S3's code only: never the message, which could
    echo what was sent."""
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile or role"
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))[:64]
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("404", "NoSuchBucket"):
            return "no such bucket"
        if status == 403:
            return "access denied" if code in ("", "403") else f"access denied: {code}"
        return f"HTTP {status} {code}".strip()
    if isinstance(error, (ConnectTimeoutError, ReadTimeoutError)):
        return "no answer in time"
    if isinstance(error, (NetworkError, HTTPClientError)):
        return "cannot connect"
    return type(error).__name__
