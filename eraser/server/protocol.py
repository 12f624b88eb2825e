"""uvicorn's h11 protocol with the three things it lacks against idle and slow clients.

- A header deadline: a connection must complete a request's headers within header_timeout of
  opening, or of its previous answer. uvicorn's keep-alive timer stops at the first byte, so a
  client sending one header byte at a time would otherwise keep its connection forever.
- A connection cap that never locks anyone out: past max_connections, the connection that has
  waited longest for headers is closed to make room, not the newcomer (uvicorn's
  limit_concurrency answers a plain-text 503 to everyone instead, and lets idle sockets keep
  their slots).
- Its own 400 for malformed HTTP is plain text; here it is the contract's envelope.
- A lingering close. The Gate answers a refusal (wrong key, too large, busy) without reading
  the body, and the connection is then closed while the client is still sending it; a socket
  closed with unread data sends a reset, which can destroy the answer before the client reads
  it. So a connection closed after an answer first only stops sending (FIN), discards what
  still arrives for up to LINGER_SECONDS or LINGER_BYTES, and then closes, as nginx does. The
  discarded bytes cost reading, not memory.

Bodies are the Gate's business (eraser.server.gate): it knows the endpoint and the key.
"""

from __future__ import annotations

import json
import time

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from eraser import contract

LINGER_SECONDS = 2.0
LINGER_BYTES = 8 * 2**20  # more than a full request body


class _LingeringTransport:
    """The connection's transport, whose close() half-closes and lingers (see above)."""

    def __init__(self, transport, loop):
        self._transport, self._loop = transport, loop
        self.lingering, self.discarded = False, 0

    def close(self) -> None:
        if self.lingering or self._transport.is_closing():
            return
        if not self._transport.can_write_eof():
            return self._transport.close()
        self.lingering = True
        self._transport.write_eof()  # after the answer still in the write buffer
        self._transport.resume_reading()  # flow control may have paused it
        self._loop.call_later(LINGER_SECONDS, self._transport.close)

    def abort(self) -> None:
        """Close now: nothing was answered, so nothing can be lost."""
        self._transport.close()

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def __getattr__(self, name):
        return getattr(self._transport, name)


def guarded_h11(header_timeout: float, max_connections: int) -> type[H11Protocol]:
    """The protocol class to give uvicorn.Config(http=...)."""

    class GuardedH11Protocol(H11Protocol):
        _header_timer = None
        waiting_since: float | None = None  # monotonic time it began waiting for headers; None: busy

        def connection_made(self, transport):
            super().connection_made(_LingeringTransport(transport, self.loop))
            self._wait_for_headers()
            if len(self.connections) > max_connections:
                waiting = [c for c in self.connections
                           if getattr(c, "waiting_since", None) is not None and c is not self]
                oldest = min(waiting, key=lambda c: c.waiting_since, default=self)
                oldest._close_idle()

        def data_received(self, data):
            if self.transport.lingering:  # the answer is out: what comes now is discarded
                self.transport.discarded += len(data)
                if self.transport.discarded > LINGER_BYTES:
                    self.transport.abort()
                return
            cycle = self.cycle
            super().data_received(data)
            if self.cycle is not cycle:  # a request's headers are complete
                self._stop_timer()

        def on_response_complete(self):
            cycle = self.cycle
            super().on_response_complete()
            if self.cycle is cycle and not self.transport.is_closing():  # no pipelined request began
                self._wait_for_headers()

        def connection_lost(self, exc):
            self._stop_timer()
            super().connection_lost(exc)

        def send_400_response(self, msg: str):
            status, body = contract.error_body("ERROR_PARAMETERS")
            payload = json.dumps(body).encode()
            headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
            try:
                for event in (h11.Response(status_code=status, headers=headers), h11.Data(data=payload),
                              h11.EndOfMessage()):
                    self.transport.write(self.conn.send(event))
            except h11.LocalProtocolError:  # h11 cannot answer in this state: just close
                pass
            self.transport.close()

        def _wait_for_headers(self):
            self._stop_timer()
            self.waiting_since = time.monotonic()
            self._header_timer = self.loop.call_later(header_timeout, self._close_idle)

        def _stop_timer(self):
            self.waiting_since = None
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _close_idle(self):
            self._stop_timer()
            if not self.transport.is_closing():
                self.transport.abort()

    return GuardedH11Protocol
