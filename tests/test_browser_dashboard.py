"""The seed's flows for a person, in a real browser: the dashboard at `/` over the public API.

A new person signs up, sees the Default API Key, creates a secret key and reads its token once,
sees it verify through /v1/keys/verify, rolls it and sees both work, deletes one and sees it
refused at once, and signs out. Screenshots of each screen land in tests/artifacts/.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.browser_support import (
    DOCS_PHONE_SCREENSHOT,
    graphql,
    screenshot,
    update_docs_screenshot,
    verify,
)

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
    # "works until 21:04" today, "works until 2 Dec 2026, 09:04" when the grace ends tomorrow
    until = r"works until (\d+ \w+ \d{4}, )?\d\d:\d\d, replaced by \w+…"
    expect(rolled_row).to_contain_text(re.compile(until))
    expect(page.locator("tbody tr[data-status=ACTIVE]", has_text=KEY_NAME)).to_have_count(1)
    # the README's pictures: this page on a desktop and on a phone
    page.set_viewport_size({"width": 1280, "height": 800})
    update_docs_screenshot(screenshot(page, "7-api-keys-rolled"))
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("tbody tr").first).to_have_css("display", "grid")  # cards
    update_docs_screenshot(screenshot(page, "7-api-keys-rolled-phone"), DOCS_PHONE_SCREENSHOT)
    page.set_viewport_size({"width": 1360, "height": 820})

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

    # a blank name and an expiration in the past: the API names both fields at once, each
    # error shows next to its field, and what was typed is kept
    page.get_by_role("button", name="New API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("   ")
    dialog.get_by_label("Expires").select_option(label="On a date…")
    dialog.get_by_label("Expiry date and time").fill("2001-01-01T00:00")
    dialog.get_by_role("button", name="Save API key").click()
    expect(dialog.locator('[data-error-for="expiresAt"]')).to_contain_text("future")
    expect(dialog.locator('[data-error-for="name"]')).to_contain_text("100 characters")
    expect(dialog.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Expiry date and time")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Name")).to_be_focused()
    # fixing the name leaves only the date's error
    dialog.get_by_label("Name").fill("Old job")
    dialog.get_by_role("button", name="Save API key").click()
    expect(dialog.locator('[data-error-for="name"]')).to_be_empty()
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


SIGN_UP = """mutation ($input: SignUpInput!) {
  signUp(input: $input) {
    ... on SignedIn { sessionToken user { organizations { edges { node { id } } } } }
  }
}"""
SIGN_IN = """mutation ($input: SignInInput!) { signIn(input: $input) { __typename } }"""
SIGN_OUT = "mutation { signOut }"
CREATE_API_KEY = """mutation ($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { ... on ApiKeyCreated { apiKey { id } } }
}"""


def signed_up(server: str, email: str) -> tuple[str, str]:
    """A new account made through the API: its session token and organization id."""
    result = graphql(server, SIGN_UP, {"input": {"email": email, "password": PASSWORD}})
    signed_in = result["signUp"]
    return signed_in["sessionToken"], signed_in["user"]["organizations"]["edges"][0]["node"]["id"]


def signed_in_page(context: Any, server: str, token: str, path: str) -> Any:
    context.add_init_script(
        f"if (location.origin !== 'null') sessionStorage.setItem('keyward.session', '{token}')"
    )
    page = context.new_page()
    page.goto(server + path)
    return page


def test_search_filters_rename_and_deep_links(
    context: Any, server: str, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    # given four keys besides the Default API Key
    token, organization = signed_up(server, f"{uuid.uuid4().hex[:10]}@example.com")
    ids = {}
    for name, key_type in (
        ("Billing worker", "SECRET"),
        ("billing-cron", "SECRET"),
        ("Website", "SECRET"),
        ("Widget", "PUBLIC"),
    ):
        input_ = {"organizationId": organization, "name": name, "type": key_type}
        created = graphql(server, CREATE_API_KEY, {"input": input_}, token)
        ids[name] = created["createApiKey"]["apiKey"]["id"]
    keys = f"/orgs/{organization}/keys"
    page = signed_in_page(context, server, token, keys)
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(5)

    # when a name is searched for, then the server's matches show, in any case, and the
    # address keeps the search through a reload
    page.get_by_label("Search").fill("BILLING")
    expect(rows).to_have_count(2)
    expect(page.get_by_text("2 keys match")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?search=BILLING$"))
    page.reload()
    expect(page.get_by_label("Search")).to_have_value("BILLING")
    expect(rows).to_have_count(2)
    # with a type too, nothing matches; Clear filters shows every key again
    page.get_by_label("Type").select_option(label="Public")
    expect(page.get_by_role("heading", name="No keys match")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    expect(rows).to_have_count(5)
    expect(page.get_by_label("Search")).to_be_focused()
    page.get_by_label("Type").select_option(label="Public")
    expect(rows).to_have_count(2)  # the Default API Key and Widget
    page.get_by_label("Type").select_option(label="All")
    page.get_by_label("Status").select_option(label="Rolled")
    expect(page.get_by_role("heading", name="No keys match")).to_be_visible()
    page.get_by_label("Status").select_option(label="All")
    expect(rows).to_have_count(5)

    # Copy says "Copied" in its own place: the row does not move, and the token is copied
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    widget = rows.filter(has_text="Widget")
    before = widget.bounding_box()
    copy = widget.get_by_role("button", name="Copy token of Widget")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert widget.bounding_box() == before
    token_text = widget.locator("[data-token]").inner_text()
    assert page.evaluate("navigator.clipboard.readText()") == token_text

    # when a key is renamed from its "…" menu, then the row says so and focus is back on "…"
    page.get_by_role("button", name="Actions for Website").click()
    page.get_by_role("menuitem", name="Rename").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Name")).to_be_focused()
    dialog.get_by_label("Name").fill("Marketing site")
    dialog.get_by_role("button", name="Rename API key").click()
    renamed = page.get_by_role("status").filter(has_text="Renamed to “Marketing site”")
    expect(renamed).to_be_visible()
    more = page.get_by_role("button", name="Actions for Marketing site")
    expect(more).to_be_focused()

    # a key's page has its own address: a reload keeps it, and the back button returns
    page.get_by_role("link", name="Marketing site").click()
    expect(page).to_have_url(f"{server}{keys}/{ids['Website']}")
    expect(page.get_by_role("heading", name="Marketing site")).to_be_focused()
    page.reload()
    expect(page.get_by_role("heading", name="Marketing site")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(f"{server}{keys}")
    expect(rows).to_have_count(5)
    page.go_forward()
    expect(page.get_by_role("heading", name="Marketing site")).to_be_visible()
    screenshot(page, "11-key-page")

    # deleting from the key's page goes back to the list, which says so
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete API key").click()
    expect(page).to_have_url(f"{server}{keys}")
    expect(page.get_by_role("status").filter(has_text="was deleted")).to_be_visible()
    expect(rows).to_have_count(4)
    # an address naming a key that is gone says so
    page.goto(f"{server}{keys}/{ids['Website']}")
    expect(page.get_by_role("heading", name="API key not found")).to_be_visible()
    assert console_errors == []


def test_a_session_ending_mid_dialog_keeps_what_was_typed(
    context: Any, server: str, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    # given a person typing a new key's name
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    token, organization = signed_up(server, email)
    page = signed_in_page(context, server, token, f"/orgs/{organization}/keys")
    page.get_by_role("button", name="New API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Nightly export")
    dialog.get_by_label("Expires").select_option(label="In 90 days")

    # when their session ends meanwhile (signed out elsewhere) and they press Save
    graphql(server, SIGN_OUT, token=token)
    dialog.get_by_role("button", name="Save API key").click()

    # then sign-in says so as a warning, with their email already in place
    warning = page.locator(".warning", has_text="Your session has ended")
    expect(warning).to_contain_text("What you typed is kept")
    sign_in = page.get_by_role("form", name="Sign in")
    expect(sign_in.get_by_label("Email")).to_have_value(email)
    # a wrong password: the error shows and the stale notice goes
    sign_in.get_by_label("Password").fill("not the password")
    sign_in.get_by_role("button", name="Sign in").click()
    expect(sign_in.locator('[data-error-for="form"]')).to_contain_text("incorrect")
    expect(warning).to_have_count(0)
    # signed in again, the dialog is back as it was, and saving it works
    sign_in.get_by_label("Password").fill(PASSWORD)
    sign_in.get_by_role("button", name="Sign in").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Name")).to_have_value("Nightly export")
    expect(dialog.get_by_label("Expires")).to_have_value("90")
    dialog.get_by_role("button", name="Save API key").click()
    expect(dialog).to_contain_text("will not be shown again")
    dialog.get_by_role("button", name="Done").click()
    expect(page.locator("tbody tr", has_text="Nightly export")).to_have_count(1)
    expect(page.get_by_role("button", name="New API key")).to_be_focused()
    # the browser itself logs the one refused request
    assert [e for e in console_errors if "status of 401" not in e] == []
    assert len(console_errors) == 1


def test_a_throttled_sign_in_says_how_long_to_wait(
    context: Any, server: str, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    # given an email whose password was guessed wrong ten times (the limit)
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    signed_up(server, email)
    wrong = {"input": {"email": email, "password": "guess"}}
    answers = {graphql(server, SIGN_IN, wrong)["signIn"]["__typename"] for _ in range(10)}
    assert answers == {"InvalidCredentials"}
    # when they try once more in the dashboard
    page = context.new_page()
    page.goto(server)
    sign_in = page.get_by_role("form", name="Sign in")
    sign_in.get_by_label("Email").fill(email)
    sign_in.get_by_label("Password").fill(PASSWORD)
    sign_in.get_by_role("button", name="Sign in").click()
    # then they are told how long to wait
    expect(sign_in.locator('[data-error-for="form"]')).to_have_text(
        re.compile(r"Too many failed sign-ins .* Try again in 1[45] minutes\.")
    )
    assert console_errors == []


CREATE_WITH_TOKEN = """mutation ($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { ... on ApiKeyCreated { token apiKey { id } } }
}"""


def test_a_key_made_by_a_key_names_its_maker(
    context: Any, server: str, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    # given a secret key, and a key that this secret key made through the API
    token, organization = signed_up(server, f"{uuid.uuid4().hex[:10]}@example.com")
    input_ = {"organizationId": organization, "name": "CI deployer", "type": "SECRET"}
    maker = graphql(server, CREATE_WITH_TOKEN, {"input": input_}, token)["createApiKey"]
    made = graphql(server, CREATE_WITH_TOKEN, {"input": {"name": "made by CI"}}, maker["token"])
    made_id = made["createApiKey"]["apiKey"]["id"]
    # when the owner opens the made key's page
    page = signed_in_page(context, server, token, f"/orgs/{organization}/keys/{made_id}")
    # then it names the key that made it, with a link to that key's page
    link = page.get_by_role("link", name=re.compile(r"^CI deployer \(sk_"))
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", name="CI deployer")).to_be_visible()
    assert console_errors == []
