"""The staff page in a real browser: the system's headless Chromium (Debian's package, never a
downloaded build), driven by Playwright, against the app `enrich serve` runs, on a real uvicorn
server on a free loopback port. Signs in, searches, opens a customer, enriches one, signs out,
and saves screenshots under the test's tmp_path (their paths are printed: run with -s).

Skips, saying why, where no Chromium or no Playwright is installed; fails instead under CI
(CI=true), which installs both (`make browser`, the dev extra)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
import uvicorn
from starlette.applications import Starlette

from enrichment_pipelines.api import build_app
from enrichment_pipelines.core.users import add_user
from enrichment_pipelines.core.warehouse import Warehouse
from tests.support.config import server_config
from tests.support.instance import free_port
from tests.support.records import enriched


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI installs it, so the browser test must run there")
    pytest.skip(reason)


def chromium_executable() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        unavailable(
            "no Chromium to drive: neither `chromium` nor `chromium-browser` is on PATH "
            "(Debian: apt-get install chromium, or `make browser` with CI set)"
        )
    return found


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """`app` on a real uvicorn server on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="staff-page-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.mark.e2e
def test_staff_page_in_headless_chromium(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chromium = chromium_executable()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install -e '.[dev]')")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # "Enrich now" runs on an ephemeral one
    enriched(warehouse, tmp_path, 3)  # import:1..3, "Company 1".."Company 3", is_saas quoted
    with warehouse.transaction() as connection:
        # One customer without a website: "Enrich now" runs the real pipeline, which skips it
        # at once (no credit, no crawl of a site that does not exist).
        connection.execute(
            "UPDATE customers SET website_url = NULL, website_error = 'no website given' "
            "WHERE customer_id = 'import:3'"
        )
        token = add_user(connection, "sam", "staff", by="test")

    with serving(build_app(server_config())) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)

            page.goto(f"{base}/")
            page.get_by_label("Your API token").fill("ep_sam_" + "x" * 43)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("alert")).to_have_text("token not recognised")

            page.get_by_label("Your API token").fill(token)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Customers")).to_be_visible()
            expect(page.get_by_text("Signed in as sam (staff)")).to_be_visible()
            [cookie] = [c for c in page.context.cookies() if c["name"] == "enrich_session"]
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            expect(page.get_by_role("heading", name="Settings")).to_have_count(0)

            page.get_by_role("searchbox", name="Search customers").fill("company 2")
            page.get_by_role("button", name="Search").click()
            expect(page.get_by_role("link", name="import:2")).to_be_visible()
            expect(page.get_by_role("link", name="import:1")).to_have_count(0)

            page.get_by_role("link", name="import:2").click()
            expect(page.get_by_role("heading", name="Company 2")).to_be_visible()
            values = page.get_by_role("row").filter(has_text="is_saas")
            expect(values).to_contain_text("true")
            expect(values).to_contain_text("0.90")
            expect(values).to_contain_text("https://site002.example/")
            expect(values).to_contain_text("quote for is_saas")
            expect(page.get_by_text("1 credit; balance 97")).to_be_visible()
            screenshot = tmp_path / "staff-page-customer.png"
            page.screenshot(path=str(screenshot), full_page=True)
            print(f"screenshot of the customer page: {screenshot}")

            # "Enrich now", posted by the browser itself (its Origin header, the form's token).
            page.goto(f"{base}/customers/import%3A3")
            page.get_by_role("button", name="Enrich now").click()
            expect(page.get_by_role("status")).to_have_text(
                "Enrichment finished: the outcome is below.", timeout=120_000
            )
            expect(page.locator("#outcome")).to_contain_text("skipped (no website given)")
            expect(page.get_by_text("1 credit; balance 97")).to_be_visible()  # nothing charged
            after = tmp_path / "staff-page-after-enrich.png"
            page.screenshot(path=str(after), full_page=True)
            print(f"screenshot after Enrich now: {after}")

            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_role("button", name="Sign in")).to_be_visible()
            assert not [c for c in page.context.cookies() if c["name"] == "enrich_session"]
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000  # a rendered page, not a blank one
