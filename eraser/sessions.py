"""A bounded, expiring store of work by random token, so a page reload can bring it back.

    store = Sessions()
    token = store.new_token()          # goes in the page's URL
    store.put(token, value, nbytes)    # after each change
    store.get(token)                   # after a reload: the value, or None

Only the holder of a token gets its value: tokens are 128 random bits. The store keeps at most
`budget` bytes in all (the least recently used go first) and forgets each entry `lifetime`
seconds after its last use. Thread-safe: every server thread shares one store."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

BUDGET = 256 * 2**20  # bytes for everyone's kept work, all sessions together
LIFETIME = 60 * 60.0  # seconds after the last use


class Sessions:
    def __init__(self, budget: int = BUDGET, lifetime: float = LIFETIME, clock=time.monotonic):
        if budget < 0 or lifetime <= 0:
            raise ValueError("budget must not be negative and lifetime must be positive")
        self.budget, self.lifetime, self._clock = budget, lifetime, clock
        self._entries: OrderedDict[str, tuple[Any, int, float]] = OrderedDict()  # oldest use first
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(16)

    def put(self, token: str, value: Any, nbytes: int) -> bool:
        """Keep `value` (about `nbytes` in memory) under `token`; False when it alone is over budget."""
        with self._lock:
            self._drop(token)
            if nbytes > self.budget:
                return False
            self._entries[token] = (value, nbytes, self._clock())
            self._bytes += nbytes
            self._expire()
            while self._bytes > self.budget:  # least recently used first
                self._drop(next(iter(self._entries)))
            return True

    def get(self, token: str) -> Any | None:
        with self._lock:
            self._expire()
            entry = self._entries.get(token)
            if entry is None:
                return None
            value, nbytes, _ = entry
            self._entries[token] = (value, nbytes, self._clock())
            self._entries.move_to_end(token)
            return value

    def forget(self, token: str) -> None:
        with self._lock:
            self._drop(token)

    @property
    def used(self) -> int:
        with self._lock:
            return self._bytes

    def _drop(self, token: str) -> None:
        entry = self._entries.pop(token, None)
        if entry is not None:
            self._bytes -= entry[1]

    def _expire(self) -> None:
        now = self._clock()
        while self._entries:
            token, (_, _, used) = next(iter(self._entries.items()))
            if now - used <= self.lifetime:
                break
            self._drop(token)
