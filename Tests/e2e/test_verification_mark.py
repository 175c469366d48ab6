"""A failed verification stays visible on the page: a warning mark with the reason (issue 13,
point 5). Real backup-api, real headless Chromium, a real bundle damaged on disk."""

import time

from selenium.webdriver.common.by import By

import harness
from page import row, sign_in, wait

EN = harness.catalog("en")


def test_a_failed_verification_shows_a_warning_mark_with_its_reason(server, browser):
    good = server.backup_and_wait(note="stays good")
    bad = server.backup_and_wait(note="gets damaged")
    bundle = server.data_dir / "backups" / bad["filename"]
    with open(bundle, "r+b") as handle:
        handle.seek(bundle.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))

    server.api("POST", f"/api/backups/{bad['id']}/verify")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = server.api("GET", f"/api/backups/{bad['id']}")
        if current["verification"] is not None and server.api("GET", "/api/status")["state"] == "ready":
            break
        time.sleep(0.1)  # polling a condition with a deadline, not timing an assertion
    assert current["verification"]["ok"] is False
    reason = current["verification"]["error"]
    assert reason

    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: all(d.find_elements(By.CSS_SELECTOR, f'#backup-rows tr[data-id="{i}"]')
                                      for i in (bad["id"], good["id"])))
    mark = row(browser, bad["id"]).find_element(By.CSS_SELECTOR, "[data-verification='failed']")
    assert EN["backups.verify_failed"] in mark.text
    assert mark.get_attribute("title") == reason
    assert reason in row(browser, bad["id"]).text
    assert not row(browser, good["id"]).find_elements(By.CSS_SELECTOR, "[data-verification='failed']")
