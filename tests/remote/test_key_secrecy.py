"""The API key never shows: not in logs (ours, requests', urllib3's, the server's), output,
exception text or tracebacks, reprs, or the result."""

from __future__ import annotations

import logging
import traceback

import pytest

from eraser import contract
from eraser.errors import RemoteError
from eraser.remote import RemoteEraser
from tests.support.remote import KEY, Flaky, make_app, scene

# allow_local: our test servers are on 127.0.0.1, which a URL given in code may not reach otherwise.
FAST = {"backoff": 0.01, "budget": 10.0, "timeout": 0.5, "max_attempts": 3, "allow_local": True}


def everything_said(error: BaseException) -> str:
    return " ".join([str(error), repr(error), "".join(traceback.format_exception(error)),
                     repr(vars(error))])


@pytest.mark.slow
def test_key_never_leaks(tmp_path, start, raw_server, scripted, caplog, capsys):
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's connection chatter included
    flaky = Flaky(make_app(tmp_path), ["AI_SERVICE_FLOW_RESTRICTION"])
    origin = start(flaky)
    # A real erase in a fresh worker process can take seconds on a busy machine: only the hanging
    # server below needs the short timeout.
    remote = RemoteEraser(KEY, origin, **{**FAST, "timeout": 30.0})
    result = remote.erase(*scene())  # one retry, then success
    said = [repr(remote), repr(result), str(vars(result)), result.image_url, result.note]

    failures = []
    for url in (origin, raw_server("hang").origin, raw_server("drop").origin):
        key = KEY if url != origin else KEY + "-wrong"
        with pytest.raises(RemoteError) as caught:
            RemoteEraser(key, url, **FAST).erase(*scene())
        failures.append(caught.value)
    # A provider that echoes the key back in its message for an unknown code.
    scripted.answer_json(400, {"error_code": 400, "error_detail": {"code": "ODD", "message": f"bad key {KEY}"}})
    with pytest.raises(RemoteError) as caught:
        RemoteEraser(KEY, scripted.origin, **FAST).erase(*scene())
    failures.append(caught.value)
    assert [error.code for error in failures] == ["ERROR_USER_NOT_EXISTS", "TIMEOUT", "CONNECTION_FAILED", "ODD"]

    out, err = capsys.readouterr()
    text = " ".join(said + [everything_said(error) for error in failures] + [caplog.text, out, err])
    assert "try 1 of 3" in caplog.text  # the logs did record the retry
    assert "bad key [key]" in str(failures[-1])
    assert KEY not in text
    assert flaky.seen_headers[0][contract.KEY_HEADER] == KEY  # ... while the key did go to the server


@pytest.mark.parametrize("key", ["abc\r\nX-Injected: 1", "two words", "k\u00e9y"])
def test_a_malformed_key_is_refused_without_echoing_it(key):
    with pytest.raises(RemoteError) as caught:
        RemoteEraser(key, "http://127.0.0.1:9")
    assert caught.value.code == "BAD_API_KEY_FORMAT" and key not in everything_said(caught.value)
