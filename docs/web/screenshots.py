"""Screenshots of the web board for the docs: headless chromium signs in with a link and
photographs the board (1920×1080 and a phone), the run-of-show, the timeline and a task page.

    ./run web link console:dieuphoi          # or /web in the local chat; then:
    .venv/bin/python docs/web/screenshots.py URL [TASK_CODE]
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

OUT = Path(__file__).resolve().parent


def main(link: str, code: str = "CB-05") -> None:
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1920,1080",
        "--hide-scrollbars",
    ):
        opts.add_argument(arg)
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:  # the page area exactly 1920×1080, as on the committee room's screen
        d.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False},
        )
        d.get(link)
        d.find_element(By.ID, "signin").click()
        time.sleep(1)
        base = link.split("/web/")[0] + "/web"
        shots = [("board", "/"), ("show", "/show"), ("timeline", "/timeline")]
        for name, path in shots:
            d.get(base + path)
            time.sleep(0.5)
            d.save_screenshot(str(OUT / f"{name}.png"))
        d.get(base + "/")
        links = d.find_elements(By.CSS_SELECTOR, "#overdue-list a, #blocked-list a")
        href = next(a.get_attribute("href") for a in links if code in a.text)
        d.get(href)
        time.sleep(0.5)
        d.save_screenshot(str(OUT / "task.png"))
        d.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
        )
        d.get(base + "/")
        time.sleep(0.5)
        d.save_screenshot(str(OUT / "board-phone.png"))
    finally:
        d.quit()


if __name__ == "__main__":
    main(*sys.argv[1:])
