"""RemoteEraser against our own server over real HTTP: results, windows, expiry, retries, concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import requests

from eraser import contract
from eraser.errors import MaskError, RemoteError
from eraser.images import Photo
from eraser.masks import grow
from eraser.pipeline import DEFAULT_GROW
from eraser.remote import RemoteEraser
from tests.support.remote import KEY, Flaky, encode, make_app, scene

# allow_local: our test servers are on 127.0.0.1, which a URL given in code may not reach otherwise.
FAST = {"backoff": 0.01, "budget": 30.0, "timeout": 20.0, "allow_local": True}


def client(origin, **options):
    return RemoteEraser(KEY, origin, **{**FAST, **options})


def outside_unchanged(result, photo, mask):
    """Every pixel outside the mask as the client widened it (eraser's default 5 px) is the original."""
    widened = grow(mask, DEFAULT_GROW)
    return np.array_equal(result.photo.pixels[~widened], photo.pixels[~widened])


@pytest.mark.slow
def test_success(server):
    photo, mask = scene()
    result = client(server).erase(photo, mask)
    assert not result.windowed and result.note == "" and result.attempts == 1
    assert result.photo.size == photo.size and result.sent_size == photo.size
    assert outside_unchanged(result, photo, mask)
    assert np.abs(result.photo.pixels[mask].astype(int) - photo.pixels[0, 0]).mean() < 10
    assert Photo.open(result.data).size == photo.size  # the downloaded bytes are kept


@pytest.mark.slow
def test_the_mask_widens_like_local_erasing_so_halos_go(server):
    photo, mask = scene()
    pixels = np.array(photo.pixels)
    halo = grow(mask, 3) & ~mask
    pixels[halo] = (255, 255, 0)  # a bright fringe just outside the painted mask
    photo = Photo.open(encode(pixels))
    background = np.array(pixels[0, 0], int)
    widened = client(server).erase(photo, mask)
    assert np.abs(widened.photo.pixels[halo].astype(int) - background).mean() < 10
    exact = client(server).erase(photo, mask, grow=0)
    assert np.array_equal(exact.photo.pixels[~mask], photo.pixels[~mask])  # the fringe stays
    assert np.array_equal(exact.photo.pixels[halo], pixels[halo])


@pytest.mark.slow
def test_keeps_format_name_and_alpha(server):
    pixels = np.full((64, 80, 4), 200, np.uint8)
    pixels[..., 3] = np.arange(80, dtype=np.uint8)[None, :] * 3
    photo = Photo.open(encode(pixels), name="see-through.png")
    mask = np.zeros((64, 80), bool)
    mask[20:30, 30:40] = True
    result = client(server).erase(photo, mask)
    assert result.photo.format == "PNG" and result.photo.name == "see-through.png"
    assert np.array_equal(result.photo.alpha, photo.alpha)


@pytest.mark.slow
def test_records_when_the_url_expires(server, clock):
    clock.now = 1_700_000_000.0
    result = client(server, clock=clock).erase(*scene())
    assert result.expires_at == datetime.fromtimestamp(clock.now, UTC) + timedelta(hours=24)
    clock.advance(24 * 3600 + 1)  # the server shares the clock: its URL is now gone, our bytes are not
    assert requests.get(result.image_url, timeout=10).status_code == 404
    assert Photo.open(result.data).size == (160, 120)


def test_mismatched_or_empty_mask_is_refused_before_sending(tmp_path, start):
    flaky = Flaky(make_app(tmp_path), [])
    remote = client(start(flaky))
    photo, mask = scene()
    with pytest.raises(MaskError, match="20x10"):
        remote.erase(photo, np.ones((10, 20), bool))
    with pytest.raises(MaskError, match="empty"):
        remote.erase(photo, np.zeros_like(mask))
    assert flaky.posts == 0


def _noise_photo(width, height, seed=1):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Photo.open(encode(pixels), name="noise.png")


@pytest.mark.slow
def test_photo_over_3mb_sends_a_window(server):
    photo = _noise_photo(1500, 1200)  # about 5.4 MB as PNG
    assert len(photo.encode()) > contract.SAFE_FILE_BYTES
    mask = np.zeros((1200, 1500), bool)
    mask[600:660, 700:800] = True
    result = client(server).erase(photo, mask)
    left, top, right, bottom = result.sent_box
    assert result.windowed and result.sent_size == (right - left, bottom - top)  # cropped, not scaled
    assert (left, top, right, bottom) != (0, 0, 1500, 1200) and "area around the mask" in result.note
    assert result.photo.size == photo.size
    assert outside_unchanged(result, photo, mask)
    assert not np.array_equal(result.photo.pixels[mask], photo.pixels[mask])


def _gradient(width, height):
    """A wide, light photo: over the side limit while far under the byte limit."""
    pixels = np.tile(np.linspace(0, 255, width, dtype=np.uint8)[None, :, None], (height, 1, 3))
    return Photo.open(encode(pixels)), pixels


@pytest.mark.slow
def test_photo_4096_wide_sends_a_window_below_the_limit(server):
    photo, _ = _gradient(4500, 60)
    mask = np.zeros((60, 4500), bool)
    mask[20:40, 4000:4100] = True
    result = client(server).erase(photo, mask)
    assert result.windowed and max(result.sent_size) <= contract.MAX_SIDE
    assert result.sent_box[2] - result.sent_box[0] == result.sent_size[0]
    assert result.photo.size == (4500, 60) and outside_unchanged(result, photo, mask)


@pytest.mark.slow
def test_mask_box_over_the_limit_is_downscaled_and_pasted_back_at_full_size(server):
    photo, pixels = _gradient(4400, 80)
    mask = np.zeros((80, 4400), bool)
    mask[30:50, 100:4300] = True
    result = client(server).erase(photo, mask)
    assert result.windowed and result.sent_size[0] <= contract.MAX_SIDE
    assert result.sent_size[0] < result.sent_box[2] - result.sent_box[0]  # scaled down
    assert "scaled down" in result.note
    assert result.photo.size == (4400, 80) and outside_unchanged(result, photo, mask)
    # A horizontal gradient erased by inpainting stays close to the gradient at full size.
    assert np.abs(result.photo.pixels[mask].astype(int) - pixels[mask].astype(int)).mean() < 12


@pytest.mark.slow
def test_retries_a_server_that_fails_a_few_times(tmp_path, start):
    failures = ["AI_SERVICE_FLOW_RESTRICTION", "SERVICE_INTERNAL_ERROR",
                (502, b"<html>bad gateway</html>", "text/html")]
    flaky = Flaky(make_app(tmp_path), failures)
    result = client(start(flaky), max_attempts=4).erase(*scene())
    assert flaky.posts == 4 and result.attempts == 4


def test_gives_up_after_max_attempts(tmp_path, start):
    flaky = Flaky(make_app(tmp_path), ["AI_SERVICE_TIMEOUT"] * 10)
    with pytest.raises(RemoteError) as caught:
        client(start(flaky), max_attempts=3).erase(*scene())
    assert caught.value.code == "AI_SERVICE_TIMEOUT" and caught.value.retryable and flaky.posts == 3


@pytest.mark.parametrize("code", ["ERROR_USER_NOT_EXISTS", "FILE_RESOLUTION_EXCEEDS_LIMITS",
                                  "ERROR_MASK_IMAGE_RESOLUTION_MISMATCH", "ERROR_NOT_ENOUGH_CREDITS"])
def test_never_retries_what_cannot_pass(tmp_path, start, code):
    flaky = Flaky(make_app(tmp_path), [code])  # the second try would succeed: it must not happen
    with pytest.raises(RemoteError) as caught:
        client(start(flaky), max_attempts=4).erase(*scene())
    assert caught.value.code == code and not caught.value.retryable and flaky.posts == 1


def test_wrong_key_from_the_real_server(server):
    with pytest.raises(RemoteError) as caught:
        RemoteEraser("not-the-key", server, **FAST).erase(*scene())
    assert (caught.value.code, caught.value.status) == ("ERROR_USER_NOT_EXISTS", 401)
    assert "key" in str(caught.value)


@pytest.mark.slow
def test_twenty_at_once_each_gets_its_own_result(tmp_path, start):
    origin = start(make_app(tmp_path, workers=4))
    remote = client(origin, budget=120, timeout=60)
    colours = [(10 * i, 255 - 10 * i, (37 * i) % 256) for i in range(20)]
    jobs = [scene(background=colour, blob=(255 - colour[0], 0, 255)) for colour in colours]
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda job: remote.erase(*job), jobs))
    # The server may change pixels under the client's widening of the mask, widened again by it.
    grown = grow(grow(jobs[0][1], DEFAULT_GROW), DEFAULT_GROW)
    for (photo, mask), colour, result in zip(jobs, colours, results, strict=True):
        served = Photo.open(result.data)  # what the server made, before our paste-back
        assert np.array_equal(served.pixels[~grown], photo.pixels[~grown])
        # Inside the mask the server filled in this image's own background, nobody else's.
        assert np.abs(served.pixels[mask].astype(int) - np.array(colour)).mean() < 4
    assert len({result.image_url for result in results}) == 20
