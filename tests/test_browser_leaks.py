"""Leaked keys in a real browser: an owner sets the leak policy under General; a secret key
reported as leaked under NOTIFY keeps working and its page shows the red banner; under REVOKE a
reported key is deleted, and when it is still sent the keys page says where it was found."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from typing import Any

from tests.browser_support import screenshot
from tests.test_browser_activity import verify_from

pytest_plugins = ["tests.browser_fixtures"]

PASSWORD = "correct horse battery staple"


def report_leak(base: str, token: str) -> int:
    request = urllib.request.Request(
        f"{base}/v1/keys/report-leak",
        data=json.dumps({"tokens": [token]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_leak_policy_and_the_found_in_public_banners(
    context: Any, server: str, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(server)
    page.get_by_role("tab", name="Create account").click()
    sign_up = page.get_by_role("form", name="Create account")
    sign_up.get_by_label("Email").fill(f"{uuid.uuid4().hex[:10]}@example.com")
    sign_up.get_by_label("Password").fill(PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()

    def new_secret_key(name: str) -> str:
        page.get_by_role("button", name="New API key").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Name").fill(name)
        dialog.get_by_role("button", name="Save API key").click()
        token = dialog.locator("[data-token]").inner_text()
        dialog.get_by_role("button", name="Done").click()
        expect(page.get_by_role("dialog")).to_have_count(0)
        return str(token)

    def set_policy(label: str) -> None:
        page.get_by_role("link", name="General").click()
        form = page.get_by_role("form", name="Leak policy")
        form.get_by_label(re.compile(label)).check()
        form.get_by_role("button", name="Save leak policy").click()
        expect(form).to_contain_text("Saved.")

    # given an owner who chose "Notify only", and a secret key
    set_policy("Notify only")
    screenshot(page, "leaks-1-policy")
    page.get_by_role("link", name="API keys").click()
    kept = new_secret_key("Kept server")
    # when someone reports the key as leaked
    assert report_leak(server, kept) == 202
    # then it still works, and its page shows the red banner
    assert verify_from(server, kept, "192.0.2.1")["valid"] is True
    page.locator("tbody tr", has_text="Kept server").get_by_role("link", name="Kept server").click()
    banner = page.locator(".leak-banner")
    expect(banner).to_contain_text("This key was reported as found in public (a leak report, ")
    expect(banner).to_contain_text("It was NOT revoked")
    screenshot(page, "leaks-2-key-banner")

    # given the policy back at "Revoke" and another secret key
    set_policy("Revoke")
    page.get_by_role("link", name="API keys").click()
    revoked = new_secret_key("Leaky CI")
    # when it is reported, and some server still sends it
    assert report_leak(server, revoked) == 202
    assert verify_from(server, revoked, "203.0.113.9")["code"] == "NOT_FOUND"
    # then the keys page says it was revoked because it was found in public
    leak = page.locator(".leak-banner")
    for _ in range(25):  # bounded: the use counts are flushed every 0.2 s here
        page.reload()
        expect(page.get_by_role("heading", name="API keys")).to_be_visible()
        page.locator("tbody tr").first.wait_for()
        if leak.count():
            break
        page.wait_for_timeout(200)
    expect(leak).to_contain_text(
        re.compile(r"“Leaky CI” \(sk_\w+…\) was reported as found in public")
    )
    expect(leak).to_contain_text("keyward revoked it at once")
    screenshot(page, "leaks-3-revoked-banner")
    assert console_errors == []
