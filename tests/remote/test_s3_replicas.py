"""Replicas on one S3-compatible bucket (ERASER_S3_BUCKET): two `serve` processes share it, a result
made by one outlives it and is fetched from the bucket by its presigned image_url, which expires
with the result's lifetime; nothing is kept on local disk; the bucket failing is a clear 503 or
500, and a bucket that cannot be used stops `serve` with one error line. The bucket is moto's S3
on 127.0.0.1 with S3's presigned-URL rules in front (s3_double.py)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import boto3
import numpy as np
import pytest
import requests

from eraser import contract
from eraser.images import Photo
from eraser.remote import RemoteEraser
from eraser.server import Settings
from eraser.server.s3store import S3ResultStore
from eraser.server.settings import SettingsError
from eraser.server.storage import StoreFull
from tests.support import ROOT, free_port
from tests.support.remote import KEY, encode, make_app, mask_png, scene

from .s3_double import AWS_ENV, SECRET_KEY, S3Double
from .test_serve_cli import START_TIMEOUT, _serve
from .test_server import URL_TIMEOUT, assert_error, post

pytestmark = pytest.mark.slow  # each test starts servers or model-vetting processes

DAY = contract.URL_TTL_SECONDS


@pytest.fixture
def s3(monkeypatch):
    """The S3 double with one fresh bucket; this process and the servers it starts use the dummy
    credentials and nothing else of the machine's AWS configuration."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    double = S3Double()
    double.start()
    double.client = boto3.session.Session().client("s3", endpoint_url=double.endpoint)
    double.bucket = f"eraser-{uuid4().hex[:12]}"
    double.client.create_bucket(Bucket=double.bucket)
    yield double
    double.stop()


@pytest.fixture
def replicas(tmp_path, s3):
    """replicas() starts one more `python -m eraser serve` on the bucket: (process, origin, output)."""
    started = []

    def start():
        process, origin, output = _serve(tmp_path, KEY, ERASER_S3_BUCKET=s3.bucket, ERASER_S3_ENDPOINT_URL=s3.endpoint,
                                         ERASER_WORKERS="1", ERASER_GROW="0")
        started.append(process)
        assert "Uvicorn running" in output, output
        return process, origin, output

    yield start
    for process in started:
        process.terminate()
        process.wait(START_TIMEOUT)


@pytest.fixture
def good():
    photo, mask = scene()
    return encode(photo.pixels), mask_png(mask), photo, mask


def assert_erased(pixels: np.ndarray, photo: Photo, mask: np.ndarray) -> None:
    """Same size, unchanged outside the mask, the blob under it replaced by the background."""
    assert pixels.shape == photo.pixels.shape
    assert np.array_equal(pixels[~mask], photo.pixels[~mask])
    assert np.abs(photo.pixels[mask].astype(int) - photo.pixels[0, 0]).mean() > 50
    assert np.abs(pixels[mask].astype(int) - photo.pixels[0, 0]).mean() < 10


def wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.1)


def store_full(origin) -> bool:
    return requests.get(origin + "/health", timeout=URL_TIMEOUT).json()["store_full"]


# -- two replicas, one bucket -------------------------------------------------------------------

def test_a_result_made_by_one_replica_outlives_it_and_expires_on_time(tmp_path, s3, replicas, good):
    image, mask_bytes, photo, mask = good
    replica_a, origin_a, output_a = replicas()
    _, origin_b, output_b = replicas()

    response = post(origin_a, image, mask_bytes)
    assert response.status_code == 200, response.text
    url = response.json()["data"]["image_url"]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == s3.endpoint and parts.path.startswith(f"/{s3.bucket}/results/")
    assert parse_qs(parts.query)["X-Amz-Expires"] == [str(DAY)]

    replica_a.terminate()
    replica_a.wait(START_TIMEOUT)
    got = requests.get(url, timeout=URL_TIMEOUT)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert_erased(Photo.open(got.content).pixels, photo, mask)

    # The other replica, through the project's own client: post, then download from the bucket.
    done = RemoteEraser(KEY, origin_b, backoff=0.01, allow_local=True).erase(photo, mask, grow=0)
    assert done.image_url.startswith(f"{s3.endpoint}/{s3.bucket}/results/")
    assert_erased(done.photo.pixels, photo, mask)
    assert not store_full(origin_b)

    # Both results are in the bucket and nothing at all is on this machine's disk.
    keys = [item["Key"] for item in s3.client.list_objects_v2(Bucket=s3.bucket)["Contents"]]
    assert len(keys) == 2 and all(key.startswith("results/") for key in keys)
    assert list(tmp_path.iterdir()) == []
    assert SECRET_KEY not in url + done.image_url + output_a + output_b

    # The URL works until 24 h after it was made, then the store refuses it.
    s3.advance(DAY - 60)
    assert requests.get(url, timeout=URL_TIMEOUT).status_code == 200
    s3.advance(61)
    expired = requests.get(url, timeout=URL_TIMEOUT)
    assert expired.status_code == 403 and b"Request has expired" in expired.content


def test_unknown_or_altered_urls_are_refused(s3):
    store = S3ResultStore(s3.bucket, endpoint_url=s3.endpoint)
    token = store.put(b"result bytes", "image/webp", time.time() + DAY)
    url = store.url(token, DAY)
    assert requests.get(url, timeout=URL_TIMEOUT).content == b"result bytes"
    # A token nobody stored, in a validly signed URL: not there (S3 says 403 without ListBucket).
    assert requests.get(store.url("A" * 43, DAY), timeout=URL_TIMEOUT).status_code in (403, 404)
    # The same URL with another token, or a longer lifetime: the signature no longer matches.
    assert requests.get(url.replace(token, token[::-1]), timeout=URL_TIMEOUT).status_code == 403
    longer = url.replace(f"X-Amz-Expires={DAY}", f"X-Amz-Expires={2 * DAY}")
    assert requests.get(longer, timeout=URL_TIMEOUT).status_code == 403


def test_the_url_lasts_the_configured_lifetime_under_the_configured_prefix(s3):
    store = S3ResultStore(s3.bucket, "eraser/results/", s3.endpoint)
    token = store.put(b"x", "image/png", time.time() + 600)
    url = store.url(token, 600)
    assert urlsplit(url).path == f"/{s3.bucket}/eraser/results/{token}"
    s3.advance(599)
    assert requests.get(url, timeout=URL_TIMEOUT).status_code == 200
    s3.advance(2)
    assert requests.get(url, timeout=URL_TIMEOUT).status_code == 403
    assert parse_qs(urlsplit(store.url(token, 1.5)).query)["X-Amz-Expires"] == ["2"]  # never shorter


def test_room_is_not_counted_but_a_released_room_cannot_be_held(s3):
    store = S3ResultStore(s3.bucket, endpoint_url=s3.endpoint)
    huge = store.reservation(2**50)
    huge.hold()  # the bucket's lifecycle rule bounds it, not this replica
    assert not store.full()
    late = store.reservation(1)
    late.release()  # the client went away while its job waited
    with pytest.raises(StoreFull, match="ended before its erase began"):
        late.hold()
    assert store.get(store.put(b"x", "image/png", time.time() + 60, huge), time.time()) is None  # served by url()
    assert store.purge(time.time() + 10 * DAY) == 0  # the lifecycle rule deletes


# -- the bucket failing -------------------------------------------------------------------------

def test_a_failing_bucket_is_a_clear_answer_and_the_replica_recovers(tmp_path, s3, start, good, caplog):
    caplog.set_level(logging.INFO)
    image, mask_bytes, photo, mask = good
    origin = start(make_app(tmp_path, workers=1, grow=0, s3_bucket=s3.bucket, s3_endpoint_url=s3.endpoint))
    answers = []

    # No such bucket: the deployment is wrong, 500; work is refused until the bucket is back.
    s3.client.delete_bucket(Bucket=s3.bucket)
    answers.append(post(origin, image, mask_bytes))
    assert_error(answers[-1], "SERVICE_INTERNAL_ERROR")
    assert "result not stored: the bucket cannot be written (no such bucket)" in caplog.text
    assert store_full(origin)
    answers.append(post(origin, image, mask_bytes))
    assert_error(answers[-1], "AI_SERVICE_FLOW_RESTRICTION")
    s3.client.create_bucket(Bucket=s3.bucket)
    wait_for(lambda: not store_full(origin))
    assert "the bucket can be written again: taking new work" in caplog.text
    answers.append(post(origin, image, mask_bytes))
    assert answers[-1].status_code == 200

    # The store unreachable: 503, try later; the replica takes work again once it answers.
    s3.stop()
    answers.append(post(origin, image, mask_bytes))
    assert_error(answers[-1], "AI_SERVICE_FLOW_RESTRICTION")
    assert answers[-1].headers["Retry-After"] == "60"
    assert "the bucket cannot be written (cannot connect)" in caplog.text and store_full(origin)
    s3.start()
    wait_for(lambda: not store_full(origin))
    answers.append(post(origin, image, mask_bytes))
    url = answers[-1].json()["data"]["image_url"]
    assert_erased(Photo.open(requests.get(url, timeout=URL_TIMEOUT).content).pixels, photo, mask)

    said = caplog.text + "".join(answer.text for answer in answers)
    assert SECRET_KEY not in said and "Traceback" not in caplog.text
    assert not (tmp_path / "results").exists()


def run_serve(tmp_path, **settings) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERASER_")}
    env.update(PYTHONPATH=str(ROOT), ERASER_API_KEYS=KEY, ERASER_ENGINE="telea", **settings)
    return subprocess.run([sys.executable, "-m", "eraser", "serve", "--port", str(free_port())], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=60)


@pytest.mark.parametrize("bucket, endpoint, why", [
    ("no-such-bucket", None, "no such bucket"),
    (None, "nothing listening", "cannot connect"),
])
def test_serve_does_not_start_without_a_usable_bucket(tmp_path, s3, bucket, endpoint, why):
    bucket = bucket or s3.bucket
    endpoint = f"http://127.0.0.1:{free_port()}" if endpoint else s3.endpoint
    done = run_serve(tmp_path, ERASER_S3_BUCKET=bucket, ERASER_S3_ENDPOINT_URL=endpoint)
    assert done.returncode == 2
    assert done.stderr == (f"error: ERASER_S3_BUCKET '{bucket}' at {endpoint} cannot be used ({why}): check the "
                           "bucket's name, ERASER_S3_ENDPOINT_URL, and the AWS credentials and region.\n")
    assert SECRET_KEY not in done.stdout + done.stderr and list(tmp_path.iterdir()) == []


def test_serve_names_each_unusable_s3_setting_on_its_own_line(tmp_path):
    done = run_serve(tmp_path, ERASER_S3_ENDPOINT_URL="http://127.0.0.1:9000", ERASER_S3_PREFIX="eraser")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: ERASER_S3_ENDPOINT_URL is set but ERASER_S3_BUCKET is not: set the bucket too, "
        "or unset ERASER_S3_ENDPOINT_URL.",
        "error: ERASER_S3_PREFIX is set but ERASER_S3_BUCKET is not: set the bucket too, or unset ERASER_S3_PREFIX.",
    ]


# -- settings -----------------------------------------------------------------------------------

def test_s3_settings_from_env():
    settings = Settings.from_env({"ERASER_S3_BUCKET": " photo-results ", "ERASER_S3_PREFIX": "/eraser/results",
                                  "ERASER_S3_ENDPOINT_URL": "https://minio.example.org:9000/",
                                  "ERASER_RESULT_TTL": "604800"})
    assert (settings.s3_bucket, settings.s3_endpoint_url, settings.s3_prefix, settings.result_ttl) == \
        ("photo-results", "https://minio.example.org:9000", "eraser/results/", 604800)
    assert (Settings.from_env({}).s3_bucket, Settings.from_env({}).s3_prefix) == ("", "results/")
    assert Settings.from_env({"ERASER_RESULT_TTL": str(30 * DAY)}).result_ttl == 30 * DAY  # local: up to 30 days


@pytest.mark.parametrize("env, problem", [
    ({"ERASER_S3_BUCKET": "my photos"},
     "ERASER_S3_BUCKET must be a bucket name (letters, digits, '.', '-' and '_'), not 'my photos'."),
    ({"ERASER_S3_BUCKET": "b", "ERASER_S3_ENDPOINT_URL": "ftp://store.example.org"},
     "ERASER_S3_ENDPOINT_URL must be an origin such as https://minio.example.org:9000, not 'ftp://store.example.org'."),
    ({"ERASER_S3_BUCKET": "b", "ERASER_S3_ENDPOINT_URL": "http://store:99999"},
     "ERASER_S3_ENDPOINT_URL must be an origin such as https://minio.example.org:9000, not 'http://store:99999'."),
    ({"ERASER_S3_BUCKET": "b", "ERASER_S3_ENDPOINT_URL": "https://store/bucket"},
     "ERASER_S3_ENDPOINT_URL must be an origin such as https://minio.example.org:9000, not 'https://store/bucket'."),
    ({"ERASER_S3_BUCKET": "b", "ERASER_S3_ENDPOINT_URL": "https://admin:hunter2@store"},
     "ERASER_S3_ENDPOINT_URL must not hold a user name or password: give the credentials in AWS_ACCESS_KEY_ID "
     "and AWS_SECRET_ACCESS_KEY."),
    ({"ERASER_S3_BUCKET": "b", "ERASER_S3_PREFIX": "a/../b"},
     "ERASER_S3_PREFIX must be a key prefix such as results/ or eraser/results/ (letters, digits and !-_.*'() "
     "between slashes), not 'a/../b/'."),
    ({"ERASER_S3_BUCKET": "b", "ERASER_S3_PREFIX": "photos?"},
     "ERASER_S3_PREFIX must be a key prefix such as results/ or eraser/results/ (letters, digits and !-_.*'() "
     "between slashes), not 'photos?/'."),
    ({"ERASER_S3_BUCKET": "b", "ERASER_RESULT_TTL": "604801"},
     "ERASER_RESULT_TTL must be at most 604800 seconds (7 days) with ERASER_S3_BUCKET, the longest a presigned "
     "URL lasts, not 604801.0."),
])
def test_each_unusable_s3_setting_is_one_sentence(env, problem):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert caught.value.problems == [problem]
    assert "hunter2" not in str(caught.value)


def test_the_documented_lifecycle_rule_is_accepted_by_a_bucket(s3):
    text = (ROOT / "docs" / "deployment.md").read_text()
    rule = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    s3.client.put_bucket_lifecycle_configuration(Bucket=s3.bucket, LifecycleConfiguration=rule)
    [kept] = s3.client.get_bucket_lifecycle_configuration(Bucket=s3.bucket)["Rules"]
    assert kept["Filter"] == {"Prefix": "results/"} and kept["Expiration"] == {"Days": 1}
