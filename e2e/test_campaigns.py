"""A campaign (排查任务) from desk to door: the community builds one from the fire template and launches it; the building
head answers door to door on a phone, once with no network; the dashboard follows live; a finding becomes a matter."""
import json
import re

import pytest
from playwright.sync_api import expect

from conftest import OUT, PHONE
from test_access import login
from test_cases import JPEG

COMMUNITY = "c430524001001"  # 江湾社区
GRID = "430524001001001"  # 江湾社区第1网格
BUILDING = "430524001001001001"  # its 1号楼, which has a building head
HEAD = f"bh{BUILDING}"
WORKER = f"gw{GRID}"
TITLE = "冬季消防隐患排查·江湾第1网格"
# Times on the pages are Beijing time; the browsers read clocks as a phone in Hunan would.
DESK = dict(viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
HANDSET = dict(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")


def progress(page, base, campaign):
    """The campaign's figures as the server counts them now (one event of the live feed)."""
    text = page.request.get(f"{base}/campaigns/{campaign}/live?once=1").text()
    return json.loads(next(line[6:] for line in text.splitlines() if line.startswith("data: ")))


def fill(item, answers):
    """Answers one door's questions: a choice by its value, anything else typed in."""
    for key, value in answers.items():
        choice = item.locator(f"input[name={key}][value='{value}']")
        if choice.count():
            choice.check()
        else:
            item.locator(f"[name={key}]").fill(value)


def count_of(page, label):
    """A figure of a region page's count boxes, e.g. 户."""
    return int(page.locator(".counts .count", has=page.locator("span", has_text=re.compile(f"^{label}$"))).locator("b").inner_text().replace(",", ""))


@pytest.fixture(scope="module")
def fire(server, browser):
    """The community office builds the fire campaign for one grid from the template and launches it, at a desk."""
    base = server["base"]
    ctx = browser.new_context(**DESK)
    page = ctx.new_page()
    login(page, base, COMMUNITY)
    page.goto(base + f"/net/{GRID}")
    households, buildings = count_of(page, "户"), count_of(page, "楼栋")
    page.get_by_role("link", name="排查", exact=True).click()
    page.get_by_role("link", name="从模板:消防隐患排查").click()
    page.wait_for_url("**/campaigns/new?template=fire")
    builder = page.locator("#builder")
    prefilled = {n: builder.locator(f"[name={n}]").input_value() for n in ["title", "label_1", "finding_1", "label_5", "kind_5", "showif_5"]}
    builder.get_by_label("任务名称").fill(TITLE)
    builder.locator("select[name=region]").select_option(GRID)
    builder.locator("input[name=target][value=region]").check()
    page.screenshot(path=str(OUT / "40-campaign-builder.png"), full_page=True)
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    campaign = int(page.url.rsplit("/", 1)[1])
    draft = {"h1": page.locator("h1").inner_text(), "check": page.get_by_role("heading", name="发布前核对").count(),
             "count": int(page.locator("#target-count").inner_text().replace(",", "")), "questions": page.locator("ol.questions").inner_text()}
    page.screenshot(path=str(OUT / "41-campaign-draft.png"), full_page=True)
    page.get_by_role("button", name="发布任务").click()
    notice = page.locator(".notice").inner_text()
    launched = {"h1": page.locator("h1").inner_text(), "total": page.locator("#total").inner_text(), "done": page.locator("#done").inner_text(),
                "rows": page.locator("#children tr[data-code]").count()}
    page.screenshot(path=str(OUT / "42-campaign-launched.png"), full_page=True)
    ctx.close()
    return dict(id=campaign, households=households, buildings=buildings, prefilled=prefilled, draft=draft, notice=notice, launched=launched)


def test_community_builds_and_launches_a_fire_campaign(fire, server, browser):
    # The template filled the builder: its questions, the condition on the photo and the finding on e-bikes.
    assert fire["prefilled"]["title"] == "消防隐患排查"
    assert fire["prefilled"]["label_1"] == "电动车是否在室内或楼道充电"
    assert fire["prefilled"]["finding_1"] == "是=0202"
    assert (fire["prefilled"]["label_5"], fire["prefilled"]["kind_5"], fire["prefilled"]["showif_5"]) == ("隐患照片", "photo", "2=是")
    # The draft shows, before anything is sent, as many doors as the grid has households in the registry.
    assert "草稿" in fire["draft"]["h1"] and fire["draft"]["check"] == 1
    assert fire["draft"]["count"] == fire["households"] > 0
    assert "第2题答“是”时显示" in fire["draft"]["questions"]
    # Launched: every door went to its building, the notice says so and the dashboard starts at nought.
    m = re.search(r"已发布[::]([\d,]+) 户分派到 (\d+) 栋楼[,,]已通知 (\d+) 人[((]用时 .+[))]", fire["notice"])
    assert m, fire["notice"]
    doors, buildings, told = int(m[1].replace(",", "")), int(m[2]), int(m[3])
    assert doors == fire["draft"]["count"] and buildings == fire["buildings"] and 1 <= told <= buildings
    assert "进行中" in fire["launched"]["h1"]
    assert fire["launched"]["total"].replace(",", "") == str(doors) and fire["launched"]["done"] == "0"
    assert fire["launched"]["rows"] == buildings

    # The campaign is listed for the office, with its progress.
    ctx = browser.new_context(**DESK)
    page = ctx.new_page()
    login(page, server["base"], COMMUNITY)
    page.goto(server["base"] + "/campaigns")
    card = page.locator("#campaigns li", has_text=TITLE)
    assert "进行中" in card.inner_text() and f"已完成 0 / {fire['launched']['total']} 户" in card.inner_text()
    ctx.close()


def test_building_head_answers_door_to_door_online_and_offline(fire, server, browser):
    base, campaign = server["base"], fire["id"]

    # The office keeps the dashboard open; it is connected once the first live event has arrived.
    office_ctx = browser.new_context(**DESK)
    office = office_ctx.new_page()
    login(office, base, COMMUNITY)
    office.goto(base + f"/campaigns/{campaign}")
    expect(office.locator("#live-status")).to_contain_text("实时更新 ·")
    before = progress(office, base, campaign)
    assert office.locator("#done").inner_text() == str(before["done"])
    row = office.locator(f"#children tr[data-code='{BUILDING}']")
    row_done, row_total = map(int, row.locator(".frac").inner_text().split("/"))
    office.evaluate("window.__notReloaded = true")

    # The building head, on a phone: 排查 in the header, the running campaign, 入户登记.
    ctx = browser.new_context(**HANDSET)
    page = ctx.new_page()
    try:
        login(page, base, HEAD)
        page.get_by_role("link", name="排查", exact=True).click()
        card = page.locator("#campaigns li", has_text=TITLE)
        assert f"/ {row_total} 户" in card.inner_text()
        page.screenshot(path=str(OUT / "43-campaign-list-phone.png"), full_page=True)
        card.get_by_role("link", name="入户登记").click()
        page.wait_for_url(f"**/campaigns/{campaign}/visits")
        assert page.locator("li.visit").count() == row_total
        doors = [page.locator(f"#{el.get_attribute('id')}") for el in page.locator("li.visit.state-pending").all()[:3]]
        first, refused, offline = doors
        page.screenshot(path=str(OUT / "44-checklist-phone.png"))
        # Thumb-sized targets: the choices and the buttons.
        assert first.locator(".choices .check").first.bounding_box()["height"] >= 44
        assert first.get_by_role("button", name="提交").bounding_box()["height"] >= 44

        # The photo of a blocked exit is asked only once the exit is said to be blocked.
        photo = first.locator("fieldset[data-show-if=q2]")
        assert photo.locator("legend").text_content() == "隐患照片"
        expect(photo).to_be_hidden()
        fill(first, {"q2": "是"})
        expect(photo).to_be_visible()
        fill(first, {"q2": "否"})
        expect(photo).to_be_hidden()

        # First door, online: an e-bike charging indoors (a finding); the tag turns 已完成 when the server has it.
        fill(first, {"q1": "是", "q3": "正常", "q4": "否", "q6": "车已推出,充电器收走"})
        first.get_by_role("button", name="提交").click()
        expect(first.locator("[data-state]")).to_have_text("已完成")
        expect(first).to_have_class(re.compile(r"\bstate-done\b"))
        # The dashboard counted it without being reloaded.
        expect(office.locator("#done")).to_have_text(str(before["done"] + 1))
        expect(office.locator("#findings")).to_have_text(str(before["findings"] + 1))
        expect(row.locator(".frac")).to_have_text(f"{row_done + 1}/{row_total}")

        # A required answer left out: the reason comes back in Chinese and nothing is counted.
        fill(refused, {"q1": "否"})
        refused.get_by_role("button", name="提交").click()
        expect(refused.locator("[data-state]")).to_contain_text("未保存:楼道或安全出口是否堵塞:此题必答")
        assert progress(office, base, campaign)["done"] == before["done"] + 1

        # Third door with no network: the answer waits on the phone, and says so.
        ctx.set_offline(True)
        fill(offline, {"q1": "否", "q2": "否", "q3": "电线老化或私拉乱接"})
        offline.get_by_role("button", name="提交").click()
        expect(offline.locator("[data-state]")).to_have_text("已填写(待上传)")
        sync = page.locator("#sync")
        expect(sync).to_be_visible()
        expect(sync).to_contain_text("有 1 户的结果保存在本机")
        expect(sync).to_contain_text("当前无网络")
        assert len(json.loads(page.evaluate("localStorage.getItem('gridwork-answers')"))) == 1
        page.evaluate("document.getElementById('sync').scrollIntoView({block: 'center'})")
        page.screenshot(path=str(OUT / "45-checklist-offline.png"))
        assert progress(office, base, campaign)["done"] == before["done"] + 1

        # Back online: the queue drains by itself, the banner goes, and the server has exactly one more.
        ctx.set_offline(False)
        expect(sync).to_be_hidden(timeout=20_000)
        expect(offline.locator("[data-state]")).to_have_text("已完成")
        assert page.evaluate("localStorage.getItem('gridwork-answers')") == "[]"
        after = progress(office, base, campaign)
        assert (after["done"], after["findings"], after["notHome"]) == (before["done"] + 2, before["findings"] + 1, before["notHome"])
        expect(office.locator("#done")).to_have_text(str(before["done"] + 2))
        expect(row.locator(".frac")).to_have_text(f"{row_done + 2}/{row_total}")
        assert office.evaluate("window.__notReloaded") is True
        expect(office.locator("#live-status")).to_contain_text("实时更新 ·")
        office.screenshot(path=str(OUT / "47-dashboard-live.png"), full_page=True)

        # Read again from the server: two doors done, the refused one untouched.
        page.reload()
        assert page.locator("[data-state]", has_text="已完成").count() == row_done + 2
        assert first.locator("[data-state]").inner_text().startswith("已完成") and offline.locator("[data-state]").inner_text().startswith("已完成")
        assert refused.locator("[data-state]").inner_text() == "未走访"
        # Done doors are folded away, their answers summed up inside.
        assert offline.locator("details").get_attribute("open") is None
        assert "燃气和电线情况:电线老化或私拉乱接" in offline.locator("details > p.hint").text_content()
        page.screenshot(path=str(OUT / "46-checklist-synced.png"))
    finally:
        ctx.close()
        office_ctx.close()


def test_a_finding_at_the_door_becomes_a_matter(fire, server, browser, tmp_path):
    base, campaign = server["base"], fire["id"]
    # The building head finds the stairwell blocked and takes a photo (a form with a photo goes up as a plain form).
    head_ctx = browser.new_context(**HANDSET)
    head = head_ctx.new_page()
    login(head, base, HEAD)
    head.goto(base + f"/campaigns/{campaign}/visits")
    door = head.locator(f"#{head.locator('li.visit.state-pending').first.get_attribute('id')}")
    room = door.locator(".room").inner_text().split()[-1]
    fill(door, {"q1": "否", "q2": "是", "q3": "正常"})
    shot = tmp_path / "stairs.jpg"
    shot.write_bytes(JPEG)
    door.locator("input[name=q5]").set_input_files(str(shot))
    door.get_by_role("button", name="提交").click()
    expect(head.locator(".notice")).to_contain_text("已保存:已完成")
    head_ctx.close()

    # The grid worker, on a phone with scripts off (every step is a plain link or form): from 排查 to the campaign,
    # its dashboard, then what needs action.
    ctx = browser.new_context(**HANDSET, java_script_enabled=False, accept_downloads=True)
    page = ctx.new_page()
    login(page, base, WORKER)
    page.get_by_role("link", name="排查", exact=True).click()
    page.locator("#campaigns li", has_text=TITLE).get_by_role("link", name=TITLE).click()
    assert int(page.locator("#findings").inner_text()) >= 1
    page.screenshot(path=str(OUT / "48-dashboard-phone.png"), full_page=True)
    page.get_by_role("link", name="需处置的").click()
    cards = page.locator("#results li.card")
    assert cards.count() >= 1 and cards.filter(has_not_text="需处置").count() == 0
    card = cards.filter(has_text=room).filter(has_text="楼道或安全出口是否堵塞:是")
    assert card.locator("img.thumb").count() == 1
    page.screenshot(path=str(OUT / "49-results-phone.png"), full_page=True)
    # The answers go out as a spreadsheet too: one column per question, one row per door.
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    exported = open(download.value.path(), encoding="utf-8-sig").read()
    assert "电动车是否在室内或楼道充电,楼道或安全出口是否堵塞" in exported.splitlines()[0]
    assert any(room in line and ",否,是,正常," in line for line in exported.splitlines()[1:])
    card.get_by_role("button", name="转为事项").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    matter = page.url.rsplit("/", 1)[1]
    assert "排查发现:楼道或安全出口是否堵塞" in page.locator("h1").inner_text() and "待受理" in page.locator("h1").inner_text()
    assert "消防隐患" in page.locator("main").inner_text()  # the category the finding named (0201)
    assert TITLE in page.locator("main").inner_text() and room in page.locator("main").inner_text()
    page.screenshot(path=str(OUT / "50-campaign-matter.png"), full_page=True)
    # The result now links to its matter, and cannot be turned into a second one.
    page.goto(base + f"/campaigns/{campaign}/results?findings=1")
    card = page.locator("#results li.card").filter(has_text=room).filter(has_text="楼道或安全出口是否堵塞:是")
    assert card.get_by_role("link", name="已转为事项").get_attribute("href") == f"/cases/{matter}"
    assert card.get_by_role("button", name="转为事项").count() == 0
    ctx.close()


def test_builder_refuses_a_campaign_without_a_title(server, browser):
    base = server["base"]
    ctx = browser.new_context(**DESK)
    page = ctx.new_page()
    login(page, base, COMMUNITY)
    page.goto(base + "/campaigns")
    listed = page.locator("#campaigns li.card").count()
    page.goto(base + "/campaigns/new?template=fire")
    title = page.get_by_label("任务名称")
    # Empty: the browser itself does not send it.
    title.fill("")
    page.get_by_role("button", name="保存草稿").click()
    assert title.evaluate("e => e.validity.valueMissing") is True
    assert page.url.endswith("/campaigns/new?template=fire")
    # Only blanks: the server says why, in Chinese, and keeps the questions as they were.
    title.fill("   ")
    page.get_by_role("button", name="保存草稿").click()
    assert "任务名称" in page.locator(".error").inner_text() and "2到60字" in page.locator(".error").inner_text()
    assert page.locator("[name=label_1]").input_value() == "电动车是否在室内或楼道充电"
    assert page.locator("[name=showif_5]").input_value() == "2=是"
    page.screenshot(path=str(OUT / "51-builder-error.png"))
    # A condition pointing at a later question is refused the same way.
    title.fill("条件有误的排查")
    page.locator("[name=showif_1]").fill("3=是")
    page.get_by_role("button", name="保存草稿").click()
    assert "第1题" in page.locator(".error").inner_text() and "显示条件" in page.locator(".error").inner_text()
    page.goto(base + "/campaigns")
    assert page.locator("#campaigns li.card").count() == listed
    ctx.close()
