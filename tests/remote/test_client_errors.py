"""RemoteEraser against a scripted provider: every contract code, odd answers, the time budget."""

from __future__ import annotations

import time

import pytest

from eraser import contract
from eraser.errors import RemoteError
from eraser.remote import RemoteEraser
from tests.support.remote import KEY, encode, scene

# allow_local: our test servers are on 127.0.0.1, which a URL given in code may not reach otherwise.
FAST = {"backoff": 0.01, "budget": 20.0, "timeout": 5.0, "max_attempts": 3, "allow_local": True}
SERVER_CODES = [code for code, spec in contract.ERRORS.items() if spec.status is not None]


def erase_against(fake, **options):
    with pytest.raises(RemoteError) as caught:
        RemoteEraser(KEY, fake.origin, **{**FAST, **options}).erase(*scene())
    return caught.value


def success_for(fake, path="/files/out.png", data=None):
    photo, _ = scene()
    fake.files[path] = (200, data if data is not None else encode(photo.pixels), {})
    fake.answer_json(200, contract.success_body(fake.origin + path))


@pytest.mark.parametrize("code", SERVER_CODES)
def test_every_contract_code_becomes_an_actionable_error(scripted, code):
    spec = contract.ERRORS[code]
    status, body = contract.error_body(code)
    scripted.answer_json(status, body)
    error = erase_against(scripted)
    assert (error.code, error.status, error.retryable) == (code, spec.status, spec.retryable)
    assert str(error) == spec.message
    assert scripted.posts == (FAST["max_attempts"] if spec.retryable else 1)


def test_the_code_decides_not_the_status(scripted):
    # The provider's docs and SDK disagree on statuses: a credits code under 503 is still final.
    _, body = contract.error_body("ERROR_NOT_ENOUGH_CREDITS")
    scripted.answer_json(503, body)
    error = erase_against(scripted)
    assert error.code == "ERROR_NOT_ENOUGH_CREDITS" and not error.retryable and scripted.posts == 1


def test_status_200_with_an_error_code_is_a_failure(scripted):
    _, body = contract.error_body("AI_SERVICE_ERROR")
    scripted.answer_json(200, body)
    error = erase_against(scripted)
    assert (error.code, error.status, error.retryable) == ("AI_SERVICE_ERROR", 500, True)


def test_unknown_code_falls_back_to_the_status(scripted):
    scripted.answer_json(429, {"error_code": 429, "error_detail": {"code": "SLOW_DOWN", "message": "too fast"}})
    error = erase_against(scripted, max_attempts=2)
    assert error.code == "SLOW_DOWN" and error.retryable and scripted.posts == 2
    assert "too fast" in str(error)
    scripted.answers.clear()
    scripted.posts = 0
    scripted.answer_json(409, {"error_code": 409, "error_detail": {"code": "SOMETHING_NEW"}})
    error = erase_against(scripted)
    assert error.code == "SOMETHING_NEW" and not error.retryable and "409" in str(error) and scripted.posts == 1


def test_non_json_answers(scripted):
    scripted.answers.append((502, b"<html>Bad gateway</html>", "text/html", {}))
    error = erase_against(scripted)
    assert (error.code, error.status, error.retryable) == ("HTTP_502", 502, True)
    scripted.answers.clear()
    scripted.answers.append((200, b"<html>a login page</html>", "text/html", {}))
    assert erase_against(scripted).code == "BAD_RESPONSE"


def test_success_without_an_image_url_is_a_bad_response(scripted):
    scripted.answer_json(200, {**contract.success_body(""), "data": {}})
    assert erase_against(scripted).code == "BAD_RESPONSE"


@pytest.mark.slow
def test_retry_after_is_honoured(scripted):
    status, body = contract.error_body("AI_SERVICE_FLOW_RESTRICTION")
    scripted.answer_json(status, body, {"Retry-After": "1"})
    success_for(scripted)
    began = time.monotonic()
    result = RemoteEraser(KEY, scripted.origin, **FAST).erase(*scene())
    assert result.attempts == 2 and time.monotonic() - began >= 1.0


def test_the_time_budget_stops_retries(scripted):
    status, body = contract.error_body("SERVICE_INTERNAL_ERROR")
    scripted.answer_json(status, body)
    began = time.monotonic()
    error = erase_against(scripted, backoff=0.3, budget=1.0, max_attempts=50)
    assert error.code == "SERVICE_INTERNAL_ERROR" and time.monotonic() - began < 3.0
    assert 2 <= scripted.posts < 10


def test_dropped_connections_are_retried_then_reported(raw_server):
    dropper = raw_server("drop")
    error = erase_against(dropper)
    assert (error.code, error.retryable) == ("CONNECTION_FAILED", True) and dropper.connections == 3


@pytest.mark.slow
def test_timeouts_are_retried_within_the_budget(raw_server):
    hanger = raw_server("hang")
    began = time.monotonic()
    error = erase_against(hanger, timeout=0.3, budget=5.0)
    assert (error.code, error.retryable) == ("TIMEOUT", True) and hanger.connections == 3
    assert time.monotonic() - began < 5.0


def test_nothing_listening(raw_server):
    closed = raw_server("drop")
    closed.close()
    assert erase_against(closed).code == "CONNECTION_FAILED"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http://example.com/erase", "not a url", "https://"])
def test_bad_endpoint_urls_are_refused_at_once(url):
    with pytest.raises(RemoteError) as caught:
        RemoteEraser(KEY, url)
    assert caught.value.code == "BAD_API_URL"


def test_endpoint_forms(monkeypatch):
    assert RemoteEraser(KEY).url == contract.DEFAULT_URL
    assert RemoteEraser(KEY, "http://127.0.0.1:8000").url == "http://127.0.0.1:8000" + contract.PATH
    assert RemoteEraser(KEY, "https://erase.example.org/custom/path").url == "https://erase.example.org/custom/path"
    monkeypatch.setenv("AILAB_API_URL", "http://localhost:9000/")
    monkeypatch.setenv("AILAB_API_KEY", KEY)
    assert RemoteEraser().url == "http://localhost:9000" + contract.PATH


def test_no_key(monkeypatch):
    monkeypatch.delenv("AILAB_API_KEY", raising=False)
    for key in (None, "", "   "):
        with pytest.raises(RemoteError) as caught:
            RemoteEraser(key)
        assert caught.value.code == "NO_API_KEY" and "AILAB_API_KEY" in str(caught.value)
