"""The client's network address, for the per-address sign-in limit.

Behind reverse proxies every request comes from a proxy, so one attacker would lock everyone
out; `TRUSTED_PROXY_HOPS` says how many proxies append to `X-Forwarded-For`, and the address is
taken that many entries from the right. Entries further left are whatever the client sent and
are never trusted.
"""

from __future__ import annotations

from aiohttp import web


def client_address(request: web.Request, trusted_proxy_hops: int) -> str:
    peer = request.remote or ""
    if trusted_proxy_hops < 1:
        return peer
    forwarded = [
        hop.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    if len(forwarded) < trusted_proxy_hops:
        return peer
    return forwarded[-trusted_proxy_hops][:64]
