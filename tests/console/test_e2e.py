"""End to end with a real headless browser (Debian's Chromium through Selenium) against a real
uvicorn server on a loopback port: log in, the overview, a dataset's charts, a job watched to
its end, its run and quarantine paged and filtered, a second job cancelled. Each step writes a
screenshot to $CONSOLE_SCREENSHOTS, by default the untracked .screenshots/console/; `make
screenshots` points it at docs/console/, the pictures docs/console.md shows."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import OPERATOR_TOKEN, World, rules_text

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None, reason="chromium / chromedriver not installed"
)
ROOT = Path(__file__).resolve().parents[2]
# Not docs/console/ by default: a test run must not rewrite tracked files.
SHOTS = ROOT / os.environ.get("CONSOLE_SCREENSHOTS", ".screenshots/console")
# Waiting for the page to reach a state, never asserting on how long it took.
WAIT_S = 120


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def console(config: Any) -> Iterator[str]:
    from pyrustpipe.console.app import create_app

    from devtools.console_server import running_console

    with running_console(create_app(config)) as url:
        yield url


def _shot(driver: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = driver.get_window_size()["width"]
    # Measured at the base height, so a long page before does not stretch a short one.
    driver.set_window_size(width, 900 if width > 500 else 844)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(width, min(max(900 if width > 500 else 844, height + 140), 4000))
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def _wait_text(driver: Any, element_id: str, wanted: tuple[str, ...]) -> str:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # The page may be replaced while it is read (a form's redirect): read it again then.
    WebDriverWait(
        driver, WAIT_S, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    ).until(lambda d: d.find_element(By.ID, element_id).text in wanted)
    text: str = driver.find_element(By.ID, element_id).text
    return text


def _present(driver: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S).until(
        expected_conditions.element_to_be_clickable((By.ID, element_id))
    )


def _left(old: Any) -> bool:
    """Whether the page that held element ``old`` is gone. ChromeDriver asked about an element
    while its page is being replaced can answer "Node with given id does not belong to the
    document" (a plain WebDriverException, seen in CI) instead of a stale reference: gone too."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support import expected_conditions

    try:
        return bool(expected_conditions.staleness_of(old)(None))
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise


def _follow(driver: Any, element: Any) -> None:
    """Click a link or submit button and wait until the browser has left the page: a click
    returns before the next page loads, so reading at once may still see the old one (or none)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, WAIT_S).until(lambda _: _left(old))
    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def _fill(driver: Any, element_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def test_the_console_in_a_browser(browser: Any, console: str, world: World, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    # Log in.
    browser.get(console + "/")
    assert "Log in" in browser.find_element(By.TAG_NAME, "h1").text
    _shot(browser, "login")
    _fill(browser, "token", OPERATOR_TOKEN)
    _follow(browser, browser.find_element(By.ID, "login"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Overview"

    # The overview: the failing dataset first, with its trend.
    rows = browser.find_elements(By.CSS_SELECTOR, "table.datasets tbody tr")
    assert rows[0].find_element(By.TAG_NAME, "th").text == "payments"
    assert "failed" in rows[0].text and rows[0].find_elements(By.CSS_SELECTOR, "svg.spark")
    _shot(browser, "overview")

    # A dataset's charts.
    _follow(browser, rows[0].find_element(By.LINK_TEXT, "payments"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Dataset payments"
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 4  # rows, invalid rate, per-rule failures, history band
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart polygon.band")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart line.mark")  # the schema change
    _shot(browser, "dataset")

    # Start a job and watch it to its end.
    browser.get(console + "/jobs")
    _fill(browser, "sources", str(world.big_source))
    _fill(browser, "rules", rules_text())
    _fill(browser, "partition", "dt=2026-01-09")
    _follow(browser, browser.find_element(By.ID, "start-job"))
    _present(browser, "job-status")
    assert _wait_text(browser, "job-status", ("passed", "failed")) == "failed"
    assert browser.find_element(By.ID, "job-rows").text == "300,000"
    assert "amount:gt" in browser.find_element(By.ID, "job-failing").text
    _shot(browser, "job")

    # Its run, then the quarantine: filter by a rule and page.
    _follow(browser, browser.find_element(By.CSS_SELECTOR, "#job-run a"))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Run ")
    _shot(browser, "run")
    Select(browser.find_element(By.ID, "rule")).select_by_value("amount:gt")
    _follow(browser, browser.find_element(By.ID, "filter"))
    body = browser.find_elements(By.CSS_SELECTOR, "table.quarantine tbody tr")
    assert len(body) == 25 and all("amount:gt" in row.text for row in body)
    assert all("«masked:" in row.text for row in body)  # the phone column is sensitive
    first = body[0].find_element(By.TAG_NAME, "th").text
    _follow(browser, browser.find_element(By.ID, "next-page"))
    body = browser.find_elements(By.CSS_SELECTOR, "table.quarantine tbody tr")
    assert body and body[0].find_element(By.TAG_NAME, "th").text != first
    assert "failing amount:gt" in browser.find_element(By.ID, "q-status").text
    _shot(browser, "quarantine")

    # A second job, cancelled while it runs (twenty copies of the big file: seconds of work).
    browser.get(console + "/jobs")
    _fill(browser, "sources", world.many)
    _fill(browser, "rules", rules_text())
    browser.find_element(By.NAME, "ledger").click()  # not recorded
    _follow(browser, browser.find_element(By.ID, "start-job"))
    _present(browser, "cancel-job").click()
    assert _wait_text(browser, "job-status", ("cancelled", "passed", "failed")) == "cancelled"
    _shot(browser, "cancelled")

    # A backtest in the playground: the rules that ran, made stricter, over the last 3 days.
    browser.get(console + "/playground?dataset=payments")
    spec = json.loads(browser.find_element(By.ID, "spec").get_attribute("value"))
    amount = next(c for c in spec["columns"] if c["name"] == "amount")
    amount["checks"] = [{"type": "gt", "value": 500}]
    _fill(browser, "spec", json.dumps(spec, indent=2))
    _fill(browser, "last", "3")
    _follow(browser, browser.find_element(By.ID, "pg-backtest"))
    totals = _present(browser, "pg-totals").text
    assert totals.startswith("3 partitions compared") and "would newly fail" in totals
    lines = browser.find_elements(By.CSS_SELECTOR, "#pg-partitions tbody tr")
    assert [line.find_element(By.TAG_NAME, "th").text for line in lines] == [
        "dt=2026-01-07",
        "dt=2026-01-08",
        "dt=2026-01-09",
    ]
    assert all(
        int(line.find_elements(By.TAG_NAME, "td")[2].text.replace(",", "")) > 0 for line in lines
    )
    assert browser.find_elements(By.CSS_SELECTOR, "#pg-result svg.chart")
    _shot(browser, "playground")

    # The job list, and the overview on a phone-sized screen.
    browser.get(console + "/jobs")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#h-list ~ div tbody tr")) == 2
    _shot(browser, "jobs")
    browser.set_window_size(390, 844)
    browser.get(console + "/")
    _shot(browser, "overview-phone")
