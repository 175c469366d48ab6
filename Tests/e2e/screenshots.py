"""Screenshots of the settings page for the README: English and Russian, desktop and 360 px.

Usage: python screenshots.py OUTPUT_DIR (run by `make screenshots`)."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import harness
from page import sign_in, text_is, wait

SIZES = {"desktop": 1280, "mobile": 360}


def main(output):
    output.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="backup-screenshots-"))
    try:
        data = work / "data"
        data.mkdir()
        subprocess.run([str(harness.ROOT / "scripts" / "seed-demo.sh"), str(data / "app.sqlite")], check=True,
                       stdout=subprocess.DEVNULL)
        server = harness.Server(data, work / "server.log")
        try:
            first = server.backup_and_wait(note="before the upgrade to 2.4")
            server.api("PATCH", f"/api/backups/{first['id']}", {"pinned": True})
            server.backup_and_wait()
            server.backup_and_wait(note="month end")
            # The application's uploads beside its database: a full backup with the files too.
            uploads = work / "srv" / "app" / "uploads"
            (uploads / "avatars").mkdir(parents=True)
            for number in range(3):
                (uploads / "avatars" / f"user-{number}.png").write_bytes(os.urandom(40_000))
            server.api("PUT", "/api/settings/backup", {"directories": [str(uploads)], "exclude": ["*.tmp"]})
            server.backup_and_wait(note="with the uploads")
            server.api("PUT", "/api/settings/backup", {"enabled": True, "interval_hours": 24})
            for name, width in SIZES.items():
                for language, catalog in (("en", harness.catalog("en")), ("ru", harness.catalog("ru"))):
                    shoot(server, work, output / f"settings-{language}-{name}.png", width, language, catalog)
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def shoot(server, work, path, width, language, catalog):
    driver = harness.chromium(work, width=width, height=900)
    try:
        sign_in(driver, server.base, harness.TOKEN)
        Select(driver.find_element(By.ID, "language")).select_by_value(language)
        text_is(driver, "h1", catalog["app.title"])
        wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#backup-rows tr"))
        driver.execute_script("document.activeElement.blur()")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, height + 140)  # the window's frame is not part of the page
        driver.save_screenshot(str(path))
        print(f"wrote {path}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
