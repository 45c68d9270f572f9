"""GitHub's signing keys fetched from GITHUB_SECRET_SCANNING_KEYS_URL (here a real HTTP server in
the test): cached by identifier for an hour, fetched again once for an identifier not yet known
(GitHub rotates keys), but not again and again for made-up identifiers; a server that cannot
answer is `KeysUnavailable` (the endpoint's 503), not a crash."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from tests.leak_support import GitHubSigner
from web.github_keys import (
    CACHE_SECONDS,
    UNKNOWN_RELOAD_SECONDS,
    GitHubKeys,
    KeysUnavailable,
)


class Meta:
    """GitHub's meta endpoint, serving whichever signers the test says, counting fetches."""

    def __init__(self, *signers: GitHubSigner) -> None:
        self.signers = list(signers)
        self.fetches = 0
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.fetches += 1
        keys = [
            {"key_identifier": s.identifier, "key": s.public_pem(), "is_current": True}
            for s in self.signers
        ]
        return web.json_response({"public_keys": keys}, status=self.status)


class Ticks:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def meta(aiohttp_server: Any) -> tuple[Meta, str]:
    served = Meta(GitHubSigner.new("first"))
    app = web.Application()
    app.router.add_get("/meta/public_keys/secret_scanning", served.handle)
    server = await aiohttp_server(app)
    return served, str(server.make_url("/meta/public_keys/secret_scanning"))


async def test_keys_are_cached_and_refetched_once_for_a_new_identifier(
    meta: tuple[Meta, str],
) -> None:
    # given GitHub's meta endpoint with one key
    served, url = meta
    ticks = Ticks()
    keys = GitHubKeys(url=url, clock=ticks)
    # when the key is asked for twice
    assert await keys.key("first") is not None
    assert await keys.key("first") is not None
    # then it was fetched once
    assert served.fetches == 1
    # when GitHub rotates in a second key and a request names it
    served.signers.append(GitHubSigner.new("second"))
    ticks.now += UNKNOWN_RELOAD_SECONDS
    assert await keys.key("second") is not None
    assert served.fetches == 2
    # then made-up identifiers right after cause no further fetch
    for name in ("made-up-1", "made-up-2", "made-up-3"):
        assert await keys.key(name) is None
    assert served.fetches == 2
    # and an hour later the cached key is fetched afresh
    ticks.now += CACHE_SECONDS
    assert await keys.key("first") is not None
    assert served.fetches == 3


async def test_an_unreachable_or_failing_endpoint_is_keys_unavailable(
    meta: tuple[Meta, str],
) -> None:
    # given GitHub's endpoint answering 500, and one nobody listens on
    served, url = meta
    served.status = 500
    # when keys are asked for
    # then each says the keys are unavailable
    with pytest.raises(KeysUnavailable):
        await GitHubKeys(url=url).key("first")
    with pytest.raises(KeysUnavailable):
        await GitHubKeys(url="http://127.0.0.1:9/keys").key("first")
