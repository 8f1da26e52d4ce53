"""The registry on a grid worker's phone: search, a household, a birth, a move-out, exports, organisations."""
import datetime

from conftest import OUT
from test_access import login

WORKER = "gw430524001001001"
GRID = "430524001001001"


def citizen_id(region: str, born: datetime.date, sequence: int) -> str:
    """A valid GB 11643 number: ISO 7064 MOD 11-2 check character."""
    body = f"{region}{born:%Y%m%d}{sequence:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def register_birth(page, name: str, id_number: str):
    """On a household's page: opens the arrival form and registers a granddaughter's birth."""
    page.get_by_text("登记出生或迁入").click()
    page.get_by_label("出生", exact=True).check()
    page.get_by_label("姓名", exact=True).fill(name)
    page.get_by_label("公民身份号码").fill(id_number)
    page.get_by_label("与户主关系").select_option("granddaughter")
    page.get_by_role("button", name="登记", exact=True).click()


def test_grid_worker_searches_registers_a_birth_and_a_move_out(server, phone):
    page, base = phone, server["base"]
    login(page, base, WORKER)
    # Search from the header: everyone of 70 and over in the grid.
    page.get_by_role("link", name="查找", exact=True).click()
    page.get_by_label("年龄从").fill("70")
    page.get_by_role("button", name="查找").click()
    hits = page.locator("#hits li")
    assert hits.count() >= 1
    assert "找到" in page.locator("h2").first.inner_text()
    page.screenshot(path=str(OUT / "20-search.png"))
    # A bad age range is explained and nothing is searched.
    page.get_by_label("年龄从").fill("90")
    page.get_by_label("年龄到").fill("20")
    page.get_by_role("button", name="查找").click()
    assert "最小年龄不能大于最大年龄" in page.locator(".error").inner_text()

    # The first hit's household: members, and the form to register a birth.
    page.get_by_label("年龄从").fill("70")
    page.get_by_label("年龄到").fill("")
    page.get_by_role("button", name="查找").click()
    hits.first.locator(".who a").click()
    assert page.locator("#members li").count() >= 1
    baby = citizen_id("430524", datetime.date.today() - datetime.timedelta(days=30), 994)
    register_birth(page, "刘小禾", baby[:-1] + ("1" if baby[-1] != "1" else "2"))
    assert "校验码" in page.locator(".error").inner_text()
    page.screenshot(path=str(OUT / "21-birth-refused.png"), full_page=True)
    page.get_by_label("公民身份号码").fill(baby)
    page.get_by_role("button", name="登记", exact=True).click()
    assert "已登记出生" in page.locator(".notice").inner_text()
    assert "刘小禾" in page.locator("#members").inner_text()
    assert "出生登记" in page.locator("#history").inner_text()
    page.screenshot(path=str(OUT / "22-household.png"), full_page=True)

    # The baby's page; the family moves her away: she stays on record, marked, with the event.
    page.locator("#members").get_by_text("刘小禾").click()
    page.get_by_text("迁出", exact=True).click()
    page.get_by_label("迁往何处").fill("长沙市岳麓区")
    page.get_by_role("button", name="登记迁出").click()
    assert "已迁出" in page.locator("h1").inner_text()
    assert "迁往 长沙市岳麓区" in page.locator("#history").inner_text()
    page.screenshot(path=str(OUT / "23-resident-moved-out.png"), full_page=True)
    box = page.locator(".sealed button").first.bounding_box()
    assert box["height"] >= 40


def test_grid_worker_exports_the_grid_and_lists_its_organisations(server, phone):
    page, base = phone, server["base"]
    login(page, base, WORKER)
    page.goto(base + f"/net/{GRID}")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Excel").click()
    path = download.value.path()
    with open(path, "rb") as f:
        assert f.read(2) == b"PK"
    assert download.value.suggested_filename.endswith(".xlsx")
    page.screenshot(path=str(OUT / "24-grid-tools.png"), full_page=True)

    page.get_by_role("link", name="辖区单位").click()
    assert page.locator("#organisations li").count() >= 2
    page.get_by_label("单位名称").fill("桃花坪便民药店")
    page.get_by_label("统一社会信用代码").fill("91350100M000100Y44")
    page.get_by_label("单位类型").select_option("company")
    page.get_by_label("地址").fill("桃花坪街道东正街3号")
    page.get_by_label("联系人").fill("罗红梅")
    page.get_by_label("联系电话").fill("0739-8222111")
    page.get_by_role("button", name="登记").click()
    assert "校验位应为3" in page.locator(".error").inner_text()
    page.get_by_label("统一社会信用代码").fill("91350100M000100Y43")
    page.get_by_role("button", name="登记").click()
    assert "已登记" in page.locator(".notice").inner_text()
    assert "桃花坪便民药店" in page.locator("#organisations").inner_text()
    page.screenshot(path=str(OUT / "25-organisations.png"), full_page=True)
