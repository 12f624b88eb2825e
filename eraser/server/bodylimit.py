"""An ASGI wrapper that refuses request bodies over a byte limit with the contract's 413.

It reads the whole body before the app sees it (at most the limit is held in memory), because an
app that is already parsing multipart cannot answer 413 cleanly half way through.
"""

from __future__ import annotations

import json

from eraser.contract import error_body

# Past the limit we keep reading (and dropping) this much more, so a client that is still
# sending gets our 413 instead of a reset connection.
DRAIN_FACTOR = 4


class BodyLimit:
    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

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
            return await _too_large(send)

        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # after the body, only a disconnect can come

        return await self.app(scope, replay, send)


async def _too_large(send):
    status, body = error_body("ERROR_REQUEST_BODY_TOO_LARGE")
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})
