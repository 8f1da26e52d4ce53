"""Shared fixtures: the gridwork binary, a server on a free loopback port, Chromium."""
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

BIN = os.environ.get("GRIDWORK_BIN") or str(Path(__file__).resolve().parent.parent / ".build/debug/gridwork")
OUT = Path(__file__).resolve().parent / "out"
PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "e2e-demo-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, cwd=None, env=None, timeout=300):
    """Runs the gridwork binary and returns the completed process (never raises on exit code)."""
    e = dict(os.environ)
    e.pop("GRIDWORK_DB_URL", None)
    e.update(env or {})
    return subprocess.run([BIN, *args], cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)


def wait_for(url: str, seconds: float = 120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.2)
    raise TimeoutError(url)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """`gridwork serve` on an empty SQLite file: it seeds the sample demo on first start, then serves."""
    work = str(tmp_path_factory.mktemp("gridwork-e2e"))
    port = free_port()
    log = open(os.path.join(work, "serve.log"), "w")
    proc = subprocess.Popen([BIN, "serve", "--port", str(port), "--demo-profile", "sample", "--demo-password", DEMO_PASSWORD], cwd=work,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz")
        yield {"base": base, "dir": work}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def phone(browser):
    OUT.mkdir(exist_ok=True)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    yield page
    ctx.close()
