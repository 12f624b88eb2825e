"""An S3-speaking server on 127.0.0.1 for the replica tests: moto's (from PyPI), behind S3's own
rules for presigned URLs, which moto 5 does not enforce: a URL must carry a valid SigV4 query
signature made with the test's credentials, and is refused with 403 once X-Amz-Expires seconds
have passed since X-Amz-Date, by a clock the test can move."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from tests.support import free_port

# Dummy credentials, distinctive so that a leak is found by grep; region as the tests set it.
ACCESS_KEY = "AKIATESTREPLICA0001"
SECRET_KEY = "s3-secret-7d1e9b4c2a-never-shown"
REGION = "us-east-1"
AWS_ENV = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": REGION,
           "AWS_REGION": REGION, "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
           "AWS_EC2_METADATA_DISABLED": "true"}
MAX_EXPIRES = 7 * 86400


class PresignRules:
    """WSGI middleware in front of moto: S3's answers to a presigned GET that is forged, expired,
    or asks for more than a week."""

    def __init__(self, app):
        self.app = app
        self.offset = 0.0  # seconds the store's clock is ahead of the real one

    def __call__(self, environ, start_response):
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        fields = dict(query)
        if "X-Amz-Signature" not in fields:
            return self.app(environ, start_response)  # the tests' own signed-header calls
        signed_at = datetime.strptime(fields["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        lifetime = int(fields["X-Amz-Expires"])
        if lifetime > MAX_EXPIRES:
            return _error(start_response, "400 Bad Request", "AuthorizationQueryParametersError",
                          "X-Amz-Expires must be less than a week (in seconds) that is 604800")
        if fields["X-Amz-Signature"] != _signature(environ, query, fields):
            return _error(start_response, "403 Forbidden", "SignatureDoesNotMatch", "The signature does not match")
        if time.time() + self.offset > signed_at.timestamp() + lifetime:
            return _error(start_response, "403 Forbidden", "AccessDenied", "Request has expired")
        return self.app(environ, start_response)


def _signature(environ, query, fields) -> str:
    """SigV4 for a query-signed request with only the host header signed (as boto3 presigns)."""
    path = environ.get("RAW_URI", environ["PATH_INFO"]).split("?", 1)[0]
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                               for k, v in sorted(query) if k != "X-Amz-Signature")
    request = "\n".join(["GET", path, canonical_query, f"host:{environ['HTTP_HOST']}", "", "host", "UNSIGNED-PAYLOAD"])
    access_key, day, region, service, end = fields["X-Amz-Credential"].split("/")
    if access_key != ACCESS_KEY:
        return ""
    scope = "/".join([day, region, service, end])
    text = "\n".join(["AWS4-HMAC-SHA256", fields["X-Amz-Date"], scope, hashlib.sha256(request.encode()).hexdigest()])
    key = ("AWS4" + SECRET_KEY).encode()
    for part in (day, region, service, end):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _error(start_response, status: str, code: str, message: str):
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body.encode()]


class _Quiet(MotoRequestHandler):
    def log_request(self, *args) -> None:  # one line a request on stderr otherwise
        pass


class S3Double:
    """moto's S3 behind PresignRules on 127.0.0.1; stop() and start() again on the same port
    simulate an outage (moto's buckets live in this process, so they survive it)."""

    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.rules = PresignRules(DomainDispatcherApplication(create_backend_app))
        self._server = None

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self.rules, threaded=True, request_handler=_Quiet)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def advance(self, seconds: float) -> None:
        self.rules.offset += seconds
