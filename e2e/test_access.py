"""Accounts in a real browser: a building head on a phone, and a county admin at a desk."""
from conftest import DEMO_PASSWORD, OUT, PHONE


def login(page, base, who, password=DEMO_PASSWORD):
    page.goto(base + "/login")
    page.get_by_label("登录名").fill(who)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_building_head_sees_and_calls_their_residents(server, phone):
    page, base = phone, server["base"]
    # Not logged in: the building page lists rooms only.
    page.goto(base + "/net/430524001001001001")
    assert page.locator(".person").count() == 0
    page.get_by_role("link", name="登录").click()
    login(page, base, "bh430524001001001001")
    page.goto(base + "/net/430524001001001001")
    people = page.locator(".person")
    assert people.count() >= 3
    first = people.first
    assert "430524********" in first.inner_text()
    assert "****" in first.locator(".sealed").nth(1).inner_text()
    # A building head may show a phone, not an ID number.
    assert first.get_by_role("button", name="显示").count() == 1
    page.screenshot(path=str(OUT / "7-building-head.png"), full_page=True)
    first.get_by_role("button", name="显示").click()
    revealed = page.locator(".revealed").first
    assert len(revealed.inner_text().strip()) == 11
    assert revealed.locator("a[href^='tel:']").count() == 1
    page.screenshot(path=str(OUT / "8-phone-revealed.png"))
    box = page.get_by_role("button", name="显示").first.bounding_box()
    assert box["height"] >= 40
    # Another building is public-only for them.
    page.goto(base + "/net/430524001001001002")
    assert page.locator(".person").count() == 0
    # Log out from the profile page.
    page.goto(base + "/me")
    page.get_by_role("button", name="退出登录").click()
    page.goto(base + "/me")
    assert "/login" in page.url


def test_wrong_password_is_explained(server, phone):
    page, base = phone, server["base"]
    login(page, base, "gw430524001001001", "not-the-password-1")
    assert "登录名或密码错误" in page.locator(".error").inner_text()
    page.screenshot(path=str(OUT / "9-login-error.png"))


def test_county_admin_adds_an_account_and_reads_the_audit(server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page, base = ctx.new_page(), server["base"]
    login(page, base, "admin")
    page.goto(base + "/me")
    page.get_by_role("link", name="账号管理").click()
    page.get_by_label("登录名").fill("e2e.worker")
    page.get_by_label("姓名").fill("测试网格员")
    page.get_by_label("角色").select_option("grid_worker")
    page.get_by_label("负责范围(区划代码)").fill("430524001001002")
    page.get_by_label("初始密码").fill("E2e-worker-2026")
    page.get_by_role("button", name="添加").click()
    assert "已添加账号" in page.locator(".notice").inner_text()
    assert page.locator("td", has_text="e2e.worker").count() == 1
    page.screenshot(path=str(OUT / "10-admin-users.png"), full_page=False)
    page.goto(base + "/admin/audit?q=user.add")
    assert "审计链完整" in page.locator("p[role=status]").inner_text()
    assert page.locator("td", has_text="user:e2e.worker").count() == 1
    page.screenshot(path=str(OUT / "11-audit.png"), full_page=False)
    ctx.close()


def test_grid_worker_imports_a_spreadsheet_through_the_wizard(server, browser, tmp_path):
    # A GBK file as Excel in China saves it: one new resident, one row with a wrong check character.
    csv = tmp_path / "居民.csv"
    csv.write_bytes("姓名,公民身份号码,性别,楼栋,单元,房号\r\n向导导入,430524193707070013,男,430524001001001001,1,101\r\n错号,430524193707070011,男,430524001001001001,1,101\r\n".encode("gb18030"))
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    page, base = ctx.new_page(), server["base"]
    login(page, base, "gw430524001001001")
    page.goto(base + "/me")
    page.get_by_role("link", name="导入居民").click()
    page.get_by_label("CSV文件").set_input_files(str(csv))
    page.get_by_role("button", name="上传并预览").click()
    page.locator("#import-preview").wait_for(state="visible")
    assert page.locator('[data-k="created"]').inner_text() == "1"
    assert page.locator('[data-k="rejected"]').inner_text() == "1"
    assert "GB18030" in page.locator('[data-k="notes"]').inner_text()
    page.screenshot(path=str(OUT / "12-import-preview.png"))
    with page.expect_download() as download:
        page.locator("#import-report").click()
    assert "校验码" in open(download.value.path(), encoding="utf-8-sig").read()
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url("**/registry/import/*")
    for _ in range(60):
        if "导入完成" in page.content():
            break
        page.wait_for_timeout(500)
        page.reload()
    assert "导入完成" in page.content()
    page.screenshot(path=str(OUT / "13-import-done.png"))
    page.goto(base + "/net/430524001001001001")
    assert page.locator(".person", has_text="向导导入").count() == 1
    ctx.close()


def test_civil_affairs_reads_its_list(server, phone):
    page, base = phone, server["base"]
    login(page, base, "dept-civil_affairs")
    page.goto(base + "/me")
    page.get_by_role("link", name="本部门职责名单").click()
    page.wait_for_url("**/registry/departments/civil_affairs")
    cards = page.locator(".card")
    assert cards.count() >= 1
    assert "楼栋长" in cards.first.inner_text()
    page.screenshot(path=str(OUT / "14-civil-affairs.png"))
