"""Teams in a real browser: an owner invites someone, who accepts in a browser of their own
(a second context: another person's tabs), sees the keys but no "New API key"; promoted, they
create one; removed, their very next request is refused."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.browser_support import screenshot

pytest_plugins = ["tests.browser_fixtures"]

PASSWORD = "correct horse battery staple"


def sign_up(page: Any, server: str, email: str, organization: str | None = None) -> None:
    from playwright.sync_api import expect

    page.goto(server)
    page.get_by_role("tab", name="Create account").click()
    form = page.get_by_role("form", name="Create account")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    if organization:
        form.get_by_label("Organization name").fill(organization)
    form.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()


def test_invite_accept_promote_remove(
    context: Any, browser: Any, server: str, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    owner = context.new_page()
    sign_up(owner, server, f"{uuid.uuid4().hex[:10]}@example.com", "Acme")
    invited_email = f"{uuid.uuid4().hex[:10]}@example.com"

    # given the owner invites someone from the Members page (mail is off: the link is shown)
    owner.get_by_role("link", name="Members").click()
    expect(owner.get_by_role("heading", name="Members")).to_be_visible()
    owner.get_by_role("button", name="Invite member").click()
    dialog = owner.get_by_role("dialog")
    dialog.get_by_label("Email").fill(invited_email)
    dialog.get_by_role("button", name="Send invitation").click()
    expect(dialog.get_by_text("Mail is off")).to_be_visible()
    link = dialog.locator("[data-token]").inner_text()
    assert "#invitation=inv_" in link
    screenshot(owner, "teams-1-invited")
    dialog.get_by_role("button", name="Done").click()
    expect(owner.get_by_role("row", name=re.compile(re.escape(invited_email)))).to_be_visible()

    # when the invited person opens the link in their own browser, signs up and accepts
    other = browser.new_context(viewport={"width": 1360, "height": 820}, locale="en-GB")
    other.on("weberror", lambda error: console_errors.append(str(error.error)))
    member = other.new_page()
    member.goto(server + "/" + link[link.index("#") :])
    expect(member.get_by_text("with the invited email")).to_be_visible()
    assert "#" not in member.url  # the token left the address bar at once
    member.get_by_role("tab", name="Create account").click()
    form = member.get_by_role("form", name="Create account")
    form.get_by_label("Email").fill(invited_email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Create account").click()
    expect(member.get_by_role("heading", name="You are invited")).to_be_visible()
    screenshot(member, "teams-2-invitation")
    member.get_by_role("button", name="Accept invitation").click()

    # then they see Acme's keys, but no "New API key"
    expect(member.get_by_role("heading", name="API keys")).to_be_visible()
    switcher = member.get_by_label("Organization", exact=True)
    expect(switcher.locator("option:checked")).to_have_text("Acme")
    expect(member.locator("tbody tr", has_text="Default API Key")).to_be_visible()
    expect(member.get_by_role("button", name="New API key")).to_have_count(0)
    # and on Members, no invite, role or remove control
    member.get_by_role("link", name="Members").click()
    expect(member.get_by_role("heading", name="Members")).to_be_visible()
    expect(member.get_by_role("button", name="Invite member")).to_have_count(0)
    expect(member.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)

    # when the owner makes them an admin
    owner.reload()
    owner.get_by_role("link", name="Members").click()
    owner.get_by_label(f"Role of {invited_email}").select_option("ADMIN")
    expect(owner.get_by_role("status").filter(has_text="is now admin")).to_be_visible()
    screenshot(owner, "teams-3-members")

    # then they may create a key
    member.get_by_role("link", name="API keys").click()
    member.get_by_role("button", name="New API key").click()
    dialog = member.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Made by an admin")
    dialog.get_by_role("button", name="Save API key").click()
    expect(dialog.locator("[data-token]")).to_contain_text("sk_")
    dialog.get_by_role("button", name="Done").click()

    # when the owner removes them
    owner.get_by_role("button", name=f"Remove {invited_email}").click()
    owner.get_by_role("dialog").get_by_role("button", name="Remove member").click()
    expect(owner.get_by_role("status").filter(has_text="was removed")).to_be_visible()

    # then their very next request is refused
    member.get_by_role("link", name="Members").click()
    expect(member.get_by_text("This organization is not available to you.")).to_be_visible()
    screenshot(member, "teams-4-removed")
    other.close()
    assert console_errors == []


def test_account_and_general_pages(context: Any, server: str, console_errors: list[str]) -> None:
    from playwright.sync_api import expect

    page = context.new_page()
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    sign_up(page, server, email, "Acme")

    # the account menu opens Account, where the password changes
    page.get_by_role("button", name=re.compile("^Account menu")).click()
    page.get_by_role("menuitem", name="Account").click()
    form = page.get_by_role("form", name="Change password")
    form.get_by_label("Current password").fill("not my password")
    form.get_by_label("New password").fill("a brand new passphrase")
    form.get_by_role("button", name="Change password").click()
    expect(form.locator('[data-error-for="currentPassword"]')).not_to_be_empty()
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_label("New password").fill("a brand new passphrase")
    form.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status").filter(has_text="Password changed")).to_be_visible()

    # General renames the organization, and deletes it with its name typed
    page.get_by_role("link", name="General").click()
    rename = page.get_by_role("form", name="Rename organization")
    rename.get_by_label("Organization name").fill("Acme Ltd")
    rename.get_by_role("button", name="Save name").click()
    switcher = page.get_by_label("Organization", exact=True)
    expect(switcher.locator("option:checked")).to_have_text("Acme Ltd")
    page.get_by_role("button", name="Delete organization").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(re.compile("to confirm")).fill("Acme")
    dialog.get_by_role("button", name="Delete organization").click()
    expect(dialog.locator('[data-error-for="confirmName"]')).not_to_be_empty()
    dialog.get_by_label(re.compile("to confirm")).fill("Acme Ltd")
    dialog.get_by_role("button", name="Delete organization").click()
    expect(page.get_by_text("You belong to no organization yet")).to_be_visible()

    # and "Forgot password?" answers alike for any email
    page.get_by_role("button", name=re.compile("^Account menu")).click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.get_by_role("button", name="Forgot password?").click()
    page.get_by_role("form", name="Reset password").get_by_label("Email").fill(email)
    page.get_by_role("button", name="Mail me a reset link").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    assert console_errors == []
