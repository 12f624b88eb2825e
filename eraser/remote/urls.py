"""The URL rules of the client, for the endpoint and for result URLs alike.

Different parsers read odd URLs differently: urlsplit and urllib3 disagree about a backslash
(`https://127.0.0.1\\x.evil.example/`) or an `@` in the authority, so a check made with one and a
connection made with the other can be about two different hosts. Here a URL is accepted only in
a strict form (RFC 3986 characters, no userinfo, no backslash, no fragment, an ASCII host name
or an address in canonical form) on which both parsers agree by construction; we then also ask
both, and refuse the URL if they still differ. Anything else is refused, never repaired.

Addresses: only globally routable unicast addresses are public; an IPv6 address that carries an
IPv4 one (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) is
judged by the IPv4 address inside.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PCHARS = r"[A-Za-z0-9\-._~!$&'()*+,;=:/]|%[0-9A-Fa-f]{2}"  # RFC 3986 pchar and '/', minus '@'
_URL = re.compile(
    rf"(?P<scheme>https?)://(?P<host>{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{{1,5}}))?"
    rf"(?P<path>(?:/(?:{_PCHARS})*)?)(?:\?(?:{_PCHARS}|\?)*)?"
)
# inet_aton reads "127.1", "0x7f.1" or "2130706433" as 127.0.0.1; no real top-level domain is
# numeric, so a host ending in a number must be a canonical dotted quad.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
LOCAL_NAMES = {"localhost"}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")


@dataclass(frozen=True)
class Url:
    text: str
    scheme: str
    host: str  # lower case; an IPv6 address without its brackets
    port: int
    path: str


def parse(text: str) -> Url | None:
    """The URL in its strict form, or None when it is not in that form."""
    match = _URL.fullmatch(text)
    if not match:
        return None
    scheme, host = match["scheme"], match["host"]
    if host.startswith("["):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
    elif _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        try:
            ipaddress.IPv4Address(host)  # canonical dotted decimal only, no leading zeros
        except ValueError:
            return None
    port = int(match["port"]) if match["port"] else (443 if scheme == "https" else 80)
    if not 1 <= port <= 65535:
        return None
    # Both parsers must read the same host and port (they do for this form; this keeps it so).
    split, connected = urlsplit(text), urllib3.util.parse_url(text)
    if not (split.hostname == (connected.host or "").strip("[]").lower() == host
            and (split.port or port) == (connected.port or port) == port):
        return None
    return Url(text, scheme, host, port, match["path"])


def _judged(ip: ipaddress.IPv4Address | ipaddress.IPv6Address):
    """The address whose class decides: the IPv4 address an IPv6 one carries, else itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip in _NAT64 or (ip in _COMPATIBLE and int(ip) > 1):
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    ip = _judged(ip)
    return ip.is_global and not ip.is_multicast


def is_loopback_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return _judged(ip).is_loopback


def is_loopback(url: Url) -> bool:
    """A loopback address literal, or the name localhost."""
    if url.host in LOCAL_NAMES:
        return True
    try:
        return is_loopback_ip(ipaddress.ip_address(url.host))
    except ValueError:
        return False


def addresses(url: Url) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address the host resolves to (OSError when it does not resolve)."""
    try:
        return [ipaddress.ip_address(url.host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(url.host, url.port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def resolves_public(url: Url) -> bool:
    """True when every address of the host is public (OSError when it does not resolve)."""
    found = addresses(url)
    return bool(found) and all(is_public(ip) for ip in found)
