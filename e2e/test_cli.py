"""The command line: clear one-line errors, non-zero exits, and no half-written county."""
import datetime
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time

from conftest import BIN, DEMO_PASSWORD, free_port, run, wait_for
from test_access import login
from test_registry import citizen_id, register_birth


def valid_id(n: str) -> bool:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(n[:17], weights)) % 11] == n[17]


def one_line_error(proc):
    assert proc.returncode != 0, proc.stdout + proc.stderr
    lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
    assert lines, "no message on stderr"
    assert "Traceback" not in proc.stderr and "Fatal error" not in proc.stderr and "Stack dump" not in proc.stderr
    return lines[0]


def test_seed_stats_and_refusing_a_second_seed(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("cli"))
    seeded = run("seed", "--profile", "sample", "--residents", "2000", cwd=work)
    assert seeded.returncode == 0, seeded.stderr
    assert os.path.exists(os.path.join(work, "gridwork.sqlite"))
    assert os.path.exists(os.path.join(work, "gridwork.key"))
    stats = run("stats", "--json", cwd=work)
    counts = json.loads(stats.stdout)
    assert list(counts) == ["townships", "communities", "grids", "buildings", "households", "residents", "buildingHeads", "gridWorkers"]
    assert counts["townships"] == 2 and counts["grids"] == 6 and counts["buildingHeads"] == 40
    assert 1800 <= counts["residents"] <= 2200

    again = run("seed", "--profile", "sample", cwd=work)
    assert "已有" in one_line_error(again)
    assert json.loads(run("stats", "--json", cwd=work).stdout) == counts

    # ID numbers are sealed: masked forms are in the file, valid plain numbers are not.
    data = open(os.path.join(work, "gridwork.sqlite"), "rb").read()
    data += open(os.path.join(work, "gridwork.sqlite-wal"), "rb").read() if os.path.exists(os.path.join(work, "gridwork.sqlite-wal")) else b""
    assert data.count(b"430524********") >= 1800
    plain = [m.group(0) for m in re.finditer(rb"430524(?:19|20)\d{9}[\dX]", data) if valid_id(m.group(0).decode())]
    assert plain == []
    moved = run("building", "move", "430524001001001001", "--to", "430524001001002", cwd=work)
    assert moved.returncode == 0, moved.stderr
    assert "→ 430524001001002" in moved.stdout
    assert json.loads(run("stats", "--json", cwd=work).stdout) == counts
    assert "未找到" in one_line_error(run("building", "move", "430524001001001001", "--to", "430524001001002", cwd=work))
    assert "网格" in one_line_error(run("building", "move", "430524001001002001", "--to", "430524001001", cwd=work))

    migrate = run("migrate", cwd=work)
    assert migrate.returncode == 0 and "最新" in migrate.stdout


def test_unknown_profile_and_absurd_sizes_change_nothing(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("cli"))
    assert "profile" in one_line_error(run("seed", "--profile", "atlantis", cwd=work)).lower()
    assert "--residents" in one_line_error(run("seed", "--residents", "99999999999", cwd=work))
    one_line_error(run("seed", "--residents", "-5", cwd=work))
    one_line_error(run("seed", "--frobnicate", cwd=work))
    assert not os.path.exists(os.path.join(work, "gridwork.sqlite"))


def test_bad_or_unreachable_databases_fail_with_one_line(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("cli"))
    assert "数据库地址无效" in one_line_error(run("stats", "--db", "mysql://u@h/d", cwd=work))
    assert "数据库地址无效" in one_line_error(run("stats", "--db", "postgres://u@h:99999/d", cwd=work))
    line = one_line_error(run("stats", "--db", "postgres://nobody@127.0.0.1:9/none", cwd=work, timeout=60))
    assert "无法连接数据库" in line
    line = one_line_error(run("migrate", cwd=work, env={"GRIDWORK_DB_URL": "postgres://nobody@127.0.0.1:9/none"}, timeout=60))
    assert "无法连接数据库" in line
    assert "nobody" in line and ":9" in line


def test_a_port_in_use_is_reported(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("cli"))
    assert run("seed", "--profile", "sample", cwd=work).returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        line = one_line_error(run("serve", "--port", str(port), cwd=work, timeout=60))
        assert "已被占用" in line and str(port) in line
    assert "端口" in one_line_error(run("serve", "--port", "70000", cwd=work))


def test_postgres_when_available(tmp_path_factory):
    url = os.environ.get("GRIDWORK_PG_URL")
    if not url:
        return
    work = str(tmp_path_factory.mktemp("cli"))
    env = {"GRIDWORK_DB_URL": url}
    # A database of its own on the test cluster.
    name = "gw_cli_%d" % os.getpid()
    base = url.rsplit("/", 1)[0]
    import subprocess
    host_port = base.split("@")[1]
    host, port = host_port.split(":")
    subprocess.run(["psql", "-h", host, "-p", port, "-U", "postgres", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    env = {"GRIDWORK_DB_URL": f"{base}/{name}?sslmode=disable"}
    seeded = run("seed", "--profile", "sample", cwd=work, env=env)
    assert seeded.returncode == 0, seeded.stderr
    counts = json.loads(run("stats", "--json", cwd=work, env=env).stdout)
    assert counts["grids"] == 6 and counts["buildingHeads"] == 40


def test_import_and_export_residents_from_the_command_line(tmp_path_factory):
    src, dst = str(tmp_path_factory.mktemp("cli")), str(tmp_path_factory.mktemp("cli"))
    assert run("seed", "--profile", "sample", "--demo-password", "cli-demo-2026", cwd=src).returncode == 0
    exported = run("export", "residents", "--unmasked", "--out", os.path.join(src, "all.csv"), cwd=src)
    assert exported.returncode == 0 and "已导出" in exported.stdout
    raw = open(os.path.join(src, "all.csv"), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    # Excel in China saves GBK: the same rows in GB18030, plus three bad ones.
    text = raw[3:].decode("utf-8").rstrip("\r\n")
    bad = [
        "坏校验,430524199001010012,男,汉族,,,430524001001001001,1单元101室,户主,,,",
        "他县,430524199001010016,男,汉族,,,110105001001001001,1单元101室,户主,,,",
        "=HYPERLINK(\"http://x\"),430524199002010018,男,汉族,,,430524001001001001,1单元101室,户主,,,",
    ]
    with open(os.path.join(dst, "gbk.csv"), "wb") as f:
        f.write(("\r\n".join([text] + bad) + "\r\n").encode("gb18030"))
    assert run("seed", "--profile", "sample", "--net-only", "--demo-password", "cli-demo-2026", cwd=dst).returncode == 0
    dry = run("import", "residents", "--dry-run", "gbk.csv", cwd=dst)
    assert dry.returncode == 0 and "试导入" in dry.stdout and "GB18030" in dry.stdout
    assert json.loads(run("stats", "--json", cwd=dst).stdout)["residents"] == 0
    imported = run("import", "residents", "gbk.csv", cwd=dst)
    assert imported.returncode == 0, imported.stderr
    assert "拒绝 3" in imported.stdout
    counts = json.loads(run("stats", "--json", cwd=dst).stdout)
    assert counts["residents"] == json.loads(run("stats", "--json", cwd=src).stdout)["residents"]
    report = open(os.path.join(dst, "gbk.report.csv"), encoding="utf-8-sig").read()
    assert "校验码" in report and "不属于本县" in report and "公式" in report
    assert "'=HYPERLINK" in report
    # Again: nothing new, nobody twice.
    again = run("import", "residents", "gbk.csv", cwd=dst)
    assert "新增 0" in again.stdout
    assert json.loads(run("stats", "--json", cwd=dst).stdout) == counts
    assert "审计链完整" in run("audit", "verify", cwd=dst).stdout
    assert "文件为空" in one_line_error(run("import", "residents", os.devnull, cwd=dst))


def test_an_excel_export_imports_back_into_an_empty_net(tmp_path_factory):
    src, dst = str(tmp_path_factory.mktemp("cli")), str(tmp_path_factory.mktemp("cli"))
    assert run("seed", "--profile", "sample", "--demo-password", "cli-demo-2026", cwd=src).returncode == 0
    exported = run("export", "residents", "--unmasked", "--out", os.path.join(src, "all.xlsx"), cwd=src)
    assert exported.returncode == 0 and "已导出" in exported.stdout
    assert open(os.path.join(src, "all.xlsx"), "rb").read(4) == b"PK\x03\x04"
    assert run("seed", "--profile", "sample", "--net-only", "--demo-password", "cli-demo-2026", cwd=dst).returncode == 0
    imported = run("import", "residents", os.path.join(src, "all.xlsx"), "--report", os.path.join(dst, "r.csv"), cwd=dst)
    assert imported.returncode == 0, imported.stderr
    assert "XLSX" in imported.stdout and "拒绝 0" in imported.stdout
    counts = json.loads(run("stats", "--json", cwd=dst).stdout)
    assert counts["residents"] == json.loads(run("stats", "--json", cwd=src).stdout)["residents"]
    # An old .xls (a compound document) is refused with what to do.
    with open(os.path.join(dst, "old.xls"), "wb") as f:
        f.write(bytes([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) + bytes(504))
    assert "另存为.xlsx" in one_line_error(run("import", "residents", "old.xls", cwd=dst))


def test_a_first_load_killed_midway_leaves_the_running_server_registering(phone, tmp_path_factory):
    """kill -9 of a first load after its first commit, with a server running: the record of what the load set
    aside stays, but the claim died with the process, so the server's next registration builds the indexes and
    goes in; the same file again resumes after the last commit and converges."""
    work = str(tmp_path_factory.mktemp("cli"))
    # 150,000 rows: SQLite commits a first load every 50,000, so the kill lands with 100,000 still to write.
    assert run("seed", "--net-only", "--residents", "150000", "--demo-password", DEMO_PASSWORD, cwd=work).returncode == 0
    db = sqlite3.connect(os.path.join(work, "gridwork.sqlite"), timeout=30)
    homes = db.execute("""SELECT h.id, g.code, g.code || printf('%03d', b.number), h.room FROM households h
                          JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id ORDER BY h.id""").fetchall()
    total = 150_000
    with open(os.path.join(work, "people.csv"), "w", encoding="utf-8") as f:
        f.write("姓名,公民身份号码,性别,民族,出生日期,联系电话,楼栋,房号,与户主关系,人员类别,现住址,户籍地址\n")
        for i in range(total):
            _, _, building, room = homes[i % len(homes)]
            born = datetime.date(1950, 1, 1) + datetime.timedelta(days=i // 999)
            f.write(f"居民{i},{citizen_id('430524', born, i % 999 + 1)},,汉族,,,{building},{room},,,,\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "serve.log"), "w")
    server = subprocess.Popen([BIN, "serve", "--port", str(port)], cwd=work, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(base + "/healthz")
        importer = subprocess.Popen([BIN, "import", "residents", "people.csv"], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while importer.poll() is None and time.time() < deadline:
            if db.execute("SELECT COUNT(*) FROM import_set_aside").fetchone()[0] > 0:
                break
            time.sleep(0.02)
        if importer.poll() is None:
            os.kill(importer.pid, signal.SIGKILL)
        importer.wait()
        assert importer.returncode == -signal.SIGKILL, "the import ended before it could be killed mid-way"
        assert db.execute("SELECT COUNT(*) FROM import_set_aside").fetchone()[0] > 0
        written = db.execute("SELECT COUNT(*) FROM residents").fetchone()[0]
        assert 0 < written < total
        assert db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'residents_id_index'").fetchone()[0] == 0

        # A grid worker registers a birth on the server that was running all along.
        household, grid, _, _ = homes[0]
        login(phone, base, f"gw{grid}")
        phone.goto(f"{base}/registry/households/{household}")
        register_birth(phone, "刘小满", citizen_id("430524", datetime.date.today() - datetime.timedelta(days=20), 995))
        assert "已登记出生" in phone.locator(".notice").inner_text()
        assert db.execute("SELECT COUNT(*) FROM import_set_aside").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'residents_id_index'").fetchone()[0] == 1

        # The file again: it resumes after the last commit; everyone once, the baby too.
        again = run("import", "residents", "people.csv", cwd=work)
        assert again.returncode == 0, again.stderr
        assert "拒绝 0" in again.stdout
        assert db.execute("SELECT COUNT(*) FROM residents").fetchone()[0] == total + 1
        assert db.execute("SELECT COUNT(DISTINCT id_index) FROM residents").fetchone()[0] == total + 1
    finally:
        db.close()
        server.terminate()
        server.wait(timeout=30)
        log.close()
