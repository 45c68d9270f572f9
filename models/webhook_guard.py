"""The SSRF guard: where a webhook may be sent.

A URL must be `https` (or `http` with WEBHOOK_ALLOW_HTTP=true), carry no user or password, and
every address its host resolves to must be a public one: not loopback, private, link-local,
multicast, reserved, unspecified or the cloud metadata address, unless
WEBHOOK_ALLOW_PRIVATE_NETWORKS=true. It is checked when an endpoint is created or changed, and
again **when each attempt connects** (`jobs.webhook_delivery` resolves through
`address_refusal`), so a name that later resolves to an internal address gets nowhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from models.errors import InvalidInput
from models.policies import WebhookPolicy

MAX_URL_LENGTH = 2_000
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_refusal(address: str, policy: WebhookPolicy) -> str | None:
    """Why a webhook may not connect to `address` (an IP), or None when it may."""
    try:
        ip: Address = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if policy.allow_private_networks:
        return None
    kinds = (
        ("the cloud metadata address", ip in _METADATA),
        ("a loopback address", ip.is_loopback),
        ("a link-local address", ip.is_link_local),
        ("a multicast address", ip.is_multicast),
        ("an unspecified address", ip.is_unspecified),
        ("a reserved address", ip.is_reserved),
        ("a private address", ip.is_private or not ip.is_global),
    )
    for kind, matches in kinds:
        if matches:
            return f"{ip} is {kind}"
    return None


def url_parts(url: str, policy: WebhookPolicy) -> SplitResult:
    """The URL's parts, when its form is acceptable; `InvalidInput` on `url` otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput("url", f"A URL needs at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise InvalidInput("url", "This is not a URL.") from None
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in schemes:
        raise InvalidInput(
            "url",
            "A webhook URL must start with https://"
            + ("" if policy.allow_http else " (http:// is off: WEBHOOK_ALLOW_HTTP)."),
        )
    if not parts.hostname:
        raise InvalidInput("url", "The URL names no host.")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url", "A webhook URL may not carry a user name or password.")
    return parts


async def host_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to now (an IP literal is its own)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def webhook_url_check(url: str, policy: WebhookPolicy) -> str:
    """The URL, trimmed, when a webhook may be sent there now; `InvalidInput` on `url` saying
    why not (a bad form, or a host that resolves to an address the guard refuses)."""
    parts = url_parts(url, policy)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await host_addresses(host, port)
    except (OSError, ValueError):  # ValueError: UnicodeError of a label IDNA refuses, a NUL
        raise InvalidInput("url", f"The host {host[:100]} does not resolve.") from None
    for address in addresses:
        refusal = address_refusal(address, policy)
        if refusal is not None:
            raise InvalidInput(
                "url",
                f"Webhooks may not go to {host}: {refusal} "
                "(WEBHOOK_ALLOW_PRIVATE_NETWORKS is off).",
            )
    return parts.geturl()
