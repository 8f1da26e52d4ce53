"""A resident on a 5-inch phone walks the net from the county page down to one building."""
from conftest import OUT, PHONE


def assert_fits_phone(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"


def assert_large_targets(page, selector):
    boxes = [page.locator(selector).nth(i).bounding_box() for i in range(min(5, page.locator(selector).count()))]
    assert boxes, f"no {selector} on the page"
    for box in boxes:
        assert box["height"] >= 44, f"{selector} is only {box['height']}px tall"


def test_county_to_building_on_a_phone(server, phone):
    page = phone
    page.goto(server["base"] + "/")
    assert page.locator("h1").inner_text().startswith("隆回县")
    assert page.locator(".count").count() == 5
    assert_fits_phone(page)
    assert_large_targets(page, ".card")
    page.screenshot(path=str(OUT / "1-county.png"), full_page=True)

    page.get_by_role("link", name="桃花坪街道").click()
    page.wait_for_url("**/net/430524001")
    assert "桃花坪街道" in page.locator("h1").inner_text()
    assert_fits_phone(page)
    page.screenshot(path=str(OUT / "2-township.png"), full_page=True)

    page.locator(".card").first.click()
    page.wait_for_url("**/net/430524001001")
    assert "社区" in page.locator("h1").inner_text()
    assert "网格员" in page.locator(".list").inner_text()
    page.screenshot(path=str(OUT / "3-community.png"), full_page=True)

    page.locator(".card").first.click()
    page.wait_for_url("**/net/430524001001001")
    people = page.locator(".people").inner_text()
    assert "网格员" in people and "网格长" in people
    assert page.locator("svg.map polygon").count() == 1
    assert_large_targets(page, ".people .phone")
    page.screenshot(path=str(OUT / "4-grid.png"), full_page=True)

    page.locator(".card").first.click()
    page.wait_for_url("**/net/430524001001001001")
    assert "楼栋长" in page.locator(".people").inner_text()
    rows = page.locator("table.rooms tbody tr")
    assert rows.count() >= 1
    assert "单元" in rows.first.inner_text()
    assert_fits_phone(page)
    page.screenshot(path=str(OUT / "5-building.png"), full_page=True)

    # The breadcrumb leads back up to the county.
    page.locator(".crumbs a").first.click()
    page.wait_for_url(server["base"] + "/")


def test_building_page_prints_without_navigation(server, phone):
    page = phone
    page.goto(server["base"] + "/net/430524001001001001")
    page.emulate_media(media="print")
    assert not page.locator(".crumbs").is_visible()
    assert page.locator("h1").is_visible()
    page.screenshot(path=str(OUT / "6-building-print.png"), full_page=True)


def test_a_bad_code_shows_a_clear_error(server, phone):
    page = phone
    response = page.goto(server["base"] + "/net/43052A")
    assert response.status == 400
    assert "区划代码" in page.locator(".error").inner_text()
    page.get_by_role("link", name="回到全县首页").click()
    page.wait_for_url(server["base"] + "/")
