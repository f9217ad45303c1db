"""The dashboard end to end: `povsim dashboard` served on 127.0.0.1 and driven in headless Chromium.

Needs Debian's `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver),
which `.ci/run` installs; elsewhere the test is skipped unless CI is set, where their absence
fails it. Set POVSIM_DASHBOARD_SCREENSHOT=PATH to also write the README's screenshot there.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, SCENARIOS

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the dev group: uv sync")
pytest.importorskip("solara", reason="the dashboard extra is not installed: uv sync installs it")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# As this machine needs them: no sandbox as root, and no background connections (the
# network is closed, and Chromium would retry them at every start).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--window-size=1600,1200",
)
WAIT = 90.0


def browser_available() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


if not browser_available():
    if os.environ.get("CI"):
        pytest.fail("CI needs Debian's chromium and chromium-driver (.ci/run installs them)", pytrace=False)
    pytest.skip("Debian's chromium and chromium-driver are not installed", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """`povsim dashboard` on 127.0.0.1 and a free port; stopped at the end."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    command = [sys.executable, "-m", "povsim", "dashboard", "--scenario", str(SCENARIOS / "baseline.toml")]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + WAIT
    try:
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"the dashboard exited with {process.returncode}:\n{log.read().decode()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not answer at {url} within {WAIT:.0f} s")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.seek(0)
        output = log.read().decode(errors="replace")
        log.close()
        assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="povsim-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_until(condition, what: str, timeout: float = WAIT):
    """Poll `condition` until it returns something true; fail naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except WebDriverException as error:  # an element replaced while reading it
            last_error = error
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what} ({last_error})")


def month_unchanged_over(driver, seconds: float) -> bool:
    """Whether the month shown is the same before and after `seconds`."""
    before = month_shown(driver)
    time.sleep(seconds)
    return month_shown(driver) == before


def summary_text(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, ".povsim-summary").text


def month_shown(driver) -> int:
    """The model month the summary shows."""
    found = re.search(r"month (\d+) of", summary_text(driver))
    return int(found.group(1)) if found else -1


def plot(driver, css_class: str) -> bytes:
    """What the plot of a component looks like on screen (a PNG of its image element)."""
    image = driver.find_element(By.CSS_SELECTOR, f".{css_class} img")
    return image.screenshot_as_png


def button(driver, label: str):
    for candidate in driver.find_elements(By.TAG_NAME, "button"):
        if candidate.text.strip().upper() == label.upper():
            return candidate
    raise AssertionError(f"no {label!r} button")


def slider(driver, label: str):
    """The sidebar slider with this label (its element with the slider role and value)."""
    for control in driver.find_elements(By.CSS_SELECTOR, ".v-input__slider"):
        if control.find_element(By.TAG_NAME, "label").text.strip() == label:
            return control
    raise AssertionError(f"no slider labelled {label!r}")


def slider_value(control) -> str | None:
    return control.find_element(By.CSS_SELECTOR, "[role=slider]").get_attribute("aria-valuenow")


def press_on_slider(driver, control, key: str) -> None:
    """Click the slider's thumb (which focuses it) and press a key, as a person would."""
    control.find_element(By.CSS_SELECTOR, ".v-slider__thumb").click()
    driver.switch_to.active_element.send_keys(key)


def step(driver, month: int) -> None:
    button(driver, "Step").click()
    wait_until(lambda: f"month {month} of" in summary_text(driver), f"month {month}")


def severe_console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_slider_reset_step_changes_the_plots_in_a_real_browser(server, browser):
    browser.get(server)
    wait_until(lambda: "month 0 of 108" in summary_text(browser), "the page to load")
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".povsim-spending img"), "the spending plot")
    assert "10,000 households" in summary_text(browser)
    assert not severe_console_errors(browser)  # every script, style sheet and font was served locally

    # Move the households slider to its minimum with the keyboard, as a person would.
    households = slider(browser, "Households")
    assert slider_value(households) == "10000"
    press_on_slider(browser, households, Keys.HOME)
    wait_until(lambda: slider_value(households) == "1000", "the slider to move to 1,000")
    button(browser, "Reset").click()
    wait_until(lambda: "1,000 households" in summary_text(browser), "the model rebuilt with 1,000 households")

    spending, rates = plot(browser, "povsim-spending"), plot(browser, "povsim-rates")
    step(browser, 1)
    # January pays the health insurance cards and electricity support: the spending plot
    # changes at once. The rates plot changes at the December review.
    wait_until(lambda: plot(browser, "povsim-spending") != spending, "the spending plot to change")
    assert plot(browser, "povsim-rates") == rates
    for month in range(2, 13):
        step(browser, month)
    wait_until(lambda: "End-2022 review" in summary_text(browser), "the end-2022 review")
    wait_until(lambda: plot(browser, "povsim-rates") != rates, "the rates plot to show the end-2022 review")

    # Play runs on by itself until paused.
    button(browser, "▶").click()
    wait_until(lambda: month_shown(browser) >= 15, "play to reach month 15")
    button(browser, "❚❚").click()
    wait_until(lambda: button(browser, "Step").is_enabled(), "the pause")
    # A month under way when pausing still completes (slowly on a loaded machine); then the
    # month shown stays put.
    wait_until(lambda: month_unchanged_over(browser, 1.5), "the month shown to stop changing")
    paused = month_shown(browser)
    time.sleep(1.5)
    assert month_shown(browser) == paused
    assert not severe_console_errors(browser)


@pytest.mark.skipif(
    not os.environ.get("POVSIM_DASHBOARD_SCREENSHOT"), reason="set POVSIM_DASHBOARD_SCREENSHOT"
)
def test_screenshot_for_the_readme(server, browser):
    browser.set_window_size(1600, 1420)  # the summary and the five district plots
    browser.get(server)
    wait_until(lambda: "month 0 of 108" in summary_text(browser), "the page to load")
    for month in range(1, 37):  # to the end-2024 review
        step(browser, month)
    time.sleep(2)
    browser.save_screenshot(os.environ["POVSIM_DASHBOARD_SCREENSHOT"])
