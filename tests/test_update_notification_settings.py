"""updateNotificationSettings and `me { notificationSettings }`: a user turns their own expiry
notice mails off and on; the job then mails only those who want it."""

from __future__ import annotations

from datetime import timedelta

from models.entities import OutboxMessage, Role
from models.expiry_notices import api_keys_notify_expiring
from models.policies import MailPolicy
from tests.harness import Api, Clock
from tests.support import add_member

UPDATE = """
mutation Update($input: UpdateNotificationSettingsInput!) {
  updateNotificationSettings(input: $input) {
    __typename
    ... on NotificationSettingsUpdated { notificationSettings { expiryNotices } }
    ... on Error { message }
    ... on InvalidInput { field }
  }
}
"""
ME = """
query { me { notificationSettings { expiryNotices }
  securityEvents(first: 1) { edges { node { action } } } } }
"""
MEMBERS = """
query Members($id: ID!) {
  organization(id: $id) { members(first: 10) { edges { node { user { email
    notificationSettings { expiryNotices } } } } } }
}
"""
MAIL = MailPolicy(enabled=True, public_url="https://keys.example")


async def test_turning_expiry_notices_off_and_on(api: Api) -> None:
    # given a new account: notices are on
    account = await api.sign_up()
    me = (await api.query(ME, token=account.session))["me"]
    assert me["notificationSettings"] == {"expiryNotices": True}
    # when they turn them off
    data = await api.query(UPDATE, {"input": {"expiryNotices": False}}, token=account.session)
    # then
    assert data["updateNotificationSettings"] == {
        "__typename": "NotificationSettingsUpdated",
        "notificationSettings": {"expiryNotices": False},
    }
    me = (await api.query(ME, token=account.session))["me"]
    assert me["notificationSettings"] == {"expiryNotices": False}
    assert me["securityEvents"]["edges"][0]["node"]["action"] == (
        "user.notification_settings_changed"
    )
    # and back on
    data = await api.query(UPDATE, {"input": {"expiryNotices": True}}, token=account.session)
    assert data["updateNotificationSettings"]["notificationSettings"] == {"expiryNotices": True}


async def test_no_setting_given_is_invalid_input(api: Api) -> None:
    account = await api.sign_up()
    data = await api.query(UPDATE, {"input": {}}, token=account.session)
    assert data["updateNotificationSettings"]["__typename"] == "InvalidInput"
    assert data["updateNotificationSettings"]["field"] == "expiryNotices"


async def test_unauthenticated_and_api_keys_are_refused(api: Api) -> None:
    account = await api.sign_up()
    _, token = await api.create_key(account)
    anonymous = await api.error(UPDATE, {"input": {"expiryNotices": False}})
    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED"
    by_key = await api.error(UPDATE, {"input": {"expiryNotices": False}}, token=token)
    assert by_key["extensions"]["code"] == "FORBIDDEN"
    me = (await api.query(ME, token=account.session))["me"]
    assert me["notificationSettings"] == {"expiryNotices": True}


async def test_another_members_settings_are_not_shown(api: Api, db: None) -> None:
    # given an owner and an admin of one organization
    owner, admin = await api.sign_up(), await api.sign_up()
    await add_member(admin, owner.organization_id, Role.ADMIN)
    # when the owner lists the members
    data = await api.query(MEMBERS, {"id": owner.organization_id}, token=owner.session)
    # then they see their own settings, not the admin's
    users = {
        edge["node"]["user"]["email"]: edge["node"]["user"]["notificationSettings"]
        for edge in data["organization"]["members"]["edges"]
    }
    assert users == {owner.email: {"expiryNotices": True}, admin.email: None}


async def test_the_expiry_job_mails_only_those_who_want_it(
    api: Api, db: None, clock: Clock
) -> None:
    # given an owner who turned notices off, an admin who did not, and a key expiring in 3 days
    owner, admin = await api.sign_up(), await api.sign_up()
    await add_member(admin, owner.organization_id, Role.ADMIN)
    await api.query(UPDATE, {"input": {"expiryNotices": False}}, token=owner.session)
    expires = clock.now + timedelta(days=3)
    await api.create_key(owner, name="billing", expiresAt=expires.isoformat())
    # when the job runs
    assert await api_keys_notify_expiring(now=clock.now, mail=MAIL) == 1
    # then only the admin is mailed
    mails = [row.payload for row in await OutboxMessage.all()]
    assert [mail["to"] for mail in mails] == [admin.email]
    assert "billing" in str(mails[0]["subject"])
