"""A matter around the whole loop on phones: a resident reports, the grid worker dispatches, the building head handles, the resident rates."""
import base64

from conftest import OUT
from test_access import login

BUILDING = "430524001001001002"
PHONE = "13807395678"
# The smallest valid JPEG header is enough for the server's check; browsers show it as a broken image, which is fine here.
JPEG = base64.b64decode("/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==")


def act(page, label, fill=None):
    """Opens the step's form on the case page and submits it."""
    page.locator("details.action summary", has_text=label).first.click()
    form = page.locator("details.action[open] form")
    for name, value in (fill or {}).items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator("button").click()


def test_a_matter_goes_round_the_loop(server, browser, tmp_path):
    base = server["base"]
    phone_ctx = dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")

    # A resident without an account, from her building's page.
    resident = browser.new_context(**phone_ctx).new_page()
    resident.goto(base + f"/net/{BUILDING}")
    resident.locator("main").get_by_role("link", name="反映问题").click()
    resident.get_by_label("问题类别").select_option("0202")
    resident.get_by_label("发生了什么").fill("2单元楼道里有电动车在充电,线拉到三楼")
    resident.get_by_label("手机号").fill("138")
    photo = tmp_path / "scene.jpg"
    photo.write_bytes(JPEG)
    resident.get_by_label("照片").set_input_files(str(photo))
    resident.get_by_role("button", name="提交").click()
    assert "手机号" in resident.locator(".error").inner_text()  # a bad phone is explained, nothing is filed
    resident.get_by_label("手机号").fill(PHONE)
    resident.get_by_label("照片").set_input_files(str(photo))
    resident.get_by_role("button", name="提交").click()
    code = resident.locator(".trackcode").inner_text().strip()
    assert len(code) == 8
    resident.screenshot(path=str(OUT / "30-report-done.png"), full_page=True)

    # The grid worker: the new matter heads the inbox; take it in and dispatch it to the building head.
    worker = browser.new_context(**phone_ctx).new_page()
    login(worker, base, "gw430524001001001")
    worker.get_by_role("link", name="事项", exact=True).click()
    worker.locator("#cases a", has_text="电动车").first.click()
    assert "待受理" in worker.locator("h1").inner_text()
    assert worker.locator("#timeline img.thumb").count() == 1
    worker.screenshot(path=str(OUT / "31-case-reported.png"), full_page=True)
    act(worker, "受理")
    act(worker, "立案")
    act(worker, "派遣", {"assignee": f"user:bh{BUILDING}"})
    assert "已派遣" in worker.locator("h1").inner_text()

    # The building head handles it on the spot and reports back.
    head = browser.new_context(**phone_ctx).new_page()
    login(head, base, f"bh{BUILDING}")
    head.goto(base + "/cases")
    head.locator("#cases a", has_text="电动车").first.click()
    act(head, "签收")
    act(head, "处置完毕", {"note": "已劝离,充电线拆除"})
    assert "待核查" in head.locator("h1").inner_text()
    head.screenshot(path=str(OUT / "32-case-handled.png"), full_page=True)

    # The grid worker checks; a stale form (from before the check) is refused, not lost.
    worker.reload()
    act(worker, "核查", {"note": "现场已清理"})
    assert "已结案" in worker.locator("h1").inner_text()

    # The resident follows it with code and phone, and rates it.
    resident.goto(base + "/track")
    resident.get_by_label("查询码").fill(code)
    resident.get_by_label("手机号").fill("13900000000")
    resident.get_by_role("button", name="查询").click()
    assert "不匹配" in resident.locator(".error").inner_text()
    resident.get_by_label("查询码").fill(code)
    resident.get_by_label("手机号").fill(PHONE)
    resident.get_by_role("button", name="查询").click()
    assert "已结案" in resident.locator("h1").inner_text()
    timeline = resident.locator("#timeline").inner_text()
    for step in ["上报", "受理", "派遣", "签收", "核查通过"]:
        assert step in timeline
    act(resident, "评价", {"comment": "处理得很快"})
    assert "5分" in resident.locator(".people").inner_text()
    resident.screenshot(path=str(OUT / "33-case-rated.png"), full_page=True)
    box = resident.locator(".bar nav a").first.bounding_box()
    assert box["height"] >= 44


def test_county_admin_reads_figures_settings_and_board(server, browser):
    base = server["base"]
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    login(page, base, "admin")
    page.get_by_role("link", name="事项", exact=True).click()
    page.get_by_role("link", name="统计").click()
    table = page.locator("#figures")
    assert "受理率" in table.inner_text() and "合计" in table.inner_text()
    assert page.locator("#figures tbody tr").count() >= 3  # two townships and the total
    page.screenshot(path=str(OUT / "34-figures.png"), full_page=True)
    page.go_back()
    page.get_by_role("link", name="类别与时限").click()
    card = page.locator("#categories li", has_text="电动车违规充电")
    card.get_by_text("修改").click()
    card.locator("[name=accept_amount]").fill("0")
    card.get_by_role("button", name="保存").click()
    assert "时限" in page.locator(".error").inner_text()
    page.screenshot(path=str(OUT / "35-settings.png"))
    page.goto(base + "/cases/board")
    assert "督办" in page.locator("h1").inner_text()
    page.goto(base + "/cases/webhooks")
    page.get_by_label("网格代码").fill("430524001001001")
    page.get_by_label("地址").fill("javascript:alert(1)")
    page.get_by_role("button", name="添加").click()
    # The browser's own URL check or ours: either way nothing is added.
    assert page.locator("#hooks").inner_text().count("企业微信") == 0
    page.get_by_label("网格代码").fill("430524001001001")
    page.get_by_label("地址").fill("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=demo-key")
    page.get_by_role("button", name="添加").click()
    assert "已添加" in page.locator(".notice").inner_text()
    assert "demo-key" not in page.locator("#hooks").inner_text()  # the robot's key is not shown back
    page.screenshot(path=str(OUT / "36-webhooks.png"), full_page=True)
