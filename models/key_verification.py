"""Verification: whether a token is a usable key at `now`, decided from its timestamps and its
restrictions alone.

A made-up or mistyped token is MALFORMED without touching the database; otherwise one indexed
lookup by digest (see `models.key_lookup`), or none when the process's cache holds the key (see
`models.key_cache`). A rolled key's grace is folded into its `expires_at`, so verification never
waits for a job. The order is malformed → unknown → expired → restrictions
(`models.restrictions`): a restricted key used from elsewhere is FORBIDDEN (in REPORT_ONLY mode,
VALID, and the would-be denial is recorded).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache, partial

from models import expiry, tokens
from models.entities import ApiKeyType
from models.errors import Problems
from models.key_cache import MISSING, key_cache_current
from models.key_lookup import KeyRow, key_by_digest, last_used_record
from models.restrictions import (
    DenialReason,
    IpAddress,
    Origin,
    RestrictionMode,
    parse_address,
    parse_origin,
    restrictions_of,
)
from models.usage import Denied, Seen, verification_seen

# lastUsedAt is a hint for people, not an audit log: one write per key per minute at most
# keeps the verification hot path read-only under load.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class VerificationCode(StrEnum):
    VALID = "VALID"
    MALFORMED = "MALFORMED"
    NOT_FOUND = "NOT_FOUND"
    EXPIRED = "EXPIRED"
    FORBIDDEN = "FORBIDDEN"


# Usage outcome of a REPORT_ONLY key used from outside its restrictions: answered VALID.
REPORTED = "REPORTED"
REPORT_ONLY = RestrictionMode.REPORT_ONLY.value


@dataclass(frozen=True, slots=True)
class Verification:
    code: VerificationCode
    key_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    type: ApiKeyType | None = None
    name: str | None = None
    expires_at: datetime | None = None
    # Rolled and still inside its grace period: it verifies, but may no longer manage keys.
    rolled: bool = False
    # FORBIDDEN: which restriction refused the caller.
    reason: DenialReason | None = None

    @property
    def valid(self) -> bool:
        return self.code is VerificationCode.VALID


_MALFORMED = Verification(VerificationCode.MALFORMED)
_NOT_FOUND = Verification(VerificationCode.NOT_FOUND)
_EXPIRED = Verification(VerificationCode.EXPIRED)
_KEY_KINDS = (tokens.TokenKind.PUBLIC_KEY, tokens.TokenKind.SECRET_KEY)


@lru_cache(maxsize=4096)
def _caller_origin(text: str) -> Origin:
    return parse_origin(text, referer=True)


def caller_of(client_ip: str | None, origin: str | None) -> tuple[IpAddress | None, Origin | None]:
    """The caller's address and origin, parsed; a malformed one (an empty one too) is an
    `InvalidInput` naming `clientIp` or `origin`. `origin` may be a whole Referer: its path is
    dropped."""
    problems = Problems()
    address = caller = None
    if client_ip is not None:
        try:
            address = parse_address(client_ip)
        except ValueError:
            problems.add("clientIp", "clientIp is not an IPv4 or IPv6 address.")
    if origin is not None:
        try:
            caller = _caller_origin(origin)
        except ValueError as error:
            problems.add("origin", f"origin: {error}")
    problems.check()
    return address, caller


async def api_key_verify(
    *,
    token: str,
    now: datetime,
    within: Collection[uuid.UUID] | None = None,
    client_ip: str | None = None,
    origin: str | None = None,
    check_origins: bool = True,
) -> Verification:
    """Whether `token` is a usable key at `now`, for a caller at `client_ip` (the resource
    server's view of its caller) from `origin`. With `within`, a key of any other organization
    is NOT_FOUND and its usage is not recorded. Each verification is counted for its key's
    owner (`models.usage`), cache hits included; a refused one with its address and origin.
    Raises `InvalidInput` for a malformed `client_ip` or `origin`, before looking at the token.
    Without
    `check_origins` (a key as a bearer on keyward's own API) only networks are checked."""
    address, caller = caller_of(client_ip, origin)
    cache = key_cache_current()
    if cache is None:
        if tokens.parse(token) not in _KEY_KINDS:
            return _MALFORMED
        digest = tokens.digest(token)
        row = await key_by_digest(digest)
    else:
        # Only well-formed key tokens are ever cached, so a cached answer skips the parse.
        try:
            digest = tokens.digest(token) if len(token) <= tokens.MAX_TOKEN_LENGTH else ""
        except UnicodeEncodeError:  # a lone surrogate: no token of ours
            return _MALFORMED
        await cache.catch_up()
        found = cache.cached(digest)
        if found is MISSING:
            if tokens.parse(token) not in _KEY_KINDS:
                return _MALFORMED
            found = await cache.load(digest)
        row = found
    if row is not None and within is not None and row.organization_id not in within:
        return _NOT_FOUND
    expired = row is not None and expiry.ended(row.expires_at, now)
    reason = None
    if row is not None and not expired:
        restrictions = restrictions_of(
            row.allowed_cidrs, row.allowed_origins if check_origins else None
        )
        reason = restrictions.denial(address, caller)
    enforced = reason is not None and row is not None and row.restriction_mode != REPORT_ONLY
    outcome: str = (
        VerificationCode.NOT_FOUND
        if row is None
        else VerificationCode.EXPIRED
        if expired
        else VerificationCode.FORBIDDEN
        if enforced
        else REPORTED
        if reason is not None
        else VerificationCode.VALID
    )
    verification_seen(
        digest=digest,
        seen=Seen(
            key_id=None if row is None else row.id,
            organization_id=None if row is None else row.organization_id,
            outcome=outcome,
            denied=None
            if reason is None
            else Denied(
                at=now,
                reason=reason,
                address=None if address is None else str(address),
                origin=None if caller is None else str(caller),
            ),
        ),
        now=now,
        within=within,
        client_address=client_ip,
    )
    if row is None:
        return _NOT_FOUND
    if expired:
        return _EXPIRED
    if enforced:
        return Verification(VerificationCode.FORBIDDEN, reason=reason)
    since = now - LAST_USED_RESOLUTION
    if row.last_used_at is None or row.last_used_at <= since:
        recorded = None if cache is None else partial(cache.used, digest, now)
        await last_used_record(row.id, now=now, since=since, recorded=recorded)
    return _valid(row)


# The answer for a row, by the row's identity: a cached key's row is one object until it changes,
# so its answer is built once, and the HTTP edge can serialise it once too (`web/verify.py`).
_ANSWERS: dict[int, tuple[KeyRow, Verification]] = {}
MAX_ANSWERS = 20_000  # cleared, not evicted, when full: rebuilding an answer costs microseconds


def _valid(row: KeyRow) -> Verification:
    found = _ANSWERS.get(id(row))
    if found is not None and found[0] is row:
        return found[1]
    answer = Verification(
        code=VerificationCode.VALID,
        key_id=row.id,
        organization_id=row.organization_id,
        type=ApiKeyType(row.type),
        name=row.name,
        expires_at=row.expires_at,
        rolled=row.rolled_at is not None,
    )
    if len(_ANSWERS) >= MAX_ANSWERS:
        _ANSWERS.clear()
    _ANSWERS[id(row)] = (row, answer)
    return answer
