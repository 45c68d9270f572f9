"""The audit log and analytics in a real browser: roll a key, open Activity, see the event in
words; delete a key, verify with its token, see the banner on the keys page; open a key's usage
chart; read one's own security log on the Account page."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from typing import Any

from tests.browser_support import screenshot

pytest_plugins = ["tests.browser_fixtures"]

PASSWORD = "correct horse battery staple"


def verify_from(base: str, token: str, client_ip: str) -> dict[str, Any]:
    """A resource server checking a token its caller at `client_ip` sent."""
    request = urllib.request.Request(
        f"{base}/v1/keys/verify",
        data=json.dumps({"key": token, "clientIp": client_ip}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_activity_usage_and_the_revoked_key_banner(
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

    # given two secret keys, one of them used three times
    tokens = {}
    for name in ("Production server", "Old CI key"):
        page.get_by_role("button", name="New API key").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Name").fill(name)
        dialog.get_by_role("button", name="Save API key").click()
        tokens[name] = dialog.locator("[data-token]").inner_text()
        dialog.get_by_role("button", name="Done").click()
        expect(page.get_by_role("dialog")).to_have_count(0)
    for _ in range(3):
        assert verify_from(server, tokens["Production server"], "198.51.100.7")["valid"]

    # when they roll "Production server"
    row = page.locator("tbody tr[data-status=ACTIVE]", has_text="Production server")
    row.get_by_role("button", name="Actions for Production server").click()
    page.get_by_role("menuitem", name="Roll").click()
    page.get_by_role("dialog").get_by_role("button", name="Roll API key").click()
    page.get_by_role("dialog").get_by_role("button", name="Done").click()

    # then Activity says who rolled it, in words, newest first
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    events = page.get_by_role("list", name="Activity, newest first").locator("li")
    expect(events.first).to_contain_text(
        re.compile(rf"{re.escape(email)} rolled ‘Production server’ \(old key works until ")
    )
    expect(events.first).to_contain_text("127.0.0.1")
    expect(events.last).to_contain_text(f"{email} created the organization")
    screenshot(page, "activity-1-log")
    # and filtering by the key leaves its two events
    events.first.get_by_role("button", name="Production server").click()
    expect(events).to_have_count(2)
    page.get_by_label("Action").select_option(label="Key created")
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("created ‘Production server’")

    # when they delete "Old CI key" and some forgotten server keeps sending it
    page.get_by_role("link", name="API keys").click()
    row = page.locator("tbody tr", has_text="Old CI key")
    row.get_by_role("button", name="Actions for Old CI key").click()
    page.get_by_role("menuitem", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete API key").click()
    expect(page.get_by_role("status").filter(has_text="was deleted")).to_be_visible()
    for _ in range(2):
        assert verify_from(server, tokens["Old CI key"], "203.0.113.5") == {
            "valid": False,
            "code": "NOT_FOUND",
        }

    # then the keys page warns about it (as soon as the counts are flushed: every 0.2 s here)
    banner = page.locator(".revoked-use")
    for _ in range(25):  # bounded: 5 s at most
        page.reload()
        expect(page.get_by_role("heading", name="API keys")).to_be_visible()
        page.locator("tbody tr").first.wait_for()
        if banner.count():
            break
        page.wait_for_timeout(200)
    expect(banner).to_contain_text(
        re.compile(r"“Old CI key” \(sk_\w+…\), deleted less than an hour ago, was used 2 times")
    )
    expect(banner).to_contain_text("from 203.0.113.5")
    screenshot(page, "activity-2-revoked-banner")

    # and a key's page draws its verifications per hour as bars
    rolled = page.locator("tbody tr[data-status=ROLLED]", has_text="Production server")
    rolled.get_by_role("link", name="Production server").click()
    chart = page.locator("figure.usage-chart")
    expect(chart.locator("rect.bar-valid")).to_have_count(1)
    expect(chart).to_contain_text("3 valid and 0 failed verifications in the last 7 days")
    screenshot(page, "activity-3-usage")

    # and the Account page shows their own security log
    page.get_by_role("button", name=re.compile("^Account menu")).click()
    page.get_by_role("menuitem", name="Account").click()
    log = page.get_by_role("list", name="Security log, newest first").locator("li")
    expect(log.last).to_contain_text("Account created")
    screenshot(page, "activity-4-account")
    assert console_errors == []
