"""The result URL is chosen by the service, so the client treats it as untrusted."""

from __future__ import annotations

import pytest

from eraser import contract
from eraser.errors import RemoteError
from eraser.remote import RemoteEraser
from eraser.remote.download import check_url
from tests.support.remote import KEY, encode, scene

# allow_local: our test servers are on 127.0.0.1, which a URL given in code may not reach otherwise.
FAST = {"backoff": 0.01, "budget": 10.0, "timeout": 5.0, "max_attempts": 2, "allow_local": True}


@pytest.mark.parametrize("url", [
    "http://8.8.8.8/result.png",  # plain http from a non-local service
    "ftp://8.8.8.8/result.png",
    "file:///etc/passwd",
    "https://127.0.0.1/result.png",
    "https://localhost/result.png",
    "https://10.0.0.7/result.png",
    "https://192.168.1.1/result.png",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://[::1]/result.png",
    "https://[fe80::1]/result.png",
    "https://[::ffff:127.0.0.1]/result.png",
    "https://0.0.0.0/result.png",
    "https://user:secret@8.8.8.8/result.png",
])
def test_refused_for_a_public_service(url):
    with pytest.raises(RemoteError) as caught:
        check_url(url, allow_local=False)
    assert caught.value.code == "UNSAFE_RESULT_URL"


def test_public_https_passes():
    check_url("https://8.8.8.8/result.png", allow_local=False)  # an address literal: no DNS needed


def test_a_local_service_may_point_at_local_http():
    check_url("http://127.0.0.1:8000/results/x", allow_local=True)
    check_url("http://10.0.0.7/results/x", allow_local=True)
    with pytest.raises(RemoteError):
        check_url("file:///etc/passwd", allow_local=True)


def run(fake, **options):
    return RemoteEraser(KEY, fake.origin, **{**FAST, **options}).erase(*scene())


def failure(fake, **options):
    with pytest.raises(RemoteError) as caught:
        run(fake, **options)
    return caught.value


def point_at(fake, url):
    fake.answer_json(200, contract.success_body(url))


def test_redirect_within_the_host_is_followed(scripted):
    photo, _ = scene()
    scripted.files["/files/moved"] = (302, b"", {"Location": "/files/out.png"})
    scripted.files["/files/out.png"] = (200, encode(photo.pixels), {})
    point_at(scripted, scripted.origin + "/files/moved")
    assert run(scripted).photo.size == photo.size


def test_redirect_to_another_host_is_refused(scripted):
    other = scripted.origin.replace("127.0.0.1", "localhost")
    scripted.files["/files/moved"] = (302, b"", {"Location": other + "/files/out.png"})
    point_at(scripted, scripted.origin + "/files/moved")
    assert failure(scripted).code == "UNSAFE_RESULT_URL"


def test_redirect_loops_end(scripted):
    scripted.files["/files/loop"] = (302, b"", {"Location": "/files/loop"})
    point_at(scripted, scripted.origin + "/files/loop")
    assert failure(scripted).code == "UNSAFE_RESULT_URL"


def test_the_key_is_not_sent_to_the_result_url(scripted):
    photo, _ = scene()
    scripted.files["/files/out.png"] = (200, encode(photo.pixels), {})
    point_at(scripted, scripted.origin + "/files/out.png")
    run(scripted)
    post_headers, get_headers = scripted.seen_headers
    assert post_headers[contract.KEY_HEADER] == KEY and contract.KEY_HEADER not in get_headers


def test_size_cap_by_declared_length(scripted):
    scripted.files["/files/big.png"] = (200, b"\x89PNG" + bytes(5000), {})
    point_at(scripted, scripted.origin + "/files/big.png")
    assert failure(scripted, max_result_bytes=1000).code == "BAD_RESULT_IMAGE"


def test_size_cap_while_streaming(scripted):
    scripted.files["/files/stream"] = (200, [(0, bytes(600))] * 5, {"content-type": "image/png"})
    point_at(scripted, scripted.origin + "/files/stream")
    assert failure(scripted, max_result_bytes=1000).code == "BAD_RESULT_IMAGE"


@pytest.mark.slow
def test_a_trickling_download_meets_the_deadline(scripted):
    scripted.files["/files/slow"] = (200, [(0.2, b"x")] * 12, {"content-type": "image/png"})
    point_at(scripted, scripted.origin + "/files/slow")
    assert failure(scripted, budget=1.5).code == "TIMEOUT"


def test_expired_result_url(scripted):
    point_at(scripted, scripted.origin + "/files/gone.png")
    error = failure(scripted)
    assert (error.code, error.status) == ("RESULT_DOWNLOAD_FAILED", 404) and not error.retryable


@pytest.mark.parametrize("data", [b"<html>not an image</html>", b"\x89PNG\r\n\x1a\n" + bytes(40)])
def test_bytes_that_are_not_an_image(scripted, data):
    scripted.files["/files/out.png"] = (200, data, {})
    point_at(scripted, scripted.origin + "/files/out.png")
    assert failure(scripted).code == "BAD_RESULT_IMAGE"


def test_an_image_of_another_size(scripted):
    photo, _ = scene(width=50, height=40)
    scripted.files["/files/out.png"] = (200, encode(photo.pixels), {})
    point_at(scripted, scripted.origin + "/files/out.png")
    error = failure(scripted)
    assert error.code == "BAD_RESULT_IMAGE" and "50x40" in str(error)
