"""URL identity: the address fetched, the identity of an article, domain scope and address safety.

Two things are kept apart. The *address* is the URL as discovered, fetched as it is: only
the fragment goes (it never reaches a server) and only what RFC 3986 says cannot change the
resource (scheme and host case, the scheme's default port). Every query parameter and
every ``//`` of a path stays: ``article.php?storyid=504`` is another page than
``article.php``, and ``web.archive.org/web/2008…/http://www.example.de/`` needs its ``//``.
The *identity* (canonical_url, article_id, duplicate detection) drops from an address the
query parameters that only say how a reader arrived (TRACKING_PARAMS), and nothing else.
courlan's own cleaning is not used for it: its strict mode drops every parameter it does not
know, its lenient mode any name containing "id", "ref" or "source".
"""

from __future__ import annotations

import hashlib
import ipaddress
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import courlan

# Query parameters of campaigns, ad clicks, mailing lists and share buttons: removed from an
# article's identity (never from the address fetched). A name matches exactly or, for the
# prefixes, by its start; case-insensitive.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
    "li_fat_id", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "xtor", "xtref", "ocid", "cmpid", "ito",
    "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "ref_src", "ref_url", "sr_share",
    "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4", "s_cid", "cmp", "intcmp",
    "wt_mc", "wt.mc_id", "vero_id", "oly_anon_id", "oly_enc_id", "_ga", "_gl", "spm", "share", "amp",
})
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "matomo_", "piwik_")
DEFAULT_PORTS = {"http": 80, "https": 443}


def fetch_address(url: str, base: str | None = None) -> str | None:
    """The address to fetch: absolute (resolved against ``base``), http(s), without its
    fragment; scheme and host lower-cased, the default port dropped; nothing else changed.
    None when it is not an http(s) URL."""
    try:  # a page's link may be no URL at all ("http://[::1")
        parts = urlsplit(urljoin(base, url.strip()) if base else url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        return None
    netloc = parts.netloc.rpartition("@")
    host = netloc[2].lower()
    if port is not None and port == DEFAULT_PORTS[parts.scheme.lower()]:
        host = host.rpartition(":")[0]
    return urlunsplit((parts.scheme.lower(), netloc[0] + netloc[1] + host, parts.path, parts.query, ""))


def is_tracking(name: str) -> bool:
    """A query parameter that only tells how a reader arrived (TRACKING_PARAMS)."""
    name = unquote(name).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def identity_url(url: str, base: str | None = None) -> str | None:
    """The address of ``url`` (fetch_address) without its tracking parameters: what the
    dataset records as an article's address (canonical_url)."""
    address = fetch_address(url, base)
    if address is None:
        return None
    parts = urlsplit(address)
    if not parts.query:
        return address
    query = "&".join(p for p in parts.query.split("&") if p and not is_tracking(p.partition("=")[0]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def identity_key(url: str) -> str:
    """The string an article id hashes: courlan's normalisation of scheme, host and path
    (the ids of URLs without a query are those of earlier versions), then the query without
    tracking parameters, its parameters in name order (another order is the same page)."""
    parts = urlsplit(identity_url(url) or url)
    try:
        key = courlan.normalize_url(urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), strict=True)
    except ValueError:
        key = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if not parts.query:
        return key
    return f"{key}?{'&'.join(sorted(parts.query.split('&'), key=lambda p: p.partition('=')[0]))}"


def identifying_params(url: str) -> set[str]:
    """The query parameters (name=value) of ``url`` that are not tracking parameters."""
    return {p for p in urlsplit(url).query.split("&") if p and not is_tracking(p.partition("=")[0])}


def article_id(canonical_url: str) -> str:
    """Stable row id: a hash of the canonical URL's identity_key (same article, same id, on every run)."""
    return hashlib.sha256(identity_key(canonical_url).encode("utf-8")).hexdigest()[:32]


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
