"""An ASGI wrapper that refuses request bodies over a byte limit with the contract's 413
(401 when the key is wrong too: without a key, nothing else matters).

It reads the whole body before the app sees it (at most the limit is held in memory), because an
app that is already parsing multipart cannot answer 413 cleanly half way through.
"""

from __future__ import annotations

import json

from eraser.contract import KEY_HEADER, error_body

# Past the limit we keep reading (and dropping) this much more, so a client that is still
# sending gets our 413 instead of a reset connection.
DRAIN_FACTOR = 4


class BodyLimit:
    def __init__(self, app, max_bytes: int, key_ok):
        self.app = app
        self.max_bytes = max_bytes
        self.key_ok = key_ok  # key_ok(header value or None) -> bool

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        chunks, total, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            more = message.get("more_body", False)
            total += len(body)
            if total <= self.max_bytes:
                chunks.append(body)
            elif total > self.max_bytes * DRAIN_FACTOR:
                break
        if total > self.max_bytes:
            headers = dict(scope["headers"])
            key = headers.get(KEY_HEADER.encode())
            code = "ERROR_REQUEST_BODY_TOO_LARGE" if self.key_ok(key and key.decode("latin-1")) else "ERROR_USER_NOT_EXISTS"
            return await _refuse(send, code)

        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # after the body, only a disconnect can come

        return await self.app(scope, replay, send)


async def _refuse(send, code: str):
    status, body = error_body(code)
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})
