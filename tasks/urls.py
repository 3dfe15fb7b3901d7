"""URL identity: normalisation, article ids, domain scope and address safety."""

from __future__ import annotations

import hashlib
import ipaddress
from urllib.parse import urljoin, urlsplit

import courlan


def normalise_url(url: str, base: str | None = None) -> str | None:
    """Absolute, normalised URL (courlan: case, default ports, fragments, tracking
    parameters such as utm_*, fbclid, xtor removed), or None when it is not http(s)."""
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        return courlan.normalize_url(url, strict=True)
    except ValueError:
        return None


def article_id(normalised_url: str) -> str:
    """Stable row id: a hash of the normalised URL (same URL, same id, on every run)."""
    return hashlib.sha256(normalised_url.encode("utf-8")).hexdigest()[:32]


def host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


def in_domains(url: str, domains: list[str]) -> bool:
    """True when the URL's host is one of ``domains`` or a subdomain of one."""
    host = host_of(url)
    if host is None:
        return False
    return any(host == d or host.endswith("." + d) for d in domains)


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local (cloud metadata 169.254.169.254 included),
    multicast, reserved and unspecified addresses."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
