"""The seed's flows for a person, in a real browser: the dashboard at `/` over the public API.

A new person signs up, sees the Default API Key, creates a secret key and reads its token once,
sees it verify through /v1/keys/verify, rolls it and sees both work, deletes one and sees it
refused at once, and signs out. Screenshots of each screen land in tests/artifacts/.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.browser_support import screenshot, update_docs_screenshot, verify

pytest_plugins = ["tests.browser_fixtures"]

PASSWORD = "correct horse battery staple"
KEY_NAME = "Production server"


def test_sign_up_create_roll_delete_sign_out(
    context: Any, server: str, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    page = context.new_page()
    email = f"{uuid.uuid4().hex[:10]}@example.com"

    # given a new person at the dashboard, whose first password is too short
    page.goto(server)
    page.get_by_role("tab", name="Create account").click()
    sign_up = page.get_by_role("form", name="Create account")
    sign_up.get_by_label("Email").fill(email)
    sign_up.get_by_label("Password").fill("short")
    sign_up.get_by_label("Organization name").fill("Acme")
    sign_up.get_by_role("button", name="Create account").click()
    # then the API's error shows next to the password, and nothing typed is lost
    expect(sign_up.locator('[data-error-for="password"]')).to_contain_text("8")
    expect(sign_up.get_by_label("Email")).to_have_value(email)
    screenshot(page, "1-sign-up-error")

    # when they sign up properly
    sign_up.get_by_label("Password").fill(PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()

    # then they see the organization's public Default API Key, and its token verifies
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    default_row = page.locator("tbody tr", has_text="Default API Key")
    expect(default_row).to_contain_text("Public")
    expect(default_row).to_contain_text("Active")
    assert verify(server, default_row.locator("[data-token]").inner_text())["valid"] is True
    screenshot(page, "2-api-keys")

    # when they create a secret key (the type by default)
    page.get_by_role("button", name="New API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(KEY_NAME)
    expect(dialog.get_by_role("radio", name=re.compile("^Secret"))).to_be_checked()
    screenshot(page, "3-new-api-key")
    dialog.get_by_role("button", name="Save API key").click()

    # then its token is shown once, with a warning, and it verifies
    expect(dialog).to_contain_text("will not be shown again")
    secret = dialog.locator("[data-token]").inner_text()
    screenshot(page, "4-token-shown-once")
    created = verify(server, secret)
    assert created["valid"] is True and created["type"] == "SECRET"
    dialog.get_by_role("button", name="Done").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    row = page.locator("tbody tr[data-status=ACTIVE]", has_text=KEY_NAME)
    expect(row).to_contain_text("Secret")
    assert secret.startswith(row.locator("code.start").inner_text().rstrip("…"))
    assert secret not in page.content()

    # when they roll it from its "…" menu, keeping the default 12 hours
    row.get_by_role("button", name=f"Actions for {KEY_NAME}").click()
    screenshot(page, "5-key-menu")
    page.get_by_role("menuitem", name="Roll").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("keeps working for 12 hours")
    screenshot(page, "6-roll-confirmation")
    dialog.get_by_role("button", name="Roll API key").click()

    # then the new token is shown once, and both keys work
    expect(dialog).to_contain_text("will not be shown again")
    replacement = dialog.locator("[data-token]").inner_text()
    assert replacement != secret
    assert verify(server, secret)["valid"] is True
    assert verify(server, replacement)["valid"] is True
    dialog.get_by_role("button", name="Done").click()
    rolled_row = page.locator("tbody tr[data-status=ROLLED]", has_text=KEY_NAME)
    expect(rolled_row).to_contain_text(re.compile(r"works until \d\d:\d\d, replaced by \w+…"))
    expect(page.locator("tbody tr[data-status=ACTIVE]", has_text=KEY_NAME)).to_have_count(1)
    update_docs_screenshot(screenshot(page, "7-api-keys-rolled"))

    # when they delete the replacement
    active_row = page.locator("tbody tr[data-status=ACTIVE]", has_text=KEY_NAME)
    active_row.get_by_role("button", name=f"Actions for {KEY_NAME}").click()
    page.get_by_role("menuitem", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("stops working at once")
    screenshot(page, "8-delete-confirmation")
    dialog.get_by_role("button", name="Delete API key").click()

    # then it is refused at once, the rolled key still works, and the page says so
    expect(page.get_by_role("status").filter(has_text="was deleted")).to_be_visible()
    assert verify(server, replacement) == {"valid": False, "code": "NOT_FOUND"}
    assert verify(server, secret)["valid"] is True
    expect(page.locator("tbody tr", has_text=KEY_NAME)).to_have_count(1)
    screenshot(page, "9-after-delete")

    # when they sign out, then they are back at sign-in with nothing of the session kept
    page.get_by_role("button", name=re.compile("^Account menu")).click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    screenshot(page, "10-signed-out")
    assert console_errors == []


def test_organizations_sign_in_and_errors_in_place(
    context: Any, server: str, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    page = context.new_page()
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    page.goto(server)
    page.get_by_role("tab", name="Create account").click()
    sign_up = page.get_by_role("form", name="Create account")
    sign_up.get_by_label("Email").fill(email)
    sign_up.get_by_label("Password").fill(PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()

    # a second organization, chosen in the switcher, starts with its own Default API Key
    page.get_by_role("button", name="New organization").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Side project")
    dialog.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    switcher = page.get_by_label("Organization", exact=True)
    expect(switcher.locator("option:checked")).to_have_text("Side project")
    expect(page.locator("tbody tr")).to_have_count(1)
    switcher.select_option(label="My organization")
    expect(page.locator(".sidebar")).to_contain_text("My organization")

    # an expiration in the past: the API's error is shown next to the date, the name kept
    page.get_by_role("button", name="New API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Old job")
    dialog.get_by_label("Expires (optional)").fill("2001-01-01T00:00")
    dialog.get_by_role("button", name="Save API key").click()
    expect(dialog.locator('[data-error-for="expiresAt"]')).to_contain_text("future")
    expect(dialog.get_by_label("Name")).to_have_value("Old job")
    dialog.get_by_role("button", name="Close").click()

    # a reload keeps the session (sessionStorage); signing out and in again works
    page.reload()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Account menu")).click()
    page.get_by_role("menuitem", name="Sign out").click()
    sign_in = page.get_by_role("form", name="Sign in")
    sign_in.get_by_label("Email").fill(email)
    sign_in.get_by_label("Password").fill("wrong password")
    sign_in.get_by_role("button", name="Sign in").click()
    expect(sign_in.locator('[data-error-for="form"]')).not_to_be_empty()
    expect(sign_in.get_by_label("Email")).to_have_value(email)
    sign_in.get_by_label("Password").fill(PASSWORD)
    sign_in.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    assert console_errors == []
