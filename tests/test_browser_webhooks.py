"""The Webhooks page and the Account page's notice toggle in a real browser, by keyboard, at
desktop and phone widths, checked by axe-core: add an endpoint (its secret shown once), send a
test event that a real receiver first refuses, see the failure, Retry, see it delivered."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import ROOT, axe_violations, keyward_server, screenshot

pytest_plugins = ["tests.browser_fixtures"]

PASSWORD = "correct horse battery staple"
# The receiver runs on 127.0.0.1 over plain http: the SSRF guard lets it through only here.
WEBHOOK_ENV = {"WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"}


class Receiver:
    """A webhook receiver on a free port answering each POST with the next status of `answers`
    (the last one repeats), keeping what it received."""

    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self.received: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                receiver.received.append(dict(self.headers))
                answers = receiver.answers
                status = answers.pop(0) if len(answers) > 1 else answers[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def webhook_server(server_dir: Path) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in WEBHOOK_ENV.items():
            patch.setenv(name, value)
        with keyward_server(server_dir) as base:
            yield base


def deliver(server_dir: Path) -> None:
    """The worker's deliver-webhooks job, run once as an operator would."""
    env = {
        **os.environ,
        **WEBHOOK_ENV,
        "DATABASE_URL": f"sqlite://{server_dir / 'keyward.sqlite3'}",
    }
    env.pop("TEST_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "server.py", "jobs", "run", "deliver-webhooks"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr


def test_webhooks_page_by_keyboard(
    context: Any, webhook_server: str, server_dir: Path, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    receiver = Receiver([500, 200])
    page = context.new_page()
    page.goto(webhook_server)
    page.get_by_role("tab", name="Create account").click()
    sign_up = page.get_by_role("form", name="Create account")
    sign_up.get_by_label("Email").fill(f"{uuid.uuid4().hex[:10]}@example.com")
    sign_up.get_by_label("Password").fill(PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()

    # when the owner opens Webhooks from the navigation
    page.get_by_role("navigation").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    expect(page.get_by_text("No endpoint yet.")).to_be_visible()
    assert axe_violations(page) == []

    # and adds an endpoint by keyboard, for key events only
    page.get_by_role("button", name="Add endpoint").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("URL")).to_be_focused()
    page.keyboard.type(receiver.url)
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("checkbox", name="All events")).to_be_focused()
    page.keyboard.press("Space")  # off: the single events become choosable
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("checkbox", name="api_key.created")).to_be_focused()
    page.keyboard.press("Space")  # off
    assert axe_violations(page) == []
    dialog.get_by_role("checkbox", name="api_key.expiring").focus()
    page.keyboard.press("Enter")

    # then its secret is shown once, with Copy
    expect(dialog.get_by_role("heading", name="Endpoint added")).to_be_visible()
    secret = dialog.locator("[data-token]").inner_text()
    assert secret.startswith("whsec_")
    expect(dialog.get_by_role("button", name="Copy signing secret")).to_be_visible()
    screenshot(page, "webhooks-1-secret")
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Done").press("Enter")
    expect(page.get_by_role("dialog")).to_have_count(0)
    card = page.locator(".endpoint")
    expect(card.get_by_role("heading", name=receiver.url)).to_be_visible()
    expect(card).to_contain_text("api_key.rolled")
    expect(card).not_to_contain_text("api_key.created")
    assert secret not in page.content()

    # when they send a test event, and the receiver first answers 500
    card.get_by_role("button", name="Send test event").press("Enter")
    expect(page.get_by_role("status").filter(has_text="A test event is on its way")).to_be_visible()
    rows = card.locator("table.deliveries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("webhook.test")
    expect(rows.first).to_contain_text("Pending")
    deliver(server_dir)
    page.reload()
    # then the delivery shows the answer, its attempts and its next attempt
    row = page.locator("table.deliveries tbody tr").first
    expect(row).to_contain_text("HTTP 500")
    expect(row.locator("td[data-label=Attempts]")).to_have_text("1")
    expect(row.locator("td[data-label='Next attempt'] time")).to_have_count(1)
    assert len(receiver.received) == 1
    assert receiver.received[0]["webhook-signature"].startswith("v1,")
    screenshot(page, "webhooks-2-failed")
    assert axe_violations(page) == []

    # when they retry it, and the receiver now answers 200
    row.get_by_role("button", name="Retry the webhook.test delivery").press("Enter")
    expect(page.get_by_role("status").filter(has_text="is due again now")).to_be_visible()
    deliver(server_dir)
    page.reload()
    row = page.locator("table.deliveries tbody tr").first
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("HTTP 200")
    assert len(receiver.received) == 2
    assert receiver.received[0]["webhook-id"] == receiver.received[1]["webhook-id"]

    # and at a phone's width the page reads as cards, still without axe violations
    page.set_viewport_size({"width": 390, "height": 844})
    expect(row.locator("td[data-label=Status]")).to_be_visible()
    screenshot(page, "webhooks-3-phone")
    assert axe_violations(page) == []
    receiver.server.shutdown()
    assert console_errors == []


def test_account_page_turns_expiry_notices_off(
    context: Any, webhook_server: str, console_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(webhook_server)
    page.get_by_role("tab", name="Create account").click()
    sign_up = page.get_by_role("form", name="Create account")
    sign_up.get_by_label("Email").fill(f"{uuid.uuid4().hex[:10]}@example.com")
    sign_up.get_by_label("Password").fill(PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    page.goto(f"{webhook_server}/account")
    toggle = page.get_by_role("checkbox", name="Mail me before a key expires")
    expect(toggle).to_be_checked()
    expect(toggle).to_be_enabled()
    # when they turn it off by keyboard
    toggle.focus()
    page.keyboard.press("Space")
    # then it is saved, and stays off after a reload
    expect(page.get_by_role("status").filter(has_text="no expiry notices")).to_be_visible()
    page.reload()
    expect(page.get_by_role("checkbox", name="Mail me before a key expires")).not_to_be_checked()
    page.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(page) == []
    assert console_errors == []
