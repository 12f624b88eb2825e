import threading

import pytest

from eraser.sessions import Sessions


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_only_the_token_brings_the_value_back():
    store = Sessions(budget=1000, lifetime=60)
    token = store.new_token()
    assert len(token) >= 20 and token != store.new_token()
    store.put(token, "work", 10)
    assert store.get(token) == "work"
    assert store.get(store.new_token()) is None and store.get("") is None


def test_entries_expire_a_lifetime_after_their_last_use():
    clock = Clock()
    store = Sessions(budget=1000, lifetime=60, clock=clock)
    store.put("a", 1, 10)
    clock.now = 50
    assert store.get("a") == 1  # a use renews it
    clock.now = 100
    assert store.get("a") == 1
    clock.now = 161
    assert store.get("a") is None and store.used == 0


def test_the_byte_budget_drops_the_least_recently_used():
    store = Sessions(budget=100, lifetime=60)
    store.put("a", 1, 40)
    store.put("b", 2, 40)
    store.get("a")  # b is now the least recently used
    store.put("c", 3, 40)
    assert store.get("b") is None and store.get("a") == 1 and store.get("c") == 3
    assert store.used == 80
    assert not store.put("huge", 4, 101) and store.get("huge") is None
    store.put("a", 5, 10)  # replacing counts its new size only
    assert store.used == 50


def test_many_threads_keep_the_books_right():
    store = Sessions(budget=10_000, lifetime=60)

    def work(n):
        for i in range(200):
            store.put(f"{n}-{i % 7}", i, 13)
            store.get(f"{n}-{i % 5}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.used == 8 * 7 * 13


def test_nonsense_limits_are_refused():
    with pytest.raises(ValueError):
        Sessions(budget=-1)
    with pytest.raises(ValueError):
        Sessions(lifetime=0)
