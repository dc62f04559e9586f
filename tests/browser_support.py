"""Driving the app in a real browser: Playwright with Debian's /usr/bin/chromium.

Shared by tests/test_browser.py and benchmarks/browser.py. Never runs `playwright install`
(browser downloads are blocked): it launches the system Chromium by path.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1600, "height": 1000}
SOLVE = re.compile(r"Solve (\d+):")


def missing() -> str:
    """Why the browser tests cannot run here, or "" when they can."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (make test installs it: apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[dev]')"
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served_app(store_url: str, log_path: Path, port: int | None = None,
               timeout: float = 120.0, secrets: Path | None = None,
               env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `streamlit run app.py` on 127.0.0.1 until the block ends; yield its URL.

    `secrets`: a secrets.toml to use instead of .streamlit/secrets.toml (sign-in settings);
    without it the app is served with no secrets at all. The process is `served_app.process`
    while the block runs (a test may stop it itself)."""
    port = port or free_port()
    env = {**os.environ, "OPTIMISER_STORE_URL": store_url, "PYTHONUNBUFFERED": "1",
           **(env or {})}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
               "--secrets.files", str(secrets or log_path.parent / "no-secrets.toml")]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        served_app.process = process
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process, timeout, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_app(browser, url: str, timeout_ms: int = 120_000):
    """A new browser context (a new Streamlit session) with the app loaded and solved."""
    page = open_page(browser, url)
    wait_for_result(page, 1, timeout_ms)
    return page


def open_page(browser, url: str):
    """A new browser context (a new Streamlit session) on the app, without waiting for it."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url)
    return page


def solve_number(page) -> int:
    text = page.locator(".st-key-solve_info").inner_text(timeout=30_000)
    match = SOLVE.search(text)
    return int(match.group(1)) if match else 0


def wait_for_result(page, at_least: int, timeout_ms: int = 60_000) -> None:
    """Until the page shows solve number `at_least` (or later) and its headline tiles."""
    page.wait_for_function(
        """n => {
            const info = document.querySelector('.st-key-solve_info');
            const tile = document.querySelector(
                '.st-key-tile_objective [data-testid=stMetricValue]');
            if (!info || !tile || !tile.innerText.trim()) return false;
            const m = info.innerText.match(/Solve (\\d+):/);
            return m && Number(m[1]) >= n;
        }""", arg=at_least, timeout=timeout_ms)


def tile(page, name: str) -> str:
    return page.locator(f".st-key-tile_{name} [data-testid=stMetricValue]").inner_text()


def slider_value(page, key: str) -> str:
    return page.locator(f".st-key-{key}").get_by_role("slider").get_attribute("aria-valuetext")


def nudge_slider(page, key: str, steps: int = 1) -> None:
    """Move a slider by keyboard, `steps` steps right (negative: left)."""
    handle = page.locator(f".st-key-{key}").get_by_role("slider")
    handle.focus()
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowRight" if steps > 0 else "ArrowLeft")


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
