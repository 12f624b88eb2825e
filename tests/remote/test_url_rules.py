"""One strict URL form for the endpoint and result URLs: what two parsers could read differently
is refused, and addresses are judged by where they really lead (IPv4 inside IPv6 included)."""

from __future__ import annotations

import ipaddress

import pytest
import requests

from eraser import contract
from eraser.errors import RemoteError
from eraser.remote import RemoteEraser, urls
from eraser.remote.download import check_url
from tests.support.remote import KEY, encode, scene

# allow_local: our test servers are on 127.0.0.1, which a URL given in code may not reach otherwise.
FAST = {"backoff": 0.01, "budget": 10.0, "timeout": 5.0, "max_attempts": 2, "allow_local": True}

TRICKS = [
    "https://127.0.0.1\\x.evil.example/",  # urlsplit: a public name; urllib3: 127.0.0.1
    "http://api.evil.example\\@localhost/",  # urlsplit: localhost; urllib3: api.evil.example
    "https://8.8.8.8\\@127.0.0.1/x",
    "https://user@8.8.8.8/x",
    "https://user:pw@8.8.8.8/x",
    "https://8.8.8.8/x#fragment",
    "https://8.8.8.8/a b",
    "https://8.8.8.8/\tx",
    "https://8.8.8.8/x\r\nHost: other",
    "https://ex\u00e4mple.org/x",  # non-ASCII host: IDNA is not guessed
    "https://example.org%2f@127.0.0.1/",
    "https://%6c%6f%63%61%6c%68%6f%73%74/",  # "localhost", percent-encoded
    "https://127.1/",  # inet_aton forms of 127.0.0.1
    "https://0x7f.0.0.1/",
    "https://2130706433/",
    "https://0177.0.0.1/",
    "https://[fe80::1%25eth0]/",
    "https://8.8.8.8:0/",
    "https://8.8.8.8:99999/",
    "https:///x",
    "https:8.8.8.8/x",
    "//8.8.8.8/x",
    " https://8.8.8.8/x",
]


@pytest.mark.parametrize("url", TRICKS)
def test_odd_urls_are_refused_not_guessed(url):
    assert urls.parse(url) is None
    with pytest.raises(RemoteError) as caught:
        check_url(url, allow_local=True)  # even for a local service
    assert caught.value.code == "UNSAFE_RESULT_URL"


@pytest.mark.parametrize("url", TRICKS[:12])
def test_odd_endpoints_are_refused_at_once(url):
    with pytest.raises(RemoteError) as caught:
        RemoteEraser(KEY, url)
    assert caught.value.code == "BAD_API_URL" and KEY not in str(caught.value)


@pytest.mark.parametrize("url, host, port", [
    ("https://www.ailabapi.com/api/image/editing/image-erase", "www.ailabapi.com", 443),
    ("http://127.0.0.1:8000/results/abc_-XYZ", "127.0.0.1", 8000),
    ("https://[2001:db8::1]:8443/x?sig=a%2Fb&exp=1", "2001:db8::1", 8443),
    ("https://cdn.example.org/out/img.png?X-Amz-Signature=ab12&X-Amz-Date=20260101T000000Z", "cdn.example.org", 443),
])
def test_ordinary_urls_parse_the_same_for_both_parsers(url, host, port):
    parsed = urls.parse(url)
    assert (parsed.host, parsed.port) == (host, port)
    assert requests.Request("GET", url).prepare().url == url  # what requests will connect to


@pytest.mark.parametrize("address, public", [
    ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
    ("64:ff9b::a00:7", False),  # NAT64 of 10.0.0.7
    ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
    ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
    ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
    ("2002:808:808::1", True),
    ("::127.0.0.1", False),  # IPv4-compatible
    ("::10.0.0.1", False),
    ("::ffff:192.168.0.1", False),  # IPv4-mapped
    ("::1", False),
    ("2606:4700::1111", True),
    ("100.64.0.1", False),  # carrier-grade NAT
    ("224.0.0.1", False),
])
def test_embedded_ipv4_is_judged_by_the_ipv4_address(address, public):
    assert urls.is_public(ipaddress.ip_address(address)) is public
    url = f"https://[{address}]/x" if ":" in address else f"https://{address}/x"
    if public:
        check_url(url, allow_local=False)
    else:
        with pytest.raises(RemoteError) as caught:
            check_url(url, allow_local=False)
        assert caught.value.code == "UNSAFE_RESULT_URL"


def erase(origin, **options):
    return RemoteEraser(KEY, origin, **{**FAST, **options}).erase(*scene())


def refused(origin, **options):
    with pytest.raises(RemoteError) as caught:
        erase(origin, **options)
    return caught.value


def served_result(fake):
    photo, _ = scene()
    fake.files["/files/out.png"] = (200, encode(photo.pixels), {})
    fake.answer_json(200, contract.success_body(fake.origin + "/files/out.png"))


def test_a_typed_url_allows_only_public_addresses(scripted, monkeypatch):
    served_result(scripted)
    monkeypatch.delenv("AILAB_API_URL", raising=False)
    # As the page does with a Service URL a visitor typed: RemoteEraser(key, url).
    with pytest.raises(RemoteError) as caught:
        RemoteEraser(KEY, scripted.origin).erase(*scene())
    assert caught.value.code == "UNSAFE_API_URL" and "AILAB_API_URL" in str(caught.value)
    assert refused(scripted.origin, allow_local=False).code == "UNSAFE_API_URL"
    assert scripted.posts == 0 and scripted.seen_headers == []  # nothing, key included, was sent
    assert erase(scripted.origin).photo.size == (160, 120)  # allow_local=True: the caller vouches for it


def test_a_private_endpoint_needs_the_deployments_own_setting(scripted, monkeypatch):
    served_result(scripted)
    # The endpoint's name resolves to a private address (the connection still goes to loopback).
    monkeypatch.setattr(urls, "addresses", lambda url: [ipaddress.ip_address("10.0.0.7")])
    monkeypatch.delenv("AILAB_API_URL", raising=False)
    assert refused(scripted.origin, allow_local=None).code == "UNSAFE_API_URL" and scripted.posts == 0
    monkeypatch.setenv("AILAB_API_URL", scripted.origin)
    assert erase(scripted.origin, allow_local=None).attempts == 1  # the operator's own setting is trusted
    assert erase(None, allow_local=None).attempts == 1
    assert refused(scripted.origin, allow_local=False).code == "UNSAFE_API_URL"


def test_a_result_url_carrying_the_key_is_not_fetched(scripted):
    photo, _ = scene()
    scripted.files["/files/out.png"] = (200, encode(photo.pixels), {})
    scripted.answer_json(200, contract.success_body(f"{scripted.origin}/files/out.png?k={KEY}"))
    error = refused(scripted.origin)
    assert error.code == "UNSAFE_RESULT_URL" and len(scripted.seen_headers) == 1  # the POST only
    assert KEY not in str(error) + repr(error)


def test_a_redirect_must_stay_on_the_same_host_and_port(scripted):
    other_port = "http://127.0.0.1:9"  # refused before any connection is tried
    scripted.files["/files/moved"] = (302, b"", {"Location": other_port + "/files/out.png"})
    scripted.answer_json(200, contract.success_body(scripted.origin + "/files/moved"))
    assert refused(scripted.origin).code == "UNSAFE_RESULT_URL"
    scripted.files["/files/moved"] = (302, b"", {"Location": "https://127.0.0.1\\x.evil.example/"})
    assert refused(scripted.origin).code == "UNSAFE_RESULT_URL"
