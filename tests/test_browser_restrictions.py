"""A key's Restrictions section in a real browser, at desktop and phone widths: the advice fits
the key's type, every bad entry is shown at its list, report-only mode shows the refused caller
with a one-click "Allow", and after it the caller is allowed."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import pytest

from tests.browser_support import axe_violations, screenshot

pytest_plugins = ["tests.browser_fixtures"]

PASSWORD = "correct horse battery staple"
DESKTOP, PHONE = (1360, 820), (390, 844)


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


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_restrict_a_key_from_its_page(
    context: Any, server: str, console_errors: list[str], size: tuple[int, int]
) -> None:
    from playwright.sync_api import expect

    page = context.new_page()
    page.set_viewport_size({"width": size[0], "height": size[1]})
    width = "phone" if size == PHONE else "desktop"
    page.goto(server)
    page.get_by_role("tab", name="Create account").click()
    sign_up = page.get_by_role("form", name="Create account")
    sign_up.get_by_label("Email").fill(f"{uuid.uuid4().hex[:10]}@example.com")
    sign_up.get_by_label("Password").fill(PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()

    # given a secret key, opened on its page
    page.get_by_role("button", name="New API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Billing server")
    dialog.get_by_role("button", name="Save API key").click()
    token = dialog.locator("[data-token]").inner_text()
    dialog.get_by_role("button", name="Done").click()
    page.locator("tbody tr", has_text="Billing server").get_by_role(
        "link", name="Billing server"
    ).click()
    section = page.get_by_role("region", name="Restrictions")
    # then the advice is a secret key's: networks
    expect(section).to_contain_text("A secret key belongs on your servers")
    expect(section).to_contain_text("None: this key works from any address")

    # when two bad networks are saved, each is shown at the list
    networks = section.get_by_label("Allowed networks, one a line")
    networks.fill("203.0.113.0/24\n10.0.0.1/8\nnot-a-network")
    section.get_by_role("button", name="Save restrictions").click()
    error = section.locator('[data-error-for="allowedCidrs"]')
    expect(error).to_contain_text("did you mean 10.0.0.0/8?")
    expect(error).to_contain_text("'not-a-network' is not an IP address or network.")
    expect(networks).to_have_attribute("aria-invalid", "true")
    screenshot(page, f"restrictions-1-errors-{width}")

    # when fixed, in report-only mode
    networks.fill("203.0.113.0/24")
    section.get_by_label("Mode").select_option("REPORT_ONLY")
    section.get_by_role("button", name="Save restrictions").click()
    expect(section).to_contain_text("1 network(s), 0 origin(s); report only")
    # and a caller elsewhere uses the key: it still works
    assert verify_from(server, token, "198.51.100.7")["code"] == "VALID"

    # then, once the counts are flushed (every 0.2 s here), the page offers to allow it
    allow = section.get_by_role("button", name="Allow 198.51.100.7")
    for _ in range(25):  # bounded: 5 s at most
        page.reload()
        section.wait_for()
        if allow.count():
            break
        page.wait_for_timeout(200)
    expect(section.locator("[data-denial]")).to_contain_text("Would have refused 198.51.100.7")
    assert axe_violations(page) == []
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {size}"
    screenshot(page, f"restrictions-2-report-only-{width}")

    # when they allow it, then it is in the list, and enforcing keeps it working
    allow.click()
    expect(section.get_by_label("Allowed networks, one a line")).to_have_value(
        "203.0.113.0/24\n198.51.100.7/32"
    )
    section.get_by_label("Mode").select_option("ENFORCE")
    section.get_by_role("button", name="Save restrictions").click()
    expect(section).to_contain_text("callers elsewhere are refused")
    assert verify_from(server, token, "198.51.100.7")["code"] == "VALID"
    assert verify_from(server, token, "198.51.100.8") == {
        "valid": False,
        "code": "FORBIDDEN",
        "reason": "IP_NOT_ALLOWED",
    }
    assert console_errors == []
