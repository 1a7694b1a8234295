"""An image the customer sends shows in the customer's own chat window (issue 11, item 7):
the widget shows files from blob: URLs, which the page's CSP must allow."""

from __future__ import annotations

import base64

import pytest
from django.conf import settings

from agents.models import AgentProfile, GroupMembership
from agents.tests.factories import SkillGroupFactory
from tests.live_server import CHROMIUM, CHROMIUM_ARGS
from workbench.tests.factories import ChannelFactory
from workbench.tests.live_server import Server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Chromium at {CHROMIUM}"),
]

# A 2x2 red PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAwMDAxAABAA4SAQGT"
    "ZkAWAAAAAElFTkSuQmCC"
)


def test_customer_sees_the_image_they_sent(people, shop_a, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20000)
    agent = people["merchant_a"]
    group = SkillGroupFactory.create(shop=shop_a, name="A service")
    GroupMembership.objects.create(group=group, user=agent)
    AgentProfile.objects.filter(user=agent).update(state="online")
    channel = ChannelFactory.create(shop=shop_a, default_group=group, greeting="Hi!")
    image = tmp_path / "parcel.png"
    image.write_bytes(PNG)

    server = Server(
        settings_module="config.settings.local",
        extra_env={"DJANGO_SECRET_KEY": settings.SECRET_KEY, "DJANGO_DEBUG": "true"},
    )
    server.start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_context().new_page()
            refused: list[str] = []
            page.on(
                "console",
                lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
            )
            page.goto(f"{server.base}/chat/{channel.key}/")
            expect(page.locator(".kchat-greeting")).to_contain_text("Hi!")
            page.locator("[data-input]").fill("Here is the parcel")
            page.locator("[data-input]").press("Enter")
            expect(page.locator(".from-customer:not(.is-pending)")).to_have_count(1)
            page.locator("input[data-file]").set_input_files(str(image))
            img = page.locator("img.kchat-img")
            expect(img).to_have_count(1)
            # Loaded, not a broken image: the CSP let the blob: URL through.
            page.wait_for_function(
                "() => { const i = document.querySelector('img.kchat-img');"
                " return i && i.complete && i.naturalWidth === 2; }"
            )
            assert not refused, refused
            browser.close()
    finally:
        server.stop()
