"""The door of the erase endpoint, as an ASGI wrapper: what a request may cost is decided from its
headers, before a byte of its body is read.

In order: a wrong key gets 401 (nothing else matters without a key); a declared body over the
limit gets 413; a server already holding its share of requests or of upload memory, or whose
result store could not keep a typical result now, gets 503 flow restriction (retryable). Only
then is the body read, within body_timeout (else 408), at most max_body bytes (else 413), and
handed to the app in one piece.
The body's bytes stay reserved until the answer is sent, so bodies being received or waiting for
a worker never hold more than memory_budget in all. Every refusal is the contract's JSON
envelope, with Connection: close, since the unread body is still on the wire.

This sits below FastAPI because FastAPI reads the whole multipart body before any route code runs.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from eraser import contract


@dataclass
class Load:
    active: int = 0  # admitted erase requests, from admission to answer
    held: int = 0  # body bytes reserved by them


class Gate:
    def __init__(self, app, *, load: Load, key_ok, max_body: int, body_timeout: float, memory_budget: int,
                 max_active: int, store_full):
        self.app = app
        self.load = load
        self.key_ok = key_ok  # key_ok(header value or None) -> bool
        self.max_body, self.body_timeout = max_body, body_timeout
        self.memory_budget, self.max_active = memory_budget, max_active
        self.store_full = store_full  # () -> bool

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != contract.PATH or scope["method"] != "POST":
            return await self.app(scope, receive, send)  # no other route reads a body
        headers = dict(scope["headers"])
        key = headers.get(contract.KEY_HEADER.encode())
        if not self.key_ok(key.decode("latin-1") if key is not None else None):
            return await refuse(send, "ERROR_USER_NOT_EXISTS")
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            return await refuse(send, "ERROR_REQUEST_BODY_TOO_LARGE")
        reserve = int(declared) if declared.isdigit() else self.max_body
        load = self.load
        if load.active >= self.max_active or load.held + reserve > self.memory_budget or self.store_full():
            return await refuse(send, "AI_SERVICE_FLOW_RESTRICTION", retry_after=1)
        load.active += 1
        load.held += reserve
        try:
            try:
                async with asyncio.timeout(self.body_timeout):
                    body = await self._read(receive, min(reserve, self.max_body))
            except TimeoutError:
                return await refuse(send, "REQUEST_TIMEOUT")
            if body is None:  # the client went away
                return None
            if isinstance(body, str):
                return await refuse(send, body)
            replay = _replay(body, receive)
            del body  # the app's parser holds the only reference, and drops it once parsed
            return await self.app(scope, replay, send)
        finally:
            load.active -= 1
            load.held -= reserve

    @staticmethod
    async def _read(receive, limit: int) -> bytes | str | None:
        """The body; a refusal code when over limit; None on disconnect."""
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                return "ERROR_REQUEST_BODY_TOO_LARGE"
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive):
    """A receive() that gives the body once, then passes on (only a disconnect can follow)."""
    pending = [body]

    async def replay():
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        return await receive()

    return replay


async def refuse(send, code: str, retry_after: int | None = None) -> None:
    status, body = contract.error_body(code)
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
               (b"connection", b"close")]
    if retry_after:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
