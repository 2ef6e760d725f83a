"""Issue 16: a confirmed proposal goes to the district's filing inbox and back, in a real
browser: staff submit, the district returns it with a reason, staff see the reason and
submit again, the district accepts it (filed); the city follows the counts. The district
and city pages are photographed on a 390×844 phone screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.helpers import PASSWORD

from .browser import phone_context, screenshot

pytestmark = pytest.mark.browser


def _login(page, username: str) -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def test_submit_return_resubmit_accept_in_the_browser(browser, live):
    app = live.app
    pid = factories.confirmed(app)  # community hx, staff-hx, confirmed by its committee
    factories.district(app, "chengzhong", "城中区")
    factories.district(app, "liunan", "柳南区")
    factories.into_district(app, "hx", "chengzhong")
    factories.district_user(app, "cz-office", "chengzhong")
    factories.district_user(app, "city-office", None, role="city")

    office = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
    staff = office.new_page()
    _login(staff, "staff-hx")
    staff.goto(f"/staff/proposals/{pid}")
    staff.locator("#submit-filing").click()
    expect(staff.locator("#filing-waiting")).to_be_visible()
    assert live.proposal(pid).status == "submitted"

    district_ctx = phone_context(browser, live)
    district = district_ctx.new_page()
    _login(district, "cz-office")
    expect(district).to_have_url(re.compile(r"/district/chengzhong$"))
    expect(district.locator("#inbox")).to_contain_text("幸福里小区")
    expect(district.locator("[data-stage=design]")).to_have_attribute("data-status", "submitted")
    screenshot(district, "i16-district-overview-390")
    district.locator("#inbox a").first.click()
    expect(district.locator("#manifest-ok")).to_be_visible()
    expect(district.locator("#package-files")).to_contain_text("confirmation.pdf")
    screenshot(district, "i16-district-item-390")
    district.locator("#r-reason").fill("缺少公示现场照片，请补充后重新报送")
    district.locator("#return").click()
    expect(district.locator(".flash.ok")).to_be_visible()
    assert live.proposal(pid).status == "confirmed"

    staff.reload()
    expect(staff.locator("#filing-returned")).to_contain_text("缺少公示现场照片")
    staff.locator("#submit-filing").click()
    expect(staff.locator("#filing-waiting")).to_be_visible()

    district.goto("/district/chengzhong")
    district.locator("#inbox a").first.click()
    district.locator("#accept").click()
    expect(district.locator(".flash.ok")).to_be_visible()
    assert live.proposal(pid).status == "filed"
    expect(district.locator("[data-stage=design]")).to_have_attribute("data-status", "filed")

    city_ctx = phone_context(browser, live)
    city = city_ctx.new_page()
    _login(city, "city-office")
    city.goto("/city")
    filed = city.locator("#counts-design tr[data-status=filed]")
    expect(filed.locator("td[data-district=chengzhong]")).to_have_text("1")
    expect(filed.locator("td.total")).to_have_text("1")
    screenshot(city, "i16-city-390")
    for ctx in (office, district_ctx, city_ctx):
        ctx.close()
