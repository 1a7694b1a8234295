"""In a real browser against a real demo server: each seeded role signs in and sees its
navigation; a merchant agent is refused another shop's customer."""

from __future__ import annotations

import pytest

from demo.management.commands.seed_demo import DEMO_PASSWORD
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, demo_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make browsers)"),
]

EXPECTED = {
    "admin": ["Workbench", "Service orders", "Tickets", "Monitoring", "Agents", "Reports",
              "Info query", "Settings"],
    "supervisor": ["Workbench", "Service orders", "Tickets", "Monitoring", "Agents", "Reports",
                   "Info query"],
    "agent1": ["Workbench", "Service orders", "Tickets", "Info query"],
    "blossom1": ["Workbench", "Service orders", "Tickets", "Info query"],
    "logistics1": ["Tickets", "Info query"],
}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live")) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _sign_in(browser, server, username, locale="en-US"):
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(server + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_signs_in_and_sees_its_navigation(browser, server, username):
    page = _sign_in(browser, server, username)
    nav = [t.strip() for t in page.locator("nav.mainnav a").all_inner_texts()]
    assert nav == EXPECTED[username]
    # Every navigation link opens a page, not an error.
    for href in page.locator("nav.mainnav a").evaluate_all("els => els.map(e => e.href)"):
        response = page.goto(href)
        assert response is not None and response.status == 200, href
    page.context.close()


def test_wrong_password_stays_on_the_sign_in_page(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server + "/accounts/login/")
    page.fill("input[name=username]", "agent1")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert "/accounts/login/" in page.url
    assert page.locator("[role=alert]").count() == 1
    context.close()


def test_merchant_cannot_open_another_shops_customer(browser, server):
    page = _sign_in(browser, server, "blossom1")
    page.goto(server + "/search/?q=C1003")  # C1003 only bought from Northwind
    assert page.locator("table.table tbody tr").count() == 0
    page.goto(server + "/search/?q=C1001")
    page.locator("table.table a").first.click()
    page.wait_for_load_state("networkidle")
    body = page.locator("main").inner_text()
    assert "BT20261101001" in body and "NW20261103001" not in body
    page.context.close()


def test_chinese_browser_gets_the_chinese_interface(browser, server):
    page = _sign_in(browser, server, "agent1", locale="zh-CN")
    nav = [t.strip() for t in page.locator("nav.mainnav a").all_inner_texts()]
    assert nav == ["工作台", "服务单", "工单", "信息查询"]
    page.context.close()
