"""The services of #7 in a browser: the public directory and its stairwell notices (QR codes decoded from the
screenshots), a moved building's old QR code, errands from a resident's phone to the building head and back,
volunteers and partner units with the help they gave, and training with attendance and who is short of hours."""
import re
import time

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect

from conftest import OUT, PHONE, run
from test_access import login
from test_cases import JPEG

COMMUNITY = "430524001001"  # 江湾社区
OFFICE = f"c{COMMUNITY}"  # its community staff
GRID = "430524001001001"  # 江湾社区第1网格, 7 buildings
OTHER_GRID = "430524001001002"  # 江湾社区第2网格
WORKER = f"gw{GRID}"
ERRAND_BUILDING = f"{GRID}004"  # 和平小区4栋: the errands go to its building head
HEAD = f"bh{ERRAND_BUILDING}"
NEIGHBOUR_HEAD = f"bh{GRID}005"  # a building head of another building
STAFF_BUILDING = f"{GRID}003"  # 和平小区3栋: its building head is replaced by the office
MOVING = f"{OTHER_GRID}008"  # 金色家园8栋: moved from grid 2 into grid 1 with the CLI
RESIDENT_PHONE = "13973912345"
HANDSET = dict(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")
DESK = dict(viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
# An ID number in clear or masked form, as the registry pages show them; none may appear on a public page.
ID_NUMBER = re.compile(r"430524(?:19|20)\d{9}[\dX]|\d{6}\*{4,}")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def open_details(page, summary):
    """The form inside the <details> whose summary reads `summary`, opened if it is closed."""
    box = page.locator("details", has=page.locator("summary", has_text=summary))
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    return box.locator("form")


@pytest.fixture(scope="module")
def signed_in(server, browser):
    """Opens a page logged in as `who`: one real login per person (slow in a debug build), later pages reuse its cookies."""
    states, contexts = {}, []

    def open_page(who, options=HANDSET):
        if who not in states:
            ctx = browser.new_context(**options)
            page = ctx.new_page()
            login(page, server["base"], who)
            page.wait_for_url(lambda url: "/login" not in url)
            states[who] = ctx.storage_state()
            ctx.close()
        ctx = browser.new_context(storage_state=states[who], **options)
        contexts.append(ctx)
        return ctx.new_page()

    yield open_page
    for ctx in contexts:
        try:
            ctx.close()
        except Exception:
            pass


def credit_code(first17):
    """Completes 17 characters with the GB 32100 check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(c) * w for c, w in zip(first17, weights))
    return first17 + alphabet[(31 - total % 31) % 31]


def fits_phone(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px phone"


def staff_phones(page):
    return {a.get_attribute("href")[4:] for a in page.locator("#staff a[href^='tel:']").all()}


def no_resident_data(page):
    """Nothing but staff work phones: no ID numbers, and every mobile number on the page is a staff member's."""
    html = page.content()
    assert not ID_NUMBER.search(html), ID_NUMBER.search(html)[0]
    allowed = {a.get_attribute("href")[4:] for a in page.locator("a[href^='tel:']").all()}
    strays = set(MOBILE.findall(page.locator("body").inner_text())) - allowed
    assert not strays, f"phone numbers that are not staff work phones: {strays}"


def decode_qr(png):
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert points is not None and text, "no QR code found in the screenshot"
    return text


def pdf_pages(pdf):
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def act(page, label, fill=None):
    """Submits the step whose <details> summary reads exactly `label` on an errand page."""
    step = page.locator("details.action", has=page.locator("summary", has_text=re.compile(f"^{re.escape(label)}$")))
    if step.get_attribute("open") is None:
        step.locator("summary").click()
    for name, value in (fill or {}).items():
        field = step.locator(f"[name={name}]")
        if field.first.get_attribute("type") == "radio":
            step.locator(f"[name={name}][value='{value}']").check()
        else:
            field.fill(value)
    step.locator("button").click()


def state(page):
    return page.locator("h1 .status").inner_text()


def fact(page, label):
    return page.locator(".facts-list div", has=page.locator("dt", has_text=re.compile(f"^{label}$"))).locator("dd").inner_text()


# MARK: the public directory


def test_resident_finds_who_serves_their_building_on_a_phone(server, phone):
    page, base = phone, server["base"]
    page.goto(base + "/")
    page.locator(".bar nav").get_by_role("link", name="找网格员").click()
    page.wait_for_url("**/directory")
    fits_phone(page)
    page.get_by_label("地址或楼栋编码").fill("和平小区4栋")
    page.get_by_role("button", name="查找").click()
    found = page.locator("#found a.card")
    expect(found).to_have_count(1)
    assert found.first.get_attribute("href") == f"/directory/buildings/{ERRAND_BUILDING}"
    assert found.first.bounding_box()["height"] >= 44
    fits_phone(page)
    page.screenshot(path=str(OUT / "60-directory-search.png"), full_page=True)

    found.first.click()
    page.wait_for_url(f"**/directory/buildings/{ERRAND_BUILDING}")
    assert page.locator("h1").inner_text().startswith("和平小区4栋")
    staff = page.locator("#staff li")
    roles = [li.locator(".role").inner_text() for li in staff.all()]
    assert roles == ["楼栋长", "网格员", "网格长"]
    for li in staff.all():
        assert len(li.locator("b").inner_text().strip()) >= 2
        tel = li.locator("a[href^='tel:']")
        assert re.fullmatch(r"tel:1\d{10}", tel.get_attribute("href")), tel.get_attribute("href")
        assert tel.bounding_box()["height"] >= 44, "a work phone is too small to tap"
    main = page.locator("main")
    assert main.get_by_role("link", name="江湾社区第1网格").get_attribute("href") == f"/directory/grids/{GRID}"
    assert page.locator("ol.duties li").count() >= 5
    offices = page.locator("main ul.people").nth(1).inner_text()
    assert "社区" in offices and "乡镇/街道" in offices and "江湾社区" in offices and "桃花坪街道" in offices
    assert main.get_by_role("link", name="反映问题").get_attribute("href") == f"/report?building={ERRAND_BUILDING}"
    assert main.get_by_role("link", name="申请代办").get_attribute("href").startswith("/errands")
    assert main.get_by_role("link", name="打印楼道公示牌").get_attribute("href") == f"/directory/buildings/{ERRAND_BUILDING}/notice"
    no_resident_data(page)
    fits_phone(page)
    page.screenshot(path=str(OUT / "61-directory-building.png"), full_page=True)

    # The code from a stairwell notice finds the same building; the grid page lists all its buildings.
    page.goto(base + f"/directory?q={ERRAND_BUILDING}")
    expect(page.locator("#found a.card")).to_have_count(1)
    page.locator("#found a.card").click()
    page.wait_for_url(f"**/directory/buildings/{ERRAND_BUILDING}")
    page.locator("main").get_by_role("link", name="江湾社区第1网格").click()
    page.wait_for_url(f"**/directory/grids/{GRID}")
    assert page.locator("#buildings li").count() >= 7
    assert "楼栋长" in page.locator("#buildings").inner_text()
    assert page.locator("main").get_by_role("link", name="更新人员").count() == 0  # only for the office
    no_resident_data(page)
    fits_phone(page)
    page.screenshot(path=str(OUT / "62-directory-grid.png"), full_page=True)


def test_hostile_searches_find_nothing_and_stay_text(server, phone):
    page = phone
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server["base"] + "/directory")
    for query in ["' OR 1=1 --", "<script>alert(1)</script>", "%' UNION SELECT login, password_hash FROM users --"]:
        page.get_by_label("地址或楼栋编码").fill(query)
        page.get_by_role("button", name="查找").click()
        page.wait_for_url("**/directory?q=*")
        assert page.locator("h1").inner_text() == "查找我的楼栋和网格员"
        assert page.locator("#found li").count() == 0, query
        assert "没有找到" in page.locator("main").inner_text()
        # Shown back as text ('+' for a space: see the xfail on the trailing space).
        assert page.get_by_label("地址或楼栋编码").input_value().replace("+", " ") == query[:40]
        assert "<script>alert(1)</script>" not in page.content()
        assert page.locator("main script").count() == 0 and dialogs == []


def test_a_code_typed_with_a_trailing_space_is_found(server, phone):
    page = phone
    page.goto(server["base"] + "/directory")
    page.get_by_label("地址或楼栋编码").fill(ERRAND_BUILDING + " ")
    page.get_by_role("button", name="查找").click()
    page.wait_for_url("**/directory?q=*")
    assert page.locator("#found a.card").count() == 1


def test_unknown_building_code_is_a_404_that_still_searches(server, phone):
    page = phone
    for code in ["430524001001001999", "430524001001", "not-a-code"]:
        response = page.goto(server["base"] + f"/directory/buildings/{code}")
        assert response.status == 404
        error = page.locator(".error").inner_text()
        assert "没有编码为" in error and "请按地址查找" in error, error
    fits_phone(page)
    page.screenshot(path=str(OUT / "63-directory-unknown.png"), full_page=True)
    page.get_by_label("地址或楼栋编码").fill("和平小区")
    page.get_by_role("button", name="查找").click()
    page.wait_for_url("**/directory?q=*")
    assert page.locator("#found a.card").count() >= 7


def test_notice_sheet_carries_a_qr_code_to_the_building_page(server, browser):
    base = server["base"]
    ctx = browser.new_context(viewport={"width": 800, "height": 1200}, device_scale_factor=2, locale="zh-CN")
    page = ctx.new_page()
    page.goto(base + f"/directory/buildings/{ERRAND_BUILDING}")
    people = staff_phones(page)
    page.locator("main").get_by_role("link", name="打印楼道公示牌").click()
    page.wait_for_url(f"**/directory/buildings/{ERRAND_BUILDING}/notice")
    sheet = page.locator("article.notice-sheet")
    expect(sheet).to_have_count(1)
    assert page.locator("header.bar").count() == 0  # a bare print layout, no site header
    assert "和平小区4栋" in sheet.locator("h1").inner_text()
    table = sheet.locator(".sheet-staff").inner_text()
    for role in ["楼栋长", "网格员", "网格长", "社区"]:
        assert role in table
    assert people <= set(sheet.locator(".sheet-phone").all_inner_texts())
    assert sheet.locator(".sheet-qr svg").count() == 1
    url = f"{base}/directory/buildings/{ERRAND_BUILDING}"
    assert sheet.locator(".sheet-qr small").inner_text() == url
    png = sheet.screenshot(path=str(OUT / "64-notice-sheet.png"))
    assert decode_qr(png) == url
    assert not ID_NUMBER.search(page.content())

    # Printed, it is one A4 page (595×842 pt).
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf_pages(pdf) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf)
    assert box and abs(float(box[1]) - 595.9) < 2 and abs(float(box[2]) - 842.9) < 2, box

    # The QR code points to the address the page was asked for.
    other = base.replace("127.0.0.1", "localhost")
    page.goto(other + f"/directory/buildings/{ERRAND_BUILDING}/notice")
    assert page.locator(".sheet-qr small").inner_text() == f"{other}/directory/buildings/{ERRAND_BUILDING}"
    # The code itself, once drawn: a screenshot of the whole sheet taken at once after navigating once failed to decode in CI.
    qr = page.locator(".sheet-qr")
    qr.locator("svg").wait_for(state="visible")
    assert decode_qr(qr.screenshot()) == f"{other}/directory/buildings/{ERRAND_BUILDING}"
    ctx.close()


def test_printed_notice_has_no_print_bar(server, phone):
    page = phone
    page.goto(server["base"] + f"/directory/buildings/{ERRAND_BUILDING}/notice")
    page.emulate_media(media="print")
    assert not page.locator(".print-bar").is_visible()


def test_notice_sheet_on_a_phone(server, phone):
    page = phone
    page.goto(server["base"] + f"/directory/buildings/{ERRAND_BUILDING}/notice")
    fits_phone(page)
    page.screenshot(path=str(OUT / "65-notice-phone.png"), full_page=True)
    assert decode_qr(page.locator(".sheet-qr svg").screenshot()) == f"{server['base']}/directory/buildings/{ERRAND_BUILDING}"


def test_whole_community_prints_one_sheet_per_building(server, browser):
    base = server["base"]
    ctx = browser.new_context(**DESK)
    page = ctx.new_page()
    buildings = []
    for grid in [GRID, OTHER_GRID]:
        page.goto(base + f"/directory/grids/{grid}")
        buildings += [a.get_attribute("href").rsplit("/", 1)[1] for a in page.locator("#buildings a").all()]
    page.goto(base + f"/directory/grids/{GRID}")
    page.get_by_role("link", name="打印本社区全部楼栋公示牌").click()
    page.wait_for_url(f"**/directory/communities/{COMMUNITY}/notices")
    sheets = page.locator("article.notice-sheet")
    assert sheets.count() >= 7
    assert sheets.count() == len(buildings)
    assert f"全社区 {len(buildings)} 栋" in page.title()
    urls = sheets.locator(".sheet-qr small").all_inner_texts()
    assert sorted(urls) == sorted(f"{base}/directory/buildings/{b}" for b in buildings)
    assert page.locator(".sheet-qr svg").count() == len(buildings)
    # Spot-check: the last sheet's QR code decodes to its own building.
    assert decode_qr(sheets.last.locator(".sheet-qr svg").screenshot()) == urls[-1]
    page.screenshot(path=str(OUT / "66-community-notices.png"))
    assert not ID_NUMBER.search(page.content())
    # Printed on A4, one page per building: no sheet spills onto a second page.
    page.emulate_media(media="print")
    assert pdf_pages(page.pdf(prefer_css_page_size=True)) == len(buildings)
    ctx.close()


@pytest.fixture(scope="module")
def moved(server, browser):
    """金色家园8栋 goes from grid 2 to grid 1 with the CLI, after an anonymous reader put its page in the cache."""
    base = server["base"]
    ctx = browser.new_context(**HANDSET)
    page = ctx.new_page()
    page.goto(base + f"/directory/buildings/{MOVING}")
    before = dict(h1=page.locator("h1").inner_text(), head=page.locator("#staff li").first.inner_text())
    ctx.close()
    result = run("building", "move", MOVING, "--to", GRID, "--db", f"{server['dir']}/gridwork.sqlite")
    assert result.returncode == 0, result.stderr
    new = re.search(rf"{MOVING} → (\d{{18}})", result.stdout)
    assert new, result.stdout
    time.sleep(2.5)  # the public page cache holds a page for up to 2 s
    return dict(before=before, new=new[1])


def test_a_moved_building_keeps_its_old_qr_code_working(server, phone, moved):
    page, base, new = phone, server["base"], moved["new"]
    assert moved["before"]["h1"].startswith("金色家园8栋")
    assert new.startswith(GRID) and new != MOVING
    page.goto(base + f"/directory/buildings/{MOVING}")
    assert page.locator("h1").inner_text() == "楼栋编码已变更"
    assert MOVING in page.locator(".notice").inner_text() and new in page.locator(".notice").inner_text()
    fits_phone(page)
    page.screenshot(path=str(OUT / "67-directory-moved.png"), full_page=True)
    page.locator("main").get_by_role("link", name="查看本楼栋公示").click()
    page.wait_for_url(f"**/directory/buildings/{new}")
    assert page.locator("h1").inner_text().startswith("金色家园8栋")
    assert new in page.locator(".code").inner_text()
    assert page.locator("main").get_by_role("link", name="江湾社区第1网格").get_attribute("href") == f"/directory/grids/{GRID}"
    assert [r.inner_text() for r in page.locator("#staff .role").all()] == ["楼栋长", "网格员", "网格长"]
    assert page.locator("#staff li").first.inner_text() == moved["before"]["head"]  # the building head went along
    # The old notice link leads to the new sheet; the search finds it under the new code.
    page.goto(base + f"/directory/buildings/{MOVING}/notice")
    assert page.locator(".sheet-qr small").inner_text() == f"{base}/directory/buildings/{new}"
    page.goto(base + f"/directory?q={new}")
    assert page.locator("#found a.card").get_attribute("href") == f"/directory/buildings/{new}"


def test_the_building_head_moves_with_the_building(server, moved, signed_in):
    page = signed_in(f"bh{MOVING}")
    page.goto(server["base"] + f"/net/{moved['new']}")
    assert page.locator(".person").count() > 0


def test_office_replaces_a_building_head_and_the_public_page_follows(server, browser, signed_in):
    base = server["base"]
    public = browser.new_context(**HANDSET).new_page()
    public.goto(base + f"/directory/buildings/{STAFF_BUILDING}")  # cached for the anonymous reader
    before = public.locator("#staff li").first.inner_text()
    assert "楼栋长" in before

    page = signed_in(OFFICE)
    page.goto(base + f"/directory/grids/{GRID}")
    page.locator("main").get_by_role("link", name="更新人员").click()
    page.wait_for_url(f"**/directory/grids/{GRID}/staff")
    card = page.locator("ul.posts li", has_text="和平小区3栋 楼栋长")
    # A wrong phone is explained, and nothing changes.
    card.locator("[name=name]").fill("周新民")
    card.locator("[name=phone]").fill("12345")
    card.get_by_role("button", name="更新").click()
    assert "工作电话" in page.locator(".error").inner_text()
    card = page.locator("ul.posts li", has_text="和平小区3栋 楼栋长")
    card.locator("[name=name]").fill("周新民")
    card.locator("[name=phone]").fill("13973900003")
    card.locator("[name=sex]").select_option("male")
    card.get_by_role("button", name="更新").click()
    assert "已更新楼栋长" in page.locator(".notice").inner_text()
    assert page.locator("ul.posts li", has_text="和平小区3栋 楼栋长").locator("[name=name]").input_value() == "周新民"
    fits_phone(page)
    page.screenshot(path=str(OUT / "68-directory-staff.png"), full_page=True)

    # At once, not after the cache expires.
    public.reload()
    head = public.locator("#staff li").first
    assert "周新民" in head.inner_text()
    assert head.locator("a").get_attribute("href") == "tel:13973900003"
    public.goto(base + f"/directory/buildings/{STAFF_BUILDING}/notice")
    assert "周新民" in public.locator(".sheet-staff").inner_text()
    public.context.close()


def test_staff_form_shows_the_stored_sex(server, signed_in):
    page = signed_in(OFFICE)
    page.goto(server["base"] + f"/directory/grids/{GRID}/staff")
    card = page.locator("ul.posts li", has_text="和平小区6栋 楼栋长")
    card.locator("[name=sex]").select_option("male")
    card.get_by_role("button", name="更新").click()
    assert page.locator("ul.posts li", has_text="和平小区6栋 楼栋长").locator("[name=sex]").input_value() == "male"


# MARK: errands


@pytest.fixture(scope="module")
def errand(server, browser, tmp_path_factory):
    """A resident without an account asks, on a phone, for her pension check to be done for her."""
    base = server["base"]
    ctx = browser.new_context(**HANDSET)
    page = ctx.new_page()
    page.goto(base + "/")
    page.locator(".bar nav").get_by_role("link", name="代办").click()
    page.wait_for_url("**/errands")
    cards = page.locator("#kinds a.card")
    card = cards.filter(has_text="养老资格认证")
    catalogue = dict(count=cards.count(), href=card.get_attribute("href"), text=card.inner_text())
    page.screenshot(path=str(OUT / "70-errand-catalogue.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    # Straight to her building: the form's building search is broken (see the xfail below) and the building page's
    # 申请代办 only leads to /errands.
    page.goto(base + f"/errands/new?kind=pension&building={ERRAND_BUILDING}")
    form = dict(building=page.locator("form p", has_text="楼栋").inner_text(), kind=page.locator("[name=kind]").input_value(),
                documents=page.locator("form .hint").inner_text())
    page.get_by_label("办事人姓名").fill("李秀英")
    page.get_by_label("房号").fill("1单元302")
    page.get_by_label("手机号").fill(RESIDENT_PHONE)
    page.get_by_label("说明").fill("老人行动不便,请上门拍照认证")
    photo = tmp_path_factory.mktemp("errand") / "card.jpg"
    photo.write_bytes(JPEG)
    page.get_by_label("材料照片(可选,最多3张)").set_input_files(str(photo))
    page.screenshot(path=str(OUT / "71-errand-form.png"), full_page=True)
    page.get_by_role("button", name="提交").click()
    done = dict(h1=page.locator("h1").inner_text(), notice=page.locator(".notice").inner_text(), code=page.locator(".trackcode").inner_text().strip(),
                track=page.get_by_role("link", name="查询进度").get_attribute("href"))
    page.screenshot(path=str(OUT / "72-errand-done.png"), full_page=True)
    ctx.close()
    return dict(catalogue=catalogue, width=width, form=form, done=done, code=done["code"])


def test_resident_asks_for_an_errand_without_an_account(errand):
    assert errand["catalogue"]["count"] >= 5
    assert errand["catalogue"]["href"] == "/errands/new?kind=pension"
    assert "需准备" in errand["catalogue"]["text"] and "身份证" in errand["catalogue"]["text"]
    assert errand["width"] <= PHONE["width"]
    assert "和平小区4栋" in errand["form"]["building"]
    assert errand["form"]["kind"] == "pension" and "需准备" in errand["form"]["documents"]
    assert errand["done"]["h1"] == "代办申请已收到"
    assert "养老资格认证" in errand["done"]["notice"]
    assert re.fullmatch(r"[A-Z0-9]{6,12}", errand["code"]), errand["code"]
    assert errand["done"]["track"] == f"/errands/track?code={errand['code']}"


def test_errand_form_first_finds_the_building(server, phone):
    page = phone
    page.goto(server["base"] + "/errands/new?kind=pension")
    assert page.get_by_label("先找到所在楼栋(小区名或地址)").count() == 1
    page.get_by_label("先找到所在楼栋(小区名或地址)").fill("和平小区4栋")
    page.get_by_role("button", name="查找").click()
    page.locator("main a.card", has_text="和平小区4栋").click()
    assert page.locator("[name=building]").input_value() == ERRAND_BUILDING
    assert page.locator("[name=kind]").input_value() == "pension"


def test_building_head_carries_the_errand_and_the_resident_rates_it(errand, server, browser, signed_in):
    base, code = server["base"], errand["code"]
    page = signed_in(HEAD)
    page.goto(base + "/")
    page.locator(".bar nav").get_by_role("link", name="代办").click()
    page.wait_for_url("**/errands")
    row = page.locator("#errands a.card", has_text="李秀英")
    expect(row).to_have_count(1)
    assert "养老资格认证" in row.inner_text() and "1单元302" in row.inner_text()
    page.screenshot(path=str(OUT / "73-errands-head.png"), full_page=True)
    row.click()
    page.wait_for_url(re.compile(r"/errands/\d+$"))
    errand_id = int(page.url.rsplit("/", 1)[1])
    assert "1单元302" in fact(page, "地址")
    assert RESIDENT_PHONE not in page.locator("main").inner_text()  # masked for the building head
    assert fact(page, "查询码") == code
    assert page.locator("img.thumb").count() == 1
    photo = page.locator("img.thumb").get_attribute("src")
    assert page.request.get(base + photo).headers["content-type"] == "image/jpeg"
    fits_phone(page)
    page.screenshot(path=str(OUT / "74-errand-head.png"), full_page=True)

    act(page, "受理")
    assert "已记录" in page.locator(".notice").inner_text()
    accepted = state(page)
    act(page, "开始办理")
    # Handed to an office: the office's name is required.
    act(page, "已交部门办理", {"office": "桃花坪街道社保所"})
    assert fact(page, "经办部门") == "桃花坪街道社保所"
    waiting = state(page)
    act(page, "部门已办完,继续")
    act(page, "办结", {"note": "已在社保所完成认证,回执交给本人"})
    assert page.locator(".error").count() == 0
    finished = state(page)
    assert len({accepted, waiting, finished}) == 3, (accepted, waiting, finished)
    timeline = page.locator("ol.timeline").inner_text()
    for step in ["申请", "受理", "开始办理", "已交部门办理", "部门已办完,继续", "办结"]:
        assert step in timeline
    page.screenshot(path=str(OUT / "75-errand-finished.png"), full_page=True)
    # A building head may not read the figures.
    assert page.goto(base + "/errands/figures").status in (403, 404)

    # A building head of another building does not see it at all.
    other = signed_in(NEIGHBOUR_HEAD)
    assert other.goto(base + f"/errands/{errand_id}").status == 404
    assert other.goto(base + photo).status == 404
    other.goto(base + "/errands")
    assert other.locator("#errands a.card", has_text="李秀英").count() == 0

    # The resident follows it with code and phone, and rates it.
    ctx = browser.new_context(**HANDSET)
    resident = ctx.new_page()
    resident.goto(base + "/errands")
    resident.get_by_role("link", name="查询代办进度").click()
    resident.get_by_label("查询码").fill(code)
    resident.get_by_label("申请时留的手机号").fill("13900000000")
    resident.get_by_role("button", name="查询").click()
    assert "不匹配" in resident.locator(".error").inner_text()
    resident.get_by_label("查询码").fill(code.lower())
    resident.get_by_label("申请时留的手机号").fill(RESIDENT_PHONE)
    resident.get_by_role("button", name="查询").click()
    assert state(resident) == finished
    assert "已在社保所完成认证" in resident.locator("ol.timeline").inner_text()
    assert resident.locator("img.thumb").count() == 0  # photos stay with the staff
    act(resident, "评价", {"score": "4", "comment": "楼栋长跑了两趟,辛苦了"})
    assert "4分" in fact(resident, "评价") and "辛苦了" in fact(resident, "评价")
    assert resident.locator("details.action", has_text="评价").count() == 0  # rated once
    fits_phone(resident)
    resident.screenshot(path=str(OUT / "76-errand-rated.png"), full_page=True)
    assert resident.get_by_role("button", name="评价").count() == 0
    ctx.close()

    # The grid worker reads the figures: the building head has one errand done, rated 4.
    worker = signed_in(WORKER)
    worker.goto(base + "/errands")
    worker.get_by_role("link", name="代办统计").click()
    worker.wait_for_url("**/errands/figures")
    line = worker.locator("#errand-figures tbody tr", has_text=HEAD)
    expect(line).to_have_count(1)
    cells = line.locator("td").all_inner_texts()
    assert cells[1] == "1" and cells[2].startswith("1") and "4.0" in cells[3], cells
    worker.screenshot(path=str(OUT / "77-errand-figures.png"), full_page=True)


def test_errand_timeline_names_the_resident_in_chinese(errand, server, phone):
    page = phone
    page.goto(server["base"] + f"/errands/track?code={errand['code']}")
    page.get_by_label("申请时留的手机号").fill(RESIDENT_PHONE)
    page.get_by_role("button", name="查询").click()
    assert page.locator("ol.timeline .by").first.inner_text() == "居民"


def test_bad_errand_input_is_explained_in_chinese(server, phone):
    page, base = phone, server["base"]
    page.goto(base + f"/errands/new?kind=medical&building={ERRAND_BUILDING}")
    page.get_by_label("办事人姓名").fill("王大爷")
    page.get_by_label("手机号").fill("12345")
    page.get_by_role("button", name="提交").click()
    error = page.locator(".error").inner_text()
    assert "手机号" in error and re.search(r"[\u4e00-\u9fff]", error)
    # What she typed is kept, the building too.
    assert page.get_by_label("办事人姓名").input_value() == "王大爷"
    assert page.locator("[name=building]").input_value() == ERRAND_BUILDING
    fits_phone(page)
    page.screenshot(path=str(OUT / "78-errand-bad-phone.png"), full_page=True)
    # No name (an old browser that ignores `required`): the server says so too.
    page.get_by_label("办事人姓名").fill("")
    page.get_by_label("办事人姓名").evaluate("e => e.removeAttribute('required')")
    page.get_by_label("手机号").fill(RESIDENT_PHONE)
    page.get_by_role("button", name="提交").click()
    assert "姓名" in page.locator(".error").inner_text()
    assert page.locator(".trackcode").count() == 0


# MARK: volunteers and partner units


def test_volunteer_registered_and_their_help_recorded(errand, server, signed_in):
    base = server["base"]
    page = signed_in(WORKER)
    page.goto(base + "/me")
    page.get_by_role("link", name="志愿者与共建单位").click()
    page.wait_for_url("**/helpers")
    form = open_details(page, "登记志愿者")
    grids = form.locator("[name=grid] option")
    assert grids.count() >= 1, "no grid to choose for the volunteer"
    form.locator("[name=grid]").select_option(GRID)
    form.get_by_label("姓名").fill("陈志强")
    form.get_by_label("手机号").fill("1397391")
    form.get_by_role("button", name="登记").click()
    assert "手机号" in page.locator(".error").inner_text()
    # A refused registration keeps its form open.
    assert page.locator("details", has=page.locator("summary", has_text="登记志愿者")).get_attribute("open") is not None
    form = open_details(page, "登记志愿者")
    form.locator("[name=grid]").select_option(GRID)
    form.get_by_label("姓名").fill("陈志强")
    form.get_by_label("手机号").fill("13973955501")
    form.get_by_label("特长").fill("水电维修、跑腿")
    form.get_by_label("可服务时间").fill("周末全天")
    form.get_by_role("button", name="登记").click()
    assert "已登记志愿者 陈志强" in page.locator(".notice").inner_text()
    card = page.locator("#volunteers a.card", has_text="陈志强")
    assert "13973955501" not in card.inner_text()  # the phone is masked
    assert "共 0 小时" in card.inner_text()
    href = card.get_attribute("href")
    assert re.fullmatch(r"/helpers/v:\d+", href), href
    fits_phone(page)
    page.screenshot(path=str(OUT / "80-helpers.png"), full_page=True)

    # On the errand: the grid worker records what the volunteer did.
    page.goto(base + "/errands")
    page.locator("#errands a.card", has_text="李秀英").click()
    helper = page.locator("form", has=page.get_by_role("button", name="记录协助"))
    helper.locator("[name=helper]").select_option(href.rsplit("/", 1)[1])
    helper.locator("[name=hours]").fill("2.5")
    helper.locator("[name=note]").fill("开车送老人去社保所")
    helper.get_by_role("button", name="记录协助").click()
    page.wait_for_url(re.compile(r"/errands/\d+$"))
    errand_href = page.url.replace(base, "")
    assert "陈志强 2.5 小时 开车送老人去社保所" in page.locator("ul.notices").inner_text()
    page.screenshot(path=str(OUT / "81-errand-helper.png"), full_page=True)

    # The volunteer's page lists it with the hours.
    page.goto(base + href)
    assert page.locator("h1").inner_text() == "志愿者 陈志强"
    item = page.locator("#contributions li").first
    assert "开车送老人去社保所" in item.inner_text() and "2.5 小时" in item.inner_text()
    assert item.locator("a").get_attribute("href") == errand_href
    assert "共 2.5 小时" in page.locator("h2").first.inner_text()
    fits_phone(page)
    page.screenshot(path=str(OUT / "82-volunteer.png"), full_page=True)
    page.goto(base + "/helpers")
    assert "共 2.5 小时 · 1 次" in page.locator("#volunteers a.card", has_text="陈志强").inner_text()

    # A building head of the grid sees the volunteer; one of another grid does not.
    assert "陈志强" in signed_in(HEAD).goto(base + "/helpers").text()
    assert signed_in(f"bh{OTHER_GRID}001").goto(base + href).status == 404


def test_office_registers_a_partner_unit_checking_its_credit_code(server, signed_in):
    base = server["base"]
    page = signed_in(OFFICE, DESK)
    page.goto(base + "/helpers")
    good = credit_code("12430524MB1234567")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")

    def register(code):
        form = open_details(page, "登记共建单位")
        form.locator("[name=community]").select_option(COMMUNITY)
        form.get_by_label("单位名称").fill("隆回县第二中学")
        form.get_by_label("统一社会信用代码(18位)").fill(code)
        form.get_by_label("类别").select_option("学校")
        form.get_by_label("承诺提供的服务").fill("每月一次学生志愿服务,寒暑假开放操场")
        form.get_by_label("联系人和电话").fill("团委 刘老师 0739-8221234")
        form.get_by_role("button", name="登记").click()

    register(bad)
    error = page.locator(".error").inner_text()
    assert "统一社会信用代码" in error and "校验位" in error, error
    assert page.locator("#units a.card", has_text="隆回县第二中学").count() == 0
    page.screenshot(path=str(OUT / "83-unit-refused.png"), full_page=True)
    register(good)
    assert "已登记共建单位 隆回县第二中学" in page.locator(".notice").inner_text()
    page.locator("#units a.card", has_text="隆回县第二中学").click()
    assert fact(page, "统一社会信用代码") == good
    # Help without a matter: a community activity, from the unit's page.
    page.get_by_label("时长(小时)").fill("3")
    page.get_by_label("做了什么").fill("重阳节敬老院演出")
    page.get_by_role("button", name="记录一次社区服务").click()
    assert "重阳节敬老院演出" in page.locator("#contributions").inner_text()
    assert page.goto(base + "/helpers").status == 200
    register(good)  # the same code twice is refused
    assert "已登记" in page.locator(".error").inner_text()


# MARK: training


def overdue_logins(page, base):
    page.goto(base + "/training/overdue")
    return {a.get_attribute("href").rsplit("/", 1)[1]: a.inner_text() for a in page.locator("#overdue a.card").all()}


def add_course(page, base, topic, hours, audience):
    page.goto(base + "/training")
    page.locator("details summary", has_text="新增培训").click()
    form = page.locator("details[open] form")
    form.get_by_label("主题").fill(topic)
    form.get_by_label("学时", exact=True).fill(hours)
    form.get_by_label("授课人").fill("县委政法委 王科长")
    form.get_by_label("对象").select_option(audience)
    assert form.locator("[name=mandatory]").is_checked()
    form.get_by_role("button", name="新增").click()
    page.wait_for_url(re.compile(r"/training/\d+$"))
    return page.url.replace(base, "")


def test_course_attendance_shrinks_the_overdue_list(server, signed_in):
    base = server["base"]
    page = signed_in(OFFICE)
    before = overdue_logins(page, base)
    assert WORKER in before and HEAD in before and NEIGHBOUR_HEAD in before
    assert "/ 16 学时" in before[WORKER] and "/ 8 学时" in before[HEAD]
    page.screenshot(path=str(OUT / "90-training-overdue-before.png"), full_page=True)

    page.goto(base + "/me")
    page.get_by_role("link", name="培训", exact=True).click()
    page.wait_for_url("**/training")
    page.locator("details summary", has_text="新增培训").click()
    form = page.locator("details[open] form")
    form.get_by_label("主题").fill("网格员年度必修:矛盾纠纷排查化解")
    form.get_by_label("学时", exact=True).fill("16")
    form.get_by_label("授课人").fill("县委政法委 王科长")
    form.get_by_label("对象").select_option("all")
    assert form.locator("[name=mandatory]").is_checked()
    page.screenshot(path=str(OUT / "91-training-new.png"), full_page=True)
    form.get_by_role("button", name="新增").click()
    page.wait_for_url(re.compile(r"/training/\d+$"))
    course = page.url.replace(base, "")
    assert page.locator("h1").inner_text() == "网格员年度必修:矛盾纠纷排查化解"
    assert fact(page, "学时") == "16" and fact(page, "性质") == "必修"
    roster = page.locator("#roster input[name=attended]")
    logins = [b.get_attribute("value") for b in roster.all()]
    assert WORKER in logins and HEAD in logins and NEIGHBOUR_HEAD in logins
    for who in [WORKER, HEAD]:
        page.locator(f"#roster input[value='{who}']").check()
    box = page.locator(f"#roster input[value='{HEAD}']").locator("xpath=..").bounding_box()
    assert box["height"] >= 40, "a roster line is too small to tap"
    fits_phone(page)
    page.screenshot(path=str(OUT / "92-training-roster.png"), full_page=True)
    page.get_by_role("button", name="保存签到").click()
    assert "已登记 2 人参加" in page.locator(".notice").inner_text()
    assert page.locator(f"#roster input[value='{HEAD}']").is_checked()
    assert not page.locator(f"#roster input[value='{NEIGHBOUR_HEAD}']").is_checked()

    after = overdue_logins(page, base)
    assert WORKER not in after and HEAD not in after
    assert NEIGHBOUR_HEAD in after
    assert set(after) == set(before) - {WORKER, HEAD}

    # Four hours of a building heads' course are not enough: the neighbour stays on the list, with the hours counted.
    add_course(page, base, "楼栋长消防安全常识", "4", "building_head")
    assert page.locator(f"#roster input[value='{WORKER}']").count() == 0  # not its audience
    page.locator(f"#roster input[value='{NEIGHBOUR_HEAD}']").check()
    page.get_by_role("button", name="保存签到").click()
    assert "已登记 1 人参加" in page.locator(".notice").inner_text()
    after = overdue_logins(page, base)
    assert "近一年必修 4 / 8 学时" in after[NEIGHBOUR_HEAD]
    assert set(after) == set(before) - {WORKER, HEAD}
    fits_phone(page)
    page.screenshot(path=str(OUT / "93-training-overdue-after.png"), full_page=True)

    # The building head finds the course in their own record, from 我的.
    head = signed_in(HEAD)
    head.goto(base + "/me")
    head.get_by_role("link", name="我的培训记录").click()
    head.wait_for_url(f"**/training/people/{HEAD}")
    assert "近一年必修 16 学时,要求 8 学时" in head.locator("main").inner_text()
    record = head.locator("#record a.card", has_text="矛盾纠纷排查化解")
    assert record.get_attribute("href") == course and "必修" in record.inner_text()
    fits_phone(head)
    head.screenshot(path=str(OUT / "94-training-mine.png"), full_page=True)
    # Not another's record, and not the overdue list.
    assert head.goto(base + f"/training/people/{NEIGHBOUR_HEAD}").status == 404
    assert head.goto(base + "/training/overdue").status in (403, 404)
