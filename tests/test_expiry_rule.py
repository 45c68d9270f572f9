"""One rule for when a credential stops working (`models/expiry.py`), held to itself in every
form it takes: the Python predicate, the ORM filters, the raw SQL of the hot path and the purge,
and what verification and sign-in answer, at the boundary instants where a drift would show."""

from __future__ import annotations

from datetime import timedelta

from models import expiry
from models.entities import ApiKey, ApiKeyStatus, api_key_status
from models.key_listing import KeyFilter, key_page
from models.pagination import PageRequest
from models.sql import is_sqlite
from tests.harness import Clock
from tests.jobs_support import keys_make, organization_make

TICK = timedelta(microseconds=1)
TEN = PageRequest(first=10)


async def test_every_form_of_the_rule_agrees_at_the_boundary(db: None, clock: Clock) -> None:
    # given keys ending just before, exactly at, and just after `now`, and one that never ends
    now = clock.now
    organization = await organization_make(now=now - timedelta(days=1))
    offsets = {"before": -TICK, "at": timedelta(0), "after": TICK, "never": None}
    ids = {}
    for label, offset in offsets.items():
        [key] = await keys_make(
            organization,
            1,
            created_at=now - timedelta(hours=1),
            expires_at=None if offset is None else now + offset,
        )
        ids[key.id] = label
    # when each form of the rule says which have ended
    python = {ids[k.id] for k in await ApiKey.all() if expiry.ended(k.expires_at, now)}
    orm_ended = {ids[k.id] for k in await ApiKey.filter(expiry.ended_q(now))}
    orm_live = {ids[k.id] for k in await ApiKey.filter(expiry.live_q(now))}
    connection = ApiKey._meta.db
    mark = "?" if is_sqlite(connection) else "$1"
    select = "SELECT id FROM api_key WHERE "
    _, rows = await connection.execute_query(select + expiry.ended_sql(mark), [now])
    raw = {ids[k.id] for k in await ApiKey.filter(id__in=[row["id"] for row in rows])}
    _, rows = await connection.execute_query(select + expiry.live_sql(mark), [now])
    raw_live = {ids[k.id] for k in await ApiKey.filter(id__in=[row["id"] for row in rows])}
    listed = {
        status: {ids[row.id] for row in (await key_page(organization.id, TEN, narrow)).items}
        for status in (ApiKeyStatus.EXPIRED, ApiKeyStatus.ACTIVE)
        for narrow in [KeyFilter(now=now, statuses=frozenset({status}))]
    }
    statuses = {
        ids[k.id]
        for k in await ApiKey.all()
        if api_key_status(k.expires_at, None, now) is ApiKeyStatus.EXPIRED
    }
    # then they agree, and a credential stops working at its instant, not a moment later
    assert python == orm_ended == raw == statuses == {"before", "at"}
    assert orm_live == raw_live == {"after", "never"}
    assert listed == {ApiKeyStatus.EXPIRED: {"before", "at"}, ApiKeyStatus.ACTIVE: orm_live}
