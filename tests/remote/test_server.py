"""Our server against the contract, over real HTTP with plain requests: every error class it answers,
the success envelope, result expiry, bounded bodies and concurrency, keys."""

from __future__ import annotations

import struct
import threading
import time
import zlib

import numpy as np
import pytest
import requests

from eraser import contract, engines
from eraser.errors import SettingsError
from eraser.images import Photo
from eraser.server import LocalDirStore, Settings, create_app
from eraser.server.app import MAX_BODY_BYTES
from tests.support.remote import KEY, crashing_erase, encode, failing_erase, make_app, mask_png, scene, stalling_erase

URL_TIMEOUT = 30


def post(origin, image=None, mask=None, key=KEY, **extra_files):
    files = {}
    if image is not None:
        files[contract.IMAGE_FIELD] = ("photo", image)
    if mask is not None:
        files[contract.MASK_FIELD] = ("mask.png", mask)
    files.update(extra_files)
    headers = {contract.KEY_HEADER: key} if key is not None else {}
    return requests.post(origin + contract.PATH, files=files or {"other": ("x", b"x")}, headers=headers,
                         timeout=URL_TIMEOUT)


def assert_error(response, code):
    spec = contract.ERRORS[code]
    body = response.json()
    assert (response.status_code, body["error_code"], body["error_detail"]["code"]) == (spec.status, spec.status, code)
    assert body["error_detail"]["status_code"] == spec.status
    assert body["error_msg"] == spec.message
    assert "data" not in body or body["data"] is None


@pytest.fixture
def good():
    photo, mask = scene()
    return encode(photo.pixels), mask_png(mask), photo, mask


@pytest.mark.slow
def test_success_envelope_and_result(server, good):
    image, mask_bytes, photo, mask = good
    response = post(server, image, mask_bytes)
    body = response.json()
    assert response.status_code == 200 and body["error_code"] == 0 and body["error_detail"]["code"] == ""
    assert set(body) >= {"request_id", "log_id", "error_code", "error_code_str", "error_msg", "error_detail", "data"}
    url = body["data"]["image_url"]
    assert url.startswith(server + "/results/")
    got = requests.get(url, timeout=URL_TIMEOUT)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    result = Photo.open(got.content)
    assert result.size == photo.size
    # The blob is gone: the masked area now looks like the background around it.
    assert np.abs(result.pixels[mask].astype(int) - photo.pixels[0, 0]).mean() < 10
    assert np.abs(photo.pixels[mask].astype(int) - photo.pixels[0, 0]).mean() > 50


@pytest.mark.parametrize("key", [None, "", "wrong-key", KEY + "x"])
def test_wrong_or_missing_key_is_401(server, good, key):
    assert_error(post(server, good[0], good[1], key=key), "ERROR_USER_NOT_EXISTS")


def test_key_is_checked_before_the_form(server):
    assert_error(post(server, key="wrong"), "ERROR_USER_NOT_EXISTS")


def test_missing_field(server, good):
    assert_error(post(server, image=good[0]), "MISSING_PARAMETERS")
    assert_error(post(server, mask=good[1]), "MISSING_PARAMETERS")


def test_field_sent_as_text_is_a_parameter_error(server, good):
    response = requests.post(server + contract.PATH, files={contract.IMAGE_FIELD: ("p", good[0])},
                             data={contract.MASK_FIELD: "not a file"}, headers={contract.KEY_HEADER: KEY},
                             timeout=URL_TIMEOUT)
    assert_error(response, "ERROR_PARAMETERS")


@pytest.mark.slow
def test_empty_file(server, good):
    assert_error(post(server, b"", good[1]), "PARAMETERS_CANNOT_EMPTY")


@pytest.mark.parametrize("data", [b"hello, not an image", b"GIF89a" + bytes(100), b"%PDF-1.4 ..."])
@pytest.mark.slow
def test_unsupported_type_is_415(server, good, data):
    assert_error(post(server, data, good[1]), "UNSUPPORTED_FILE_TYPES")


@pytest.mark.slow
def test_damaged_file_is_a_decoding_failure(server, good):
    assert_error(post(server, good[0][:60], good[1]), "FILE_DECODING_FAILURE")
    assert_error(post(server, good[0], b"\x89PNG\r\n\x1a\n" + b"\0" * 50), "FILE_DECODING_FAILURE")


@pytest.mark.slow
def test_resolution_4096_is_refused(server):
    wide = np.zeros((8, 4096, 3), np.uint8)
    mask = np.zeros((8, 4096), bool)
    mask[2:4, 10:20] = True
    assert_error(post(server, encode(wide), mask_png(mask)), "FILE_RESOLUTION_EXCEEDS_LIMITS")


@pytest.mark.slow
def test_a_header_declaring_a_huge_image_is_a_resolution_error(server, good):
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    # 30000 x 30000 declared in a few dozen bytes: refused from the header, never decoded.
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))
    assert_error(post(server, bomb, good[1]), "FILE_RESOLUTION_EXCEEDS_LIMITS")


@pytest.mark.slow
def test_mismatched_mask(server, good):
    assert_error(post(server, good[0], mask_png(np.ones((50, 50), bool))), "ERROR_MASK_IMAGE_RESOLUTION_MISMATCH")


@pytest.mark.slow
def test_empty_mask_is_an_invalid_parameter(server, good):
    assert_error(post(server, good[0], mask_png(np.zeros(good[3].shape, bool))), "ERROR_INVALID_PARAMETER")


@pytest.mark.slow
def test_file_over_3mb(server, good):
    big = b"\x89PNG\r\n\x1a\n" + bytes(contract.MAX_FILE_BYTES)
    assert_error(post(server, big, good[1]), "FILE_SIZE_EXCEEDS_LIMIT")


@pytest.mark.slow
def test_body_over_the_limit_is_413_before_parsing(server, good):
    assert_error(post(server, bytes(MAX_BODY_BYTES), good[1]), "ERROR_REQUEST_BODY_TOO_LARGE")
    # ... and the server is still fine afterwards.
    assert post(server, good[0], good[1]).status_code == 200


def test_a_wrong_key_is_reported_before_a_bad_body(server, good):
    assert_error(post(server, bytes(MAX_BODY_BYTES), good[1], key="wrong"), "ERROR_USER_NOT_EXISTS")
    garbage = requests.post(server + contract.PATH, data=b"garbage", timeout=URL_TIMEOUT,
                            headers={contract.KEY_HEADER: "wrong", "content-type": "multipart/form-data; boundary=zzz"})
    assert_error(garbage, "ERROR_USER_NOT_EXISTS")
    garbage = requests.post(server + contract.PATH, data=b"garbage", timeout=URL_TIMEOUT,
                            headers={contract.KEY_HEADER: KEY, "content-type": "multipart/form-data; boundary=zzz"})
    assert_error(garbage, "ERROR_PARAMETERS")


def test_an_unknown_engine_is_refused_at_start_up(tmp_path):
    with pytest.raises(SettingsError, match=f"ERASER_ENGINE must be one of {', '.join(engines.names())}, not 'foo'"):
        Settings(api_keys=(KEY,), result_dir=tmp_path, engine="foo")


def test_unknown_path_says_the_api_does_not_exist(server):
    response = requests.post(server + "/api/image/editing/nope", timeout=URL_TIMEOUT)
    assert_error(response, "ERROR_AI_NOT_EXISTS")


@pytest.mark.slow
def test_engine_failure_and_crash(tmp_path, start, good):
    for erase, code in ((failing_erase, "PROCESSING_FAILURE"), (crashing_erase, "SERVICE_INTERNAL_ERROR")):
        app = create_app(Settings(api_keys=(KEY,), result_dir=tmp_path / code), erase=erase)
        assert_error(post(start(app), good[0], good[1]), code)


def wait_for_in_flight(origin, count):
    deadline = time.monotonic() + URL_TIMEOUT
    while requests.get(origin + "/health", timeout=URL_TIMEOUT).json()["in_flight"] < count:
        assert time.monotonic() < deadline, "the first request never arrived"
        time.sleep(0.02)


@pytest.mark.slow
def test_full_queue_answers_flow_restriction(tmp_path, start, good):
    app = create_app(Settings(api_keys=(KEY,), result_dir=tmp_path, workers=1, max_queue=0), erase=stalling_erase)
    origin = start(app)
    first = {}
    worker = threading.Thread(target=lambda: first.update(response=post(origin, good[0], good[1])))
    worker.start()
    try:
        wait_for_in_flight(origin, 1)
        busy = post(origin, good[0], good[1])
        assert_error(busy, "AI_SERVICE_FLOW_RESTRICTION")
        assert busy.headers["Retry-After"] == "1"
    finally:
        worker.join(URL_TIMEOUT)
    assert first["response"].status_code == 200


@pytest.mark.slow
def test_result_expires_then_404_and_file_removed(server, good, clock, tmp_path):
    url = post(server, good[0], good[1]).json()["data"]["image_url"]
    clock.advance(contract.URL_TTL_SECONDS - 5)
    assert requests.get(url, timeout=URL_TIMEOUT).status_code == 200
    assert len(list((tmp_path / "results").iterdir())) == 2
    clock.advance(10)
    assert requests.get(url, timeout=URL_TIMEOUT).status_code == 404
    assert list((tmp_path / "results").iterdir()) == []


@pytest.mark.slow
def test_sweeper_removes_expired_results_unasked(tmp_path, start, good, clock):
    origin = start(make_app(tmp_path, clock, result_ttl=60, purge_interval=0.05))
    for _ in range(3):
        assert post(origin, good[0], good[1]).status_code == 200
    results = tmp_path / "results"
    assert len(list(results.glob("*.bin"))) == 3
    clock.advance(61)
    for _ in range(100):  # 100 x 0.05 s: the sweeper runs every 0.05 s
        if not any(results.iterdir()):
            break
        time.sleep(0.05)
    assert list(results.iterdir()) == []


@pytest.mark.parametrize("token", ["x", "../../etc/passwd", "%2e%2e%2fsecret", "A" * 43])
def test_unknown_tokens_are_404(server, token):
    assert requests.get(f"{server}/results/{token}", timeout=URL_TIMEOUT).status_code == 404


def test_store_keeps_paths_inside_its_directory(tmp_path):
    store = LocalDirStore(tmp_path / "store")
    (tmp_path / "secret.json").write_text('{"media_type": "text/plain", "expires_at": 1e20}')
    (tmp_path / "secret.bin").write_bytes(b"secret")
    assert store.get("../secret", now=0) is None
    token = store.put(b"data", "image/png", expires_at=100)
    assert len(token) == 43 and store.get(token, now=99).data == b"data"
    assert store.purge(now=100) == 1 and store.get(token, now=0) is None


def test_health_and_openapi(server):
    health = requests.get(server + "/health", timeout=URL_TIMEOUT)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    doc = requests.get(server + "/openapi.json", timeout=URL_TIMEOUT).json()
    operation = doc["paths"][contract.PATH]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = doc["components"]["schemas"][schema]
    assert set(fields["required"]) == {contract.IMAGE_FIELD, contract.MASK_FIELD}
    assert doc["components"]["securitySchemes"]["APIKeyHeader"]["name"] == contract.KEY_HEADER


def test_a_server_without_keys_refuses_to_exist(tmp_path):
    with pytest.raises(ValueError, match="ERASER_API_KEYS"):
        create_app(Settings(api_keys=(), result_dir=tmp_path))


@pytest.mark.slow
def test_several_keys_each_work(tmp_path, start, good):
    origin = start(create_app(Settings(api_keys=("one", "two"), result_dir=tmp_path, engine="telea")))
    assert post(origin, good[0], good[1], key="one").status_code == 200
    assert post(origin, good[0], good[1], key="two").status_code == 200
    assert post(origin, good[0], good[1], key="three").status_code == 401


def test_settings_from_env():
    settings = Settings.from_env({"ERASER_API_KEYS": " a, b ,,", "ERASER_RESULT_TTL": "60", "ERASER_WORKERS": "3",
                                  "ERASER_PUBLIC_URL": "https://erase.example.org/"})
    assert settings.api_keys == ("a", "b") and settings.result_ttl == 60 and settings.workers == 3
    assert settings.public_url == "https://erase.example.org"
    assert Settings.from_env({}).api_keys == ()
