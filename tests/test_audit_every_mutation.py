"""Every mutation in the schema leaves its trace: a change to an organization writes its audit
events, an account-level change writes to the user's security log. A mutation this table does not
know fails the test, so a new mutation cannot ship without its event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from models.audit_entities import AuditEvent, SecurityEvent
from schema import build_schema
from tests.harness import PASSWORD, SIGN_IN, SIGN_UP, Account, Api
from tests.support import DELETE_API_KEY, ROLL_API_KEY

CREATE_ORGANIZATION = """
mutation Create($input: CreateOrganizationInput!) {
  createOrganization(input: $input) { __typename }
}
"""
END_SESSION = "mutation End($input: EndSessionInput!) { endSession(input: $input) { __typename } }"
SESSIONS = "query { sessions { id current } }"


@dataclass(frozen=True)
class Trace:
    """What a mutation must write: audit actions (in chain order) and security actions."""

    audit: tuple[str, ...] = ()
    security: tuple[str, ...] = ()


Run = Callable[[Api, Account], Awaitable[None]]


async def _sign_up(api: Api, account: Account) -> None:
    await api.query(SIGN_UP, {"input": {"email": "new@example.com", "password": PASSWORD}})


async def _sign_in(api: Api, account: Account) -> None:
    await api.query(SIGN_IN, {"input": {"email": account.email, "password": PASSWORD}})


async def _sign_out(api: Api, account: Account) -> None:
    assert (await api.query("mutation { signOut }", token=account.session))["signOut"] is True


async def _end_session(api: Api, account: Account) -> None:
    other = await api.sign_in(account.email)
    sessions = (await api.query(SESSIONS, token=other))["sessions"]
    [first] = [session["id"] for session in sessions if not session["current"]]
    data = await api.query(END_SESSION, {"input": {"id": first}}, token=other)
    assert data["endSession"]["__typename"] == "SessionEnded"


async def _create_organization(api: Api, account: Account) -> None:
    data = await api.query(
        CREATE_ORGANIZATION, {"input": {"name": "Second"}}, token=account.session
    )
    assert data["createOrganization"]["__typename"] == "OrganizationCreated"


async def _create_api_key(api: Api, account: Account) -> None:
    await api.create_key(account)


async def _roll_api_key(api: Api, account: Account) -> None:
    key_id = account.default_key["id"]
    data = await api.query(ROLL_API_KEY, {"input": {"id": key_id}}, token=account.session)
    assert data["rollApiKey"]["__typename"] == "ApiKeyRolled"


RENAME_API_KEY = """
mutation Rename($input: RenameApiKeyInput!) { renameApiKey(input: $input) { __typename } }
"""


async def _rename_api_key(api: Api, account: Account) -> None:
    variables = {"input": {"id": account.default_key["id"], "name": "Website"}}
    data = await api.query(RENAME_API_KEY, variables, token=account.session)
    assert data["renameApiKey"]["__typename"] == "ApiKeyRenamed"


async def _delete_api_key(api: Api, account: Account) -> None:
    key_id = account.default_key["id"]
    data = await api.query(DELETE_API_KEY, {"input": {"id": key_id}}, token=account.session)
    assert data["deleteApiKey"]["__typename"] == "ApiKeyDeleted"


# Setup work (signing in for endSession) writes its own security events: counted separately.
MUTATIONS: dict[str, tuple[Run, Trace]] = {
    "signUp": (
        _sign_up,
        Trace(audit=("organization.created", "api_key.created"), security=("user.signed_up",)),
    ),
    "signIn": (_sign_in, Trace(security=("user.signed_in",))),
    "signOut": (_sign_out, Trace(security=("user.signed_out",))),
    "endSession": (_end_session, Trace(security=("user.signed_in", "session.ended"))),
    "createOrganization": (
        _create_organization,
        Trace(audit=("organization.created", "api_key.created")),
    ),
    "createApiKey": (_create_api_key, Trace(audit=("api_key.created",))),
    "rollApiKey": (_roll_api_key, Trace(audit=("api_key.rolled",))),
    "renameApiKey": (_rename_api_key, Trace(audit=("api_key.updated",))),
    "deleteApiKey": (_delete_api_key, Trace(audit=("api_key.deleted",))),
}


def _mutation_names() -> list[str]:
    mutation = build_schema()._schema.mutation_type
    assert mutation is not None
    return sorted(mutation.fields)


def test_every_mutation_in_the_schema_is_in_the_table() -> None:
    unknown = set(_mutation_names()) - set(MUTATIONS)
    assert not unknown, (
        f"mutations that record nothing (add them here, with their events): {unknown}"
    )


@pytest.mark.parametrize("name", _mutation_names())
async def test_the_mutation_writes_its_events(api: Api, db: None, name: str) -> None:
    if name not in MUTATIONS:
        pytest.fail(f"{name} records no audit or security event")
    run, trace = MUTATIONS[name]
    account = await api.sign_up()
    audit_before = set(await AuditEvent.all().values_list("id", flat=True))
    security_before = set(await SecurityEvent.all().values_list("id", flat=True))
    # when
    await run(api, account)
    # then
    written = await AuditEvent.exclude(id__in=audit_before).order_by("organization_id", "sequence")
    assert tuple(event.action for event in written) == trace.audit, name
    secured = await SecurityEvent.exclude(id__in=security_before).order_by("id")
    assert tuple(event.action for event in secured) == trace.security, name
    assert trace.audit or trace.security, f"{name} must leave a trace"
