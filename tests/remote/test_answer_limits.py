"""Every read of a remote answer has a byte cap (after decompression) and the call's deadline;
anything malformed is a RemoteError with a message, and a server echoing the key gets it blanked."""

from __future__ import annotations

import gzip
import json
import logging
import time
import tracemalloc

import pytest

from eraser import contract
from eraser.errors import RemoteError
from eraser.remote import RemoteEraser
from eraser.remote.client import MAX_ANSWER_BYTES
from tests.support.remote import KEY, encode, scene

# allow_local: our test servers are on 127.0.0.1, which a URL given in code may not reach otherwise.
FAST = {"backoff": 0.01, "budget": 10.0, "timeout": 5.0, "max_attempts": 1, "allow_local": True}
GZIP = {"Content-Encoding": "gzip"}


def refused(fake, **options):
    with pytest.raises(RemoteError) as caught:
        RemoteEraser(KEY, fake.origin, **{**FAST, **options}).erase(*scene())
    return caught.value


@pytest.mark.slow
def test_a_gzip_bomb_is_capped_after_decompression(scripted):
    bomb = gzip.compress(b" " * (64 * 2**20))  # 64 MB of spaces in about 64 KB
    scripted.answers.append((200, bomb, "application/json", {"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        error = refused(scripted)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.code == "BAD_RESPONSE" and str(error).startswith(contract.ERRORS["BAD_RESPONSE"].message)
    assert peak < 20 * 2**20


def test_a_small_gzip_answer_is_read(scripted):
    photo, _ = scene()
    scripted.files["/files/out.png"] = (200, encode(photo.pixels), {})
    body = contract.success_body(scripted.origin + "/files/out.png")
    scripted.answers.append((200, gzip.compress(json.dumps(body).encode()), "application/json", GZIP))
    assert RemoteEraser(KEY, scripted.origin, **FAST).erase(*scene()).attempts == 1


def test_an_endless_answer_stops_at_the_cap(scripted):
    scripted.answers.append((200, [(0, b" " * 65536)] * 1000, "application/json", {}))  # 64 MB, no length
    began = time.monotonic()
    assert refused(scripted).code == "BAD_RESPONSE" and time.monotonic() - began < 5


def test_a_declared_length_over_the_cap_is_not_read(scripted):
    scripted.answers.append((200, b" " * (MAX_ANSWER_BYTES + 1), "application/json", {}))
    assert refused(scripted).code == "BAD_RESPONSE"


@pytest.mark.slow
def test_a_trickled_answer_meets_the_deadline(scripted):
    scripted.answers.append((200, [(0.2, b" ")] * 12, "application/json", {}))  # 2.4 s, a byte at a time
    began = time.monotonic()
    error = refused(scripted, budget=1.0)
    assert error.code == "TIMEOUT" and time.monotonic() - began < 2.2


@pytest.mark.parametrize("body", [b"[" * 200_000 + b"]" * 200_000, b'{"error_code": ' + b"[" * 100_000])
def test_deeply_nested_json_is_a_bad_response(scripted, body):
    scripted.answers.append((200, body, "application/json", {}))
    assert refused(scripted).code == "BAD_RESPONSE"


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress"])
def test_an_encoding_we_do_not_read_is_refused(scripted, encoding):
    scripted.answers.append((200, b"\x00\x01\x02", "application/json", {"Content-Encoding": encoding}))
    assert refused(scripted).code == "BAD_RESPONSE"


def test_a_damaged_gzip_answer_is_refused(scripted):
    scripted.answers.append((200, gzip.compress(b'{"a": 1}')[:-12] + b"garbage!", "application/json", GZIP))
    assert refused(scripted).code == "BAD_RESPONSE"


def test_a_result_download_gzip_bomb_is_capped(scripted):
    scripted.files["/files/out.png"] = (200, gzip.compress(bytes(32 * 2**20)), {"Content-Encoding": "gzip"})
    scripted.answer_json(200, contract.success_body(scripted.origin + "/files/out.png"))
    assert refused(scripted, max_result_bytes=2**20).code == "BAD_RESULT_IMAGE"


def test_a_key_echoed_in_code_or_request_id_is_blanked(scripted, caplog):
    caplog.set_level(logging.DEBUG)
    scripted.answer_json(503, {"error_code": 503, "request_id": KEY, "error_detail": {"code": KEY, "message": KEY}})
    error = refused(scripted, max_attempts=2)  # retried (503), so the code is logged too
    assert error.code == "[key]" and error.status == 503 and "try 1 of 2" in caplog.text
    photo, _ = scene()
    scripted.answers.clear()
    scripted.files["/files/out.png"] = (200, encode(photo.pixels), {})
    body = contract.success_body(scripted.origin + "/files/out.png")
    scripted.answer_json(200, {**body, "request_id": "id-" + KEY * 3})
    result = RemoteEraser(KEY, scripted.origin, **FAST).erase(*scene())
    assert result.request_id.startswith("id-[key]") and len(result.request_id) <= 64
    said = " ".join([str(error), repr(error), repr(vars(error)), repr(result), caplog.text])
    assert KEY not in said
