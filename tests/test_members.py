"""Members: list them, change roles, remove, leave; the last-owner rule, also under
concurrency; and every change holds on the person's very next request."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from models.access import Permission, UserPrincipal, organization_access
from models.entities import Membership, Role
from models.members import member_change_role
from models.passwords import Passwords
from server import create_app
from settings import Settings
from tests.harness import Api, Clock
from tests.support import ORGANIZATION_NAME, assert_code, random_id
from tests.team_support import (
    LEAVE_ORGANIZATION,
    MEMBERS,
    REMOVE_MEMBER,
    change_role,
    join,
    members_of,
)

CREATE_KEY = """
mutation C($id: ID) { createApiKey(input: {organizationId: $id, name: "k"}) { __typename } }
"""


async def test_members_are_listed_page_by_page(api: Api, clock: Clock) -> None:
    # given an owner and three people who joined after, a minute apart
    owner = await api.sign_up()
    joined = []
    for role in ("MEMBER", "ADMIN", "MEMBER"):
        clock.advance(minutes=1)
        joined.append(await join(api, owner, role))
    member = joined[0]
    # when a member pages through two at a time
    seen, after = [], None
    for _ in range(3):
        data = await api.query(
            MEMBERS, {"id": owner.organization_id, "first": 2, "after": after}, token=member.session
        )
        members = data["organization"]["members"]
        assert members["totalCount"] == 4
        seen += [(e["node"]["user"]["id"], e["node"]["role"]) for e in members["edges"]]
        after = members["pageInfo"]["endCursor"]
        if not members["pageInfo"]["hasNextPage"]:
            break
    # then everyone appears once, earliest to join first
    assert seen == [
        (owner.user_id, "OWNER"),
        (joined[0].user_id, "MEMBER"),
        (joined[1].user_id, "ADMIN"),
        (joined[2].user_id, "MEMBER"),
    ]
    # and another member's organizations are not shown through their user
    data = await api.query(MEMBERS, {"id": owner.organization_id}, token=member.session)
    others = [e["node"]["user"] for e in data["organization"]["members"]["edges"]]
    assert all(
        u["organizations"]["totalCount"] == 0 for u in others if u["id"] != member.user_id
    )


async def test_bad_page_sizes_are_refused(api: Api) -> None:
    owner = await api.sign_up()
    for first in (-1, 101):  # 0 is a valid Relay page: empty, with hasNextPage
        error = await api.error(
            MEMBERS, {"id": owner.organization_id, "first": first}, token=owner.session
        )
        assert_code(error, "BAD_USER_INPUT")
    error = await api.error(
        MEMBERS, {"id": owner.organization_id, "after": "x"}, token=owner.session
    )
    assert_code(error, "BAD_USER_INPUT")


async def test_keys_see_no_members(api: Api) -> None:
    owner = await api.sign_up()
    _, secret = await api.create_key(owner)
    for token in (secret, owner.default_key["token"]):
        status, body = await api.raw(MEMBERS, {"id": owner.organization_id}, token=token)
        assert status == 200
        refused = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
        assert refused[("organization", "members")] == "FORBIDDEN"
        assert set(refused.values()) == {"FORBIDDEN"}


async def test_promotion_and_demotion_hold_on_the_next_request(api: Api) -> None:
    # given a member, who may not create keys
    owner = await api.sign_up()
    member = await join(api, owner)
    promoted = {"id": owner.organization_id}
    assert_code(await api.error(CREATE_KEY, promoted, token=member.session), "FORBIDDEN")
    # when the owner makes them an admin, they may, on their very next request
    result = await change_role(api, owner, member, "ADMIN")
    assert (result["__typename"], result["member"]["role"]) == ("MemberRoleChanged", "ADMIN")
    created = await api.query(CREATE_KEY, promoted, token=member.session)
    assert created["createApiKey"]["__typename"] == "ApiKeyCreated"
    # and when made a member again, they may not, on their very next request
    assert (await change_role(api, owner, member, "MEMBER"))["__typename"] == "MemberRoleChanged"
    assert_code(await api.error(CREATE_KEY, promoted, token=member.session), "FORBIDDEN")


async def test_an_admin_manages_members_and_admins_but_not_owners(api: Api) -> None:
    owner = await api.sign_up()
    admin = await join(api, owner, "ADMIN")
    member = await join(api, owner)
    # an admin moves people between MEMBER and ADMIN
    assert (await change_role(api, admin, member, "ADMIN"))["__typename"] == "MemberRoleChanged"
    assert (await change_role(api, admin, member, "MEMBER"))["__typename"] == "MemberRoleChanged"
    # but neither makes nor unmakes an owner, nor removes one
    assert (await change_role(api, admin, member, "OWNER"))["__typename"] == "FORBIDDEN"
    assert (await change_role(api, admin, owner, "MEMBER"))["__typename"] == "FORBIDDEN"
    error = await api.error(
        REMOVE_MEMBER,
        {"input": {"organizationId": owner.organization_id, "userId": owner.user_id}},
        token=admin.session,
    )
    assert_code(error, "FORBIDDEN")
    # and a member changes nothing
    assert (await change_role(api, member, admin, "MEMBER"))["__typename"] == "FORBIDDEN"
    assert await members_of(api, owner.session, owner.organization_id) == {
        owner.user_id: "OWNER",
        admin.user_id: "ADMIN",
        member.user_id: "MEMBER",
    }


async def test_the_last_owner_stays(api: Api) -> None:
    # given an organization with one owner
    owner = await api.sign_up()
    admin = await join(api, owner, "ADMIN")
    # then the owner can neither demote, remove, nor leave themself
    assert (await change_role(api, owner, owner, "ADMIN"))["__typename"] == "LastOwner"
    removed = await api.query(
        REMOVE_MEMBER,
        {"input": {"organizationId": owner.organization_id, "userId": owner.user_id}},
        token=owner.session,
    )
    assert removed["removeMember"]["__typename"] == "LastOwner"
    left = await api.query(
        LEAVE_ORGANIZATION,
        {"input": {"organizationId": owner.organization_id}},
        token=owner.session,
    )
    assert left["leaveOrganization"]["__typename"] == "LastOwner"
    # but once there is a second owner, they can leave
    assert (await change_role(api, owner, admin, "OWNER"))["__typename"] == "MemberRoleChanged"
    left = await api.query(
        LEAVE_ORGANIZATION,
        {"input": {"organizationId": owner.organization_id}},
        token=owner.session,
    )
    assert left["leaveOrganization"] == {
        "__typename": "OrganizationLeft",
        "organizationId": owner.organization_id,
    }
    assert await members_of(api, admin.session, owner.organization_id) == {admin.user_id: "OWNER"}


async def test_two_owners_demoting_each_other_at_once(api: Api) -> None:
    # given organizations with two owners each (several rounds: a race shows itself rarely)
    for _ in range(5):
        first = await api.sign_up()
        second = await join(api, first, "OWNER")
        # when each demotes the other at the same moment
        results = await asyncio.gather(
            change_role(api, first, second, "ADMIN"), change_role(api, second, first, "ADMIN")
        )
        # then exactly one succeeds; the other is LastOwner, or FORBIDDEN when it was already
        # demoted by the time its request looked; one owner remains
        outcomes = sorted(r["__typename"] for r in results)
        assert outcomes in (["LastOwner", "MemberRoleChanged"], ["FORBIDDEN", "MemberRoleChanged"])
        roles = await members_of(api, first.session, first.organization_id)
        assert sorted(roles.values()) == ["ADMIN", "OWNER"]


async def test_the_write_itself_keeps_an_owner(api: Api, db: None) -> None:
    """Both owners hold their access (as two requests that both passed the access check)
    before either writes: only the guarded statement stands between them and no owner."""
    for _ in range(5):
        # given two owners, each with an access taken before the other's change
        first = await api.sign_up()
        second = await join(api, first, "OWNER")
        organization_id = uuid.UUID(first.organization_id)
        accesses = [
            await organization_access(
                UserPrincipal(user_id=uuid.UUID(a.user_id), session_id=uuid.uuid4()),
                organization_id,
                Permission.MANAGE_MEMBERS,
            )
            for a in (first, second)
        ]
        assert accesses[0] is not None and accesses[1] is not None
        # when each demotes the other at once
        results = await asyncio.gather(
            member_change_role(
                access=accesses[0], user_id=uuid.UUID(second.user_id), role=Role.ADMIN
            ),
            member_change_role(
                access=accesses[1], user_id=uuid.UUID(first.user_id), role=Role.MEMBER
            ),
            return_exceptions=True,
        )
        # then exactly one succeeds and the other is LastOwner
        kinds = sorted(type(r).__name__ for r in results)
        assert kinds == ["LastOwner", "Membership"], results
        owners = await Membership.filter(organization_id=organization_id, role=Role.OWNER).count()
        assert owners == 1


async def test_two_owners_removing_each_other_at_once(api: Api) -> None:
    for _ in range(5):
        first = await api.sign_up()
        second = await join(api, first, "OWNER")

        async def remove(actor_session: str, user_id: str, organization_id: str) -> str:
            data = await api.query(
                REMOVE_MEMBER,
                {"input": {"organizationId": organization_id, "userId": user_id}},
                token=actor_session,
            )
            return str(data["removeMember"]["__typename"])

        results = await asyncio.gather(
            remove(first.session, second.user_id, first.organization_id),
            remove(second.session, first.user_id, first.organization_id),
        )
        # then exactly one is removed: the other request met the last owner, or, already
        # removed by the time it looked, found no such organization for its sender
        assert sorted(results) in (
            ["LastOwner", "MemberRemoved"],
            ["MemberNotFound", "MemberRemoved"],
        )
        remaining = await members_of(
            api,
            first.session if results[0] == "MemberRemoved" else second.session,
            first.organization_id,
        )
        assert list(remaining.values()) == ["OWNER"]


async def test_a_removed_member_is_refused_on_the_next_request(api: Api) -> None:
    # given a member who can see the organization
    owner = await api.sign_up()
    member = await join(api, owner, "ADMIN")
    variables = {"id": owner.organization_id}
    data = await api.query(ORGANIZATION_NAME, variables, token=member.session)
    assert data["organization"]["id"] == owner.organization_id
    # when the owner removes them
    removed = await api.query(
        REMOVE_MEMBER,
        {"input": {"organizationId": owner.organization_id, "userId": member.user_id}},
        token=owner.session,
    )
    assert removed["removeMember"] == {"__typename": "MemberRemoved", "userId": member.user_id}
    # then their very next request no longer sees it, nor may create keys in it
    data = await api.query(ORGANIZATION_NAME, variables, token=member.session)
    assert data["organization"] is None
    created = await api.query(CREATE_KEY, variables, token=member.session)
    assert created["createApiKey"]["__typename"] == "OrganizationNotFound"


async def test_unknown_members_and_organizations_are_not_found(api: Api) -> None:
    owner, stranger = await api.sign_up(), await api.sign_up()
    outsider = await api.sign_up()
    for organization_id, user_id in (
        (owner.organization_id, outsider.user_id),
        (owner.organization_id, random_id()),
        (owner.organization_id, "nope"),
        (stranger.organization_id, stranger.user_id),
        ("nope", owner.user_id),
    ):
        for document, field in ((REMOVE_MEMBER, "removeMember"),):
            data = await api.query(
                document,
                {"input": {"organizationId": organization_id, "userId": user_id}},
                token=owner.session,
            )
            assert data[field]["__typename"] == "MemberNotFound", (organization_id, user_id)
        outsider.user_id, saved = user_id, outsider.user_id
        result = await change_role(api, owner, outsider, "ADMIN", organization_id)
        outsider.user_id = saved
        assert result["__typename"] == "MemberNotFound"
    left = await api.query(
        LEAVE_ORGANIZATION,
        {"input": {"organizationId": stranger.organization_id}},
        token=owner.session,
    )
    assert left["leaveOrganization"]["__typename"] == "OrganizationNotFound"


async def test_a_member_may_leave(api: Api) -> None:
    owner = await api.sign_up()
    member = await join(api, owner)
    left = await api.query(
        LEAVE_ORGANIZATION,
        {"input": {"organizationId": owner.organization_id}},
        token=member.session,
    )
    assert left["leaveOrganization"]["__typename"] == "OrganizationLeft"
    data = await api.query(ORGANIZATION_NAME, {"id": owner.organization_id}, token=member.session)
    assert data["organization"] is None


async def test_a_removal_holds_in_every_api_process(
    api: Api, settings: Settings, clock: Clock, passwords: Passwords, aiohttp_client: Any
) -> None:
    """A second API process on the same database: nothing there may remember the member."""
    # given a member whose requests go to a second process, which has served them once
    owner = await api.sign_up()
    member = await join(api, owner, "ADMIN")
    second = Api(await aiohttp_client(create_app(settings, clock=clock, passwords=passwords)))
    variables = {"id": owner.organization_id}
    seen = await second.query(ORGANIZATION_NAME, variables, token=member.session)
    assert seen["organization"]["id"] == owner.organization_id
    # when the owner removes them through the first process
    removed = await api.query(
        REMOVE_MEMBER,
        {"input": {"organizationId": owner.organization_id, "userId": member.user_id}},
        token=owner.session,
    )
    assert removed["removeMember"]["__typename"] == "MemberRemoved"
    # then the second process refuses their very next request
    seen = await second.query(ORGANIZATION_NAME, variables, token=member.session)
    assert seen["organization"] is None
    created = await second.query(CREATE_KEY, variables, token=member.session)
    assert created["createApiKey"]["__typename"] == "OrganizationNotFound"
