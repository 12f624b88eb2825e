"""The server under attack, on 127.0.0.1 and bounded: idle and slow connections, wrong-key floods,
bodies over the memory budget, malformed HTTP, clients that leave, erases that run away."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import ExitStack

import pytest
import requests

from eraser import contract
from eraser.server import Settings, create_app
from eraser.server.app import MAX_BODY_BYTES
from tests.support.remote import KEY, STALL_SECONDS, encode, make_app, mask_png, scene, stalling_erase

from .test_server import URL_TIMEOUT, assert_error, post, wait_for_in_flight

QUICK = {"header_timeout": 1.0, "body_timeout": 1.0}


@pytest.fixture
def good():
    photo, mask = scene()
    return encode(photo.pixels), mask_png(mask)


@pytest.fixture
def sockets():
    """connect(origin) -> a raw socket to the server; all closed at teardown."""
    with ExitStack() as stack:
        def connect(origin, timeout=10.0):
            host, port = origin.removeprefix("http://").split(":")
            sock = stack.enter_context(socket.create_connection((host, int(port)), timeout=timeout))
            return sock
        yield connect


def closed_within(sock, seconds) -> bool:
    """True when the server closes the connection (after any answer) within seconds."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
        return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def read_answer(sock, seconds=5.0) -> tuple[int, dict]:
    """(status, JSON body) of the one answer on a raw socket, read until the server closes."""
    sock.settimeout(seconds)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def request_head(key=KEY, length=MAX_BODY_BYTES, path=contract.PATH) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{contract.KEY_HEADER}: {key}\r\n"
            f"Content-Type: multipart/form-data; boundary=zzz\r\nContent-Length: {length}\r\n\r\n").encode()


@pytest.mark.slow
def test_idle_connections_are_closed_and_do_not_lock_anyone_out(tmp_path, start, sockets, good):
    origin = start(make_app(tmp_path, max_connections=100, **QUICK))
    idle = [sockets(origin) for _ in range(300)]  # three times the cap, never sending a byte
    began = time.monotonic()
    response = post(origin, *good)
    assert response.status_code == 200 and time.monotonic() - began < 10
    # The cap made room by closing the longest-idle ones; the header deadline closes the rest.
    assert all(closed_within(sock, 5.0) for sock in idle)


@pytest.mark.slow
def test_slow_headers_are_cut_off(tmp_path, start, sockets):
    origin = start(make_app(tmp_path, **QUICK))
    sock = sockets(origin)
    began = time.monotonic()
    closed = False
    for byte in request_head():  # one byte every 0.1 s: 20 s for the whole head
        try:
            sock.send(bytes([byte]))
        except OSError:
            closed = True
            break
        if closed_within(sock, 0.1):
            closed = True
            break
    assert closed and time.monotonic() - began < 6


@pytest.mark.slow
def test_a_slow_body_gets_408_in_the_envelope(tmp_path, start, sockets):
    origin = start(make_app(tmp_path, **QUICK))
    sock = sockets(origin)
    sock.sendall(request_head(length=1000) + b"--zzz\r\n")  # then nothing more
    began = time.monotonic()
    status, body = read_answer(sock)
    assert status == 408 and body["error_detail"]["code"] == "REQUEST_TIMEOUT"
    assert 0.9 < time.monotonic() - began < 4


@pytest.mark.slow
def test_a_wrong_key_flood_costs_only_headers(tmp_path, start, sockets, good):
    app = make_app(tmp_path, **QUICK)
    origin = start(app)
    flood = [sockets(origin) for _ in range(200)]
    for sock in flood:  # each announces a full-size body and sends none of it
        sock.sendall(request_head(key="wrong-key"))
    for sock in flood:
        status, body = read_answer(sock)
        assert status == 401 and body["error_detail"]["code"] == "ERROR_USER_NOT_EXISTS"
    assert post(origin, *good).status_code == 200


def test_a_wrong_key_with_a_body_still_reads_the_401(server):
    # requests sends the whole 6 MB body; the server answers without reading it and closes.
    response = requests.post(server + contract.PATH, data=bytes(MAX_BODY_BYTES), timeout=URL_TIMEOUT,
                             headers={contract.KEY_HEADER: "wrong",
                                      "content-type": "multipart/form-data; boundary=zzz"})
    assert_error(response, "ERROR_USER_NOT_EXISTS")


@pytest.mark.slow
def test_bodies_in_memory_are_bounded_in_total(tmp_path, start, sockets, good):
    origin = start(make_app(tmp_path, upload_mb=7, body_timeout=2.0, header_timeout=5.0))
    first = sockets(origin)
    first.sendall(request_head(length=MAX_BODY_BYTES))  # admitted: reserves 6.3 MB, sends nothing yet
    wait_for_in_flight(origin, 1)
    second = sockets(origin)
    second.sendall(request_head(length=MAX_BODY_BYTES))
    status, body = read_answer(second)
    assert status == 503 and body["error_detail"]["code"] == "AI_SERVICE_FLOW_RESTRICTION"
    assert read_answer(first)[0] == 408  # ... until the first one's time runs out
    assert post(origin, *good).status_code == 200  # and its reservation was returned


def test_a_declared_body_over_the_limit_is_refused_unread(tmp_path, start, sockets):
    origin = start(make_app(tmp_path, **QUICK))
    sock = sockets(origin)
    sock.sendall(request_head(length=MAX_BODY_BYTES + 1))
    status, body = read_answer(sock)
    assert status == 413 and body["error_detail"]["code"] == "ERROR_REQUEST_BODY_TOO_LARGE"


@pytest.mark.parametrize("raw", [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                                 b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n"])
def test_malformed_http_gets_the_envelope(tmp_path, start, sockets, raw):
    origin = start(make_app(tmp_path, **QUICK))
    sock = sockets(origin)
    sock.sendall(raw)
    status, body = read_answer(sock)
    assert status == 400 and body["error_detail"]["code"] == "ERROR_PARAMETERS"


@pytest.mark.slow
def test_a_runaway_erase_is_stopped(tmp_path, start, good):
    app = create_app(Settings(api_keys=(KEY,), result_dir=tmp_path / "results", workers=1, job_timeout=0.5),
                     erase=stalling_erase)
    origin = start(app)
    began = time.monotonic()
    assert_error(post(origin, *good), "AI_SERVICE_TIMEOUT")
    assert time.monotonic() - began < STALL_SECONDS
    health = requests.get(origin + "/health", timeout=URL_TIMEOUT).json()
    assert health["stopped_jobs"] == 1 and health["in_flight"] == 0
    assert list((tmp_path / "results").iterdir()) == []


@pytest.mark.slow
def test_work_whose_client_left_is_stopped_and_not_stored(tmp_path, start, good):
    app = create_app(Settings(api_keys=(KEY,), result_dir=tmp_path / "results", workers=1), erase=stalling_erase)
    origin = start(app)
    with pytest.raises(requests.Timeout):  # the client gives up and closes its connection
        post_with_timeout(origin, good, 0.5)
    deadline = time.monotonic() + STALL_SECONDS
    while requests.get(origin + "/health", timeout=URL_TIMEOUT).json()["stopped_jobs"] == 0:
        assert time.monotonic() < deadline, "the erase went on after its client left"
        time.sleep(0.05)
    time.sleep(STALL_SECONDS)  # when it would have finished
    assert list((tmp_path / "results").iterdir()) == []


def post_with_timeout(origin, good, timeout):
    return requests.post(origin + contract.PATH, headers={contract.KEY_HEADER: KEY}, timeout=timeout,
                         files={contract.IMAGE_FIELD: ("p", good[0]), contract.MASK_FIELD: ("m", good[1])})


@pytest.mark.slow
def test_photos_are_decoded_in_the_workers_not_the_server(server, good, monkeypatch):
    # The server runs in this process; if it decoded a photo here, this would break the request.
    from eraser.images import Photo

    def refuse(*_, **__):
        raise AssertionError("a photo was decoded in the server process")

    monkeypatch.setattr(Photo, "open", refuse)
    response = post(server, *good)
    monkeypatch.undo()
    assert response.status_code == 200 and Photo.open(requests.get(response.json()["data"]["image_url"],
                                                                 timeout=URL_TIMEOUT).content).size == (160, 120)


@pytest.mark.slow
def test_a_queued_erase_whose_client_left_is_dropped_at_once(tmp_path, start, good):
    app = create_app(Settings(api_keys=(KEY,), result_dir=tmp_path / "results", workers=1), erase=stalling_erase)
    origin = start(app)
    first = {}
    worker = threading.Thread(target=lambda: first.update(response=post(origin, *good)))
    worker.start()
    wait_for_in_flight(origin, 1)
    began = time.monotonic()
    with pytest.raises(requests.Timeout):  # queued behind the first, then gone
        post_with_timeout(origin, good, 0.3)
    while requests.get(origin + "/health", timeout=URL_TIMEOUT).json()["in_flight"] > 1:
        assert time.monotonic() - began < STALL_SECONDS / 2, "the queued request kept its slot"
        time.sleep(0.02)
    worker.join(URL_TIMEOUT)
    assert first["response"].status_code == 200
    assert len(list((tmp_path / "results").glob("*.bin"))) == 1  # only the first one's result


def test_a_chunked_body_over_the_limit_is_cut_off(tmp_path, start, sockets):
    origin = start(make_app(tmp_path, **QUICK))
    sock = sockets(origin)
    head = request_head().replace(f"Content-Length: {MAX_BODY_BYTES}".encode(), b"Transfer-Encoding: chunked")
    chunk = b"%x\r\n" % 65536 + bytes(65536) + b"\r\n"
    sock.sendall(head)
    try:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            sock.sendall(chunk)
    except OSError:
        pass  # the server may close before the last chunk
    status, body = read_answer(sock)
    assert status == 413 and body["error_detail"]["code"] == "ERROR_REQUEST_BODY_TOO_LARGE"
