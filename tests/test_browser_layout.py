"""The dashboard at every width and by keyboard alone, in a real browser.

One organization has 60 keys and a key named with 100 characters and no space; at phone, tablet
and desktop widths no screen scrolls sideways, every dialog lies inside the viewport, every
control is reached with Tab, the "…" menu follows the menu-button pattern and focus comes back
where it was when a dialog closes. axe-core finds nothing serious on any screen in either theme.
Screenshots of each screen at a phone and a desktop width land in tests/artifacts/.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import axe_violations, graphql, screenshot

pytest_plugins = ["tests.browser_fixtures"]

PASSWORD = "correct horse battery staple"
LONG_NAME = "ProductionServerForTheEuropeanRegion-" + "x" * 63  # 100 characters, no space
assert len(LONG_NAME) == 100
KEY_COUNT = 60
PHONE = (390, 844)
DESKTOP = (1280, 800)
VIEWPORTS = [PHONE, (768, 1024), (1024, 768), DESKTOP, (1920, 1080)]

SIGN_UP = """mutation ($input: SignUpInput!) {
  signUp(input: $input) {
    ... on SignedIn { sessionToken user { organizations { edges { node { id } } } } }
  }
}"""
CREATE_ORGANIZATION = """mutation ($input: CreateOrganizationInput!) {
  createOrganization(input: $input) { ... on OrganizationCreated { organization { id } } }
}"""
CREATE_API_KEY = """mutation ($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { ... on ApiKeyCreated { apiKey { id } } }
}"""
KEY_IDS = """query ($id: ID!) {
  organization(id: $id) { apiKeys(first: 100) { edges { node { id name } } } }
}"""
DELETE_API_KEY = """mutation ($input: DeleteApiKeyInput!) {
  deleteApiKey(input: $input) { __typename }
}"""


@dataclass(frozen=True)
class Seed:
    base: str
    email: str
    token: str
    organization: str  # 60 keys, the newest named LONG_NAME
    long_key: str
    twin: str  # "Acme", with its Default API Key
    empty: str  # "Acme" too, with no key at all


@pytest.fixture(scope="module")
def seed(server: str) -> Seed:
    """One person and their three organizations, made through the public API."""
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    signed_in = graphql(
        server,
        SIGN_UP,
        {"input": {"email": email, "password": PASSWORD, "organizationName": "Rocket" * 16}},
    )["signUp"]
    token = signed_in["sessionToken"]
    organization = signed_in["user"]["organizations"]["edges"][0]["node"]["id"]
    for number in range(1, KEY_COUNT - 1):
        key_type = "PUBLIC" if number % 7 == 0 else "SECRET"
        name = f"Service {number:02d}"
        create_key(server, token, organization, name, key_type)
    long_key = create_key(server, token, organization, LONG_NAME, "PUBLIC")
    twin, empty = (
        graphql(server, CREATE_ORGANIZATION, {"input": {"name": "Acme"}}, token)[
            "createOrganization"
        ]["organization"]["id"]
        for _ in range(2)
    )
    for edge in graphql(server, KEY_IDS, {"id": empty}, token)["organization"]["apiKeys"]["edges"]:
        graphql(server, DELETE_API_KEY, {"input": {"id": edge["node"]["id"]}}, token)
    return Seed(server, email, token, organization, long_key, twin, empty)


def create_key(base: str, token: str, organization: str, name: str, key_type: str) -> str:
    result = graphql(
        base,
        CREATE_API_KEY,
        {"input": {"organizationId": organization, "name": name, "type": key_type}},
        token,
    )
    return str(result["createApiKey"]["apiKey"]["id"])


@pytest.fixture
def open_page(browser: Any, seed: Seed, console_errors: list[str]) -> Iterator[Any]:
    """open_page(width, height, path, scheme="light", signed_in=True): a page of its own."""
    contexts: list[Any] = []

    def open_(
        width: int, height: int, path: str, scheme: str = "light", signed_in: bool = True
    ) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme=scheme,
            locale="en-GB",
            timezone_id="UTC",
        )
        context.set_default_timeout(10_000)
        context.on("weberror", lambda error: console_errors.append(str(error.error)))
        if signed_in:
            context.add_init_script(
                "if (location.origin !== 'null') "
                f"sessionStorage.setItem('keyward.session', {json.dumps(seed.token)})"
            )
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: record_console(message, console_errors))
        page.goto(seed.base + path)
        return page

    yield open_
    for context in contexts:
        context.close()


def record_console(message: Any, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(message.text)


def keys_path(organization: str) -> str:
    return f"/orgs/{organization}/keys"


# -- what the tests measure --


def assert_fits(page: Any, screen: str) -> None:
    """The page does not scroll sideways, and every open dialog lies inside the viewport."""
    sizes = page.evaluate(
        """() => ({
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: innerWidth,
            innerHeight: innerHeight,
            dialogs: [...document.querySelectorAll("dialog[open]")].map((d) => {
                const r = d.getBoundingClientRect();
                const title = d.querySelector("h2");
                return { left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                         titleOverflow: title.scrollWidth - title.clientWidth };
            }),
        })"""
    )
    assert sizes["scrollWidth"] <= sizes["innerWidth"], (screen, sizes)
    shown = page.locator("body").inner_text()
    assert not re.search(r"\b(false|undefined|null|NaN)\b", shown), (screen, shown[:300])
    for box in sizes["dialogs"]:
        assert box["left"] >= 0 and box["top"] >= 0, (screen, box)
        assert box["right"] <= sizes["innerWidth"], (screen, box)
        assert box["bottom"] <= sizes["innerHeight"], (screen, box)
        assert box["titleOverflow"] <= 0, (screen, box)


def in_viewport(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(
        box
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


def focused(page: Any) -> str:
    """What has focus, as a person would name it: its role or tag and accessible text."""
    return str(
        page.evaluate(
            """() => {
                const e = document.activeElement;
                if (!e || e === document.body) return "body";
                const name = e.getAttribute("aria-label") || e.labels?.[0]?.textContent
                    || e.textContent;
                return `${e.getAttribute("role") || e.tagName.toLowerCase()}:${name.trim()}`;
            }"""
        )
    )


def maybe_screenshot(page: Any, width: int, name: str) -> None:
    if width in (PHONE[0], DESKTOP[0]):
        screenshot(page, f"{'phone' if width == PHONE[0] else 'desktop'}-{name}")


# -- the tests --


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=lambda v: str(v))
def test_every_screen_fits(
    open_page: Any, seed: Seed, width: int, height: int, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    # given 60 keys, the newest named with 100 characters and no space
    page = open_page(width, height, keys_path(seed.organization))
    expect(page.locator("tbody tr")).to_have_count(50)
    expect(page.locator("tbody tr").first).to_contain_text(LONG_NAME)
    # then the list fits, the long name wraps inside its row, and "Show more" offers the rest
    assert_fits(page, "keys")
    name = page.locator("tbody tr").first.locator(".name")
    assert in_viewport(page, name)
    expect(page.get_by_role("button", name="Show more keys")).to_be_visible()
    maybe_screenshot(page, width, "api-keys")

    # when the long-named key's "…" menu opens, then it is on screen whole
    page.get_by_role("button", name=f"Actions for {LONG_NAME}").first.click()
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    assert in_viewport(page, menu)
    assert_fits(page, "menu")
    maybe_screenshot(page, width, "key-menu")
    page.keyboard.press("Escape")

    # when New API key opens, then the dialog and its Save button are on screen
    page.get_by_role("button", name="New API key").click()
    dialog = page.get_by_role("dialog")
    assert_fits(page, "new key")
    assert in_viewport(page, dialog.get_by_role("button", name="Save API key"))
    maybe_screenshot(page, width, "new-api-key")

    # when a key with a 100-character name is created, then its token dialog fits too
    dialog.get_by_label("Name").fill(LONG_NAME)
    dialog.get_by_role("button", name="Save API key").click()
    expect(dialog).to_contain_text("will not be shown again")
    assert_fits(page, "token shown once")
    assert in_viewport(page, dialog.get_by_role("button", name="Done"))
    maybe_screenshot(page, width, "token-shown-once")
    dialog.get_by_role("button", name="Done").click()

    # the Roll and Delete dialogs of the long-named key
    for item, screen in (("Roll", "roll-dialog"), ("Delete", "delete-dialog")):
        page.get_by_role("button", name=f"Actions for {LONG_NAME}").first.click()
        page.get_by_role("menuitem", name=item).click()
        assert_fits(page, screen)
        maybe_screenshot(page, width, screen)
        page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
        expect(page.get_by_role("dialog")).to_have_count(0)

    # one key's page, and an organization without keys
    page.goto(f"{seed.base}{keys_path(seed.organization)}/{seed.long_key}")
    expect(page.get_by_role("heading", name=LONG_NAME)).to_be_visible()
    assert_fits(page, "key page")
    maybe_screenshot(page, width, "key-page")
    page.goto(seed.base + keys_path(seed.empty))
    expect(page.get_by_role("heading", name="No API keys yet")).to_be_visible()
    assert_fits(page, "empty")
    maybe_screenshot(page, width, "empty-state")

    # signed out: sign-in and create-account
    signed_out = open_page(width, height, "/", signed_in=False)
    expect(signed_out.get_by_role("form", name="Sign in")).to_be_visible()
    assert_fits(signed_out, "sign in")
    maybe_screenshot(signed_out, width, "sign-in")
    signed_out.get_by_role("tab", name="Create account").click()
    assert_fits(signed_out, "create account")
    assert console_errors == []


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=lambda v: str(v))
def test_every_control_is_reached_by_keyboard(
    open_page: Any, seed: Seed, width: int, height: int
) -> None:
    from playwright.sync_api import expect

    page = open_page(width, height, keys_path(seed.organization))
    expect(page.locator("tbody tr")).to_have_count(50)
    # every control a pointer could use on the page, numbered
    controls = page.evaluate(
        """() => {
            const all = document.querySelectorAll("a[href], button, input, select, textarea");
            let n = 0;
            for (const e of all) {
                if (e.disabled || !e.checkVisibility() || e.closest("[role=menu]")) continue;
                e.dataset.probe = String(++n);
            }
            return n;
        }"""
    )
    assert controls > 100  # 50 names, 50 "…", copy buttons, the bar, search and filters
    # when Tab is pressed until focus comes round again
    reached: list[str] = []
    for _ in range(controls + 5):
        page.keyboard.press("Tab")
        probe = page.evaluate("document.activeElement?.dataset?.probe ?? ''")
        if probe and probe in reached:
            break
        if probe:
            reached.append(probe)
    # then every one was reached, in the order of the page
    assert sorted(reached, key=int) == [str(n) for n in range(1, controls + 1)]
    assert reached == sorted(reached, key=int)


def test_menu_button_pattern(open_page: Any, seed: Seed) -> None:
    from playwright.sync_api import expect

    page = open_page(*DESKTOP, keys_path(seed.organization))
    more = page.get_by_role("button", name="Actions for Service 58")
    more.focus()
    # Enter opens the menu on its first item; arrows move and wrap; Home and End jump
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    assert focused(page) == "menuitem:Rename"
    page.keyboard.press("ArrowDown")
    assert focused(page) == "menuitem:Roll"
    page.keyboard.press("End")
    assert focused(page) == "menuitem:Delete"
    page.keyboard.press("ArrowDown")
    assert focused(page) == "menuitem:Rename"
    page.keyboard.press("ArrowUp")
    assert focused(page) == "menuitem:Delete"
    page.keyboard.press("Home")
    assert focused(page) == "menuitem:Rename"
    # Escape closes it and gives focus back to "…"
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_have_count(0)
    expect(more).to_be_focused()
    expect(more).to_have_attribute("aria-expanded", "false")
    # ↑ opens it on its last item; Tab closes it and moves on to the next row
    page.keyboard.press("ArrowUp")
    assert focused(page) == "menuitem:Delete"
    page.keyboard.press("Tab")
    expect(page.get_by_role("menu")).to_have_count(0)
    assert focused(page) == "a:Service 57"


def test_focus_returns_where_it_was(open_page: Any, seed: Seed) -> None:
    from playwright.sync_api import expect

    page = open_page(*DESKTOP, keys_path(seed.twin))
    new_key = page.get_by_role("button", name="New API key")
    # a dialog opens on its first field, not on ×; Escape returns to what opened it
    new_key.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Name")).to_be_focused()
    page.keyboard.press("Escape")
    expect(new_key).to_be_focused()

    # after Done, focus is on New API key again
    page.keyboard.press("Enter")
    page.keyboard.type("Focus test")
    page.keyboard.press("Enter")
    expect(dialog).to_contain_text("will not be shown again")
    expect(dialog.get_by_role("button", name="Copy token of Focus test")).to_be_focused()
    dialog.get_by_role("button", name="Done").click()
    expect(page.get_by_role("button", name="New API key")).to_be_focused()

    # Roll: Escape and Cancel both return to the row's "…"
    more = page.get_by_role("button", name="Actions for Focus test")
    for close in ("Escape", "Cancel"):
        more.focus()
        page.keyboard.press("Enter")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        expect(dialog.get_by_label("Old key keeps working for (hours)")).to_be_focused()
        if close == "Escape":
            page.keyboard.press("Escape")
        else:
            dialog.get_by_role("button", name="Cancel").click()
        expect(more).to_be_focused()

    # Delete: Cancel returns to "…"; confirming returns to the next row's "…"
    more.focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(more).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    dialog.get_by_role("button", name="Delete API key").click()
    expect(page.get_by_role("status").filter(has_text="was deleted")).to_be_visible()
    expect(page.get_by_role("button", name="Actions for Default API Key")).to_be_focused()

    # deleting the last key: the empty state, with focus on its New API key
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    dialog.get_by_role("button", name="Delete API key").click()
    expect(page.get_by_role("heading", name="No API keys yet")).to_be_visible()
    expect(page.get_by_role("button", name="New API key")).to_be_focused()


def test_forms_say_what_is_wrong_as_you_type(open_page: Any, seed: Seed) -> None:
    from playwright.sync_api import expect

    page = open_page(*PHONE, keys_path(seed.organization))
    # a name over 100 characters is counted, not cut, and not sent
    page.get_by_role("button", name="New API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(LONG_NAME + "!")
    expect(dialog.get_by_text("101/100: 1 too many")).to_be_visible()
    expect(dialog.get_by_label("Name")).to_have_value(LONG_NAME + "!")
    dialog.get_by_role("button", name="Save API key").click()
    expect(dialog).not_to_contain_text("created")
    dialog.get_by_label("Name").fill("Nightly export")
    expect(dialog.get_by_text("14/100", exact=True)).to_be_visible()
    # an expiry preset says when the key stops working, and the key expires then
    dialog.get_by_label("Expires").select_option(label="In 30 days")
    expect(dialog).to_contain_text("It stops working on")
    dialog.get_by_role("button", name="Save API key").click()
    expect(dialog).to_contain_text("will not be shown again")
    dialog.get_by_role("button", name="Done").click()
    row = page.locator("tbody tr", has_text="Nightly export")
    expires = row.locator(".expires-cell time").get_attribute("datetime")
    assert expires is not None
    days = page.evaluate(f"(Date.parse({json.dumps(expires)}) - Date.now()) / 86400000")
    assert 29.9 < days <= 30

    # the roll dialog checks the grace period against the server's bounds as it is typed
    row.get_by_role("button", name="Actions for Nightly export").click()
    page.get_by_role("menuitem", name="Roll").click()
    grace = dialog.get_by_label("Old key keeps working for (hours)")
    for typed in ("200", "-1", ""):
        grace.fill(typed)
        expect(dialog.get_by_role("alert").filter(has_text="Enter")).to_be_visible()
        expect(grace).to_have_attribute("aria-invalid", "true")
        expect(dialog).not_to_contain_text(re.compile(r"keeps working for -?\d"))
    dialog.get_by_role("button", name="Roll API key").click()
    expect(dialog).not_to_contain_text("will not be shown again")
    grace.fill("168")
    expect(dialog).to_contain_text("keeps working for 168 hours")
    grace.fill("1.5")
    expect(dialog).to_contain_text("keeps working for 90 minutes")
    expect(grace).not_to_have_attribute("aria-invalid", "true")


def test_organizations_with_one_name_are_told_apart(open_page: Any, seed: Seed) -> None:
    from playwright.sync_api import expect

    page = open_page(*DESKTOP, keys_path(seed.twin))
    switcher = page.get_by_label("Organization", exact=True)
    expect(switcher).to_be_visible()
    labels = switcher.locator("option").all_inner_texts()
    twins = [label for label in labels if label.startswith("Acme")]
    assert len(twins) == 2 and twins[0] != twins[1], labels
    assert all("created" in label for label in twins), labels


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("width", "height"), [PHONE, DESKTOP], ids=lambda v: str(v))
def test_axe_finds_nothing_serious(
    open_page: Any, seed: Seed, scheme: str, width: int, height: int
) -> None:
    from playwright.sync_api import expect

    found: dict[str, list[str]] = {}
    signed_out = open_page(width, height, "/", scheme=scheme, signed_in=False)
    expect(signed_out.get_by_role("form", name="Sign in")).to_be_visible()
    found["sign in"] = axe_violations(signed_out)
    signed_out.get_by_role("tab", name="Create account").click()
    found["create account"] = axe_violations(signed_out)

    page = open_page(width, height, keys_path(seed.organization), scheme=scheme)
    expect(page.locator("tbody tr")).to_have_count(50)
    found["keys"] = axe_violations(page)
    if scheme == "dark":
        screenshot(page, f"{'phone' if width == PHONE[0] else 'desktop'}-dark-api-keys")
    page.get_by_role("button", name=f"Actions for {LONG_NAME}").first.click()
    found["menu"] = axe_violations(page)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="New API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(LONG_NAME + "!")  # the counter over its limit
    found["new key"] = axe_violations(page)
    dialog.get_by_label("Name").fill("Axe")
    dialog.get_by_label("Expires").select_option(label="On a date…")
    dialog.get_by_role("radio", name="Public").check()
    found["new key, choices"] = axe_violations(page)
    dialog.get_by_label("Expires").select_option(label="Never")
    dialog.get_by_role("button", name="Save API key").click()
    expect(dialog).to_contain_text("also shown in the table")
    found["token"] = axe_violations(page)
    dialog.get_by_role("button", name="Done").click()
    for item in ("Roll", "Delete", "Rename"):
        page.get_by_role("button", name="Actions for Axe").first.click()
        page.get_by_role("menuitem", name=item).click()
        found[item] = axe_violations(page)
        page.keyboard.press("Escape")
    page.goto(f"{seed.base}{keys_path(seed.organization)}/{seed.long_key}")
    expect(page.get_by_role("heading", name=LONG_NAME)).to_be_visible()
    found["key page"] = axe_violations(page)
    page.goto(seed.base + keys_path(seed.empty))
    expect(page.get_by_role("heading", name="No API keys yet")).to_be_visible()
    found["empty"] = axe_violations(page)
    assert {screen: v for screen, v in found.items() if v} == {}


ME = "query { me { id } }"


def test_a_member_sees_the_keys_without_the_controls_they_may_not_use(
    open_page: Any, seed: Seed, server_dir: Path, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    # given a MEMBER of the 60-key organization (there is no invitation yet: a row in the table,
    # copied from the owner's membership)
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    signed_in = graphql(seed.base, SIGN_UP, {"input": {"email": email, "password": PASSWORD}})
    token = signed_in["signUp"]["sessionToken"]
    user_id = graphql(seed.base, ME, token=token)["me"]["id"]
    with sqlite3.connect(server_dir / "keyward.sqlite3") as database:
        [created_at] = database.execute("SELECT created_at FROM membership LIMIT 1").fetchone()
        database.execute(
            "INSERT INTO membership (id, user_id, organization_id, role, created_at)"
            " VALUES (?, ?, ?, 'MEMBER', ?)",
            (str(uuid.uuid4()), user_id, seed.organization, created_at),
        )
    # when they open its keys, signed in as themselves
    page = open_page(*DESKTOP, keys_path(seed.organization), signed_in=False)
    page.evaluate(f"sessionStorage.setItem('keyward.session', {json.dumps(token)})")
    page.reload()
    # then the API's viewerPermissions decide: the keys and the search, no New API key, no "…"
    expect(page.locator("tbody tr")).to_have_count(50)
    expect(page.get_by_text("Owners and admins create, roll and delete keys.")).to_be_visible()
    expect(page.get_by_role("button", name="New API key")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Actions for"))).to_have_count(0)
    expect(page.get_by_label("Search")).to_be_visible()
    assert_fits(page, "member")
    assert axe_violations(page) == []
    # and a key's page shows no Rename, Roll or Delete
    page.goto(f"{seed.base}{keys_path(seed.organization)}/{seed.long_key}")
    expect(page.get_by_role("heading", name=LONG_NAME)).to_be_visible()
    for action in ("Rename", "Roll", "Delete"):
        expect(page.get_by_role("button", name=action, exact=True)).to_have_count(0)
    assert console_errors == []
