"""The page asks the server instead of deciding itself (issue 14, point 5): the buttons a row
offers are the backup's `actions`, and a retention failure after a job shows in the overview until
a later run succeeds. Real backup-api, real headless Chromium, a bundle made undeletable on disk."""

import shutil
import subprocess

import pytest
import sqlite3

from selenium.webdriver.common.by import By

import harness
from page import row, sign_in, wait

EN = harness.catalog("en")


def actions_offered(driver, backup_id):
    return [b.get_attribute("data-action") for b in row(driver, backup_id).find_elements(By.CSS_SELECTOR, "button")]


def test_rows_offer_the_actions_the_server_allows(server, browser):
    done = server.backup_and_wait(note="completed")
    catalog = sqlite3.connect(server.data_dir / "backups" / "catalog.sqlite")
    failed_id = "00000000000000fa"
    with catalog:
        catalog.execute(
            "INSERT INTO backup(id, filename, type, status, created_at, recorded_at, pinned, done_bytes, total_bytes, error) "
            "VALUES (?, ?, 'manual', 'failed', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000', 0, 0, 0, 'boom')",
            (failed_id, f"backup-20260101-000000-manual-{failed_id}.tar.gz"))
    catalog.close()
    assert server.api("GET", f"/api/backups/{failed_id}")["actions"] == ["pin", "delete"]
    assert done["actions"] == ["download", "verify", "restore", "pin", "delete"]

    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: all(d.find_elements(By.CSS_SELECTOR, f'#backup-rows tr[data-id="{i}"]')
                                      for i in (done["id"], failed_id)))
    assert actions_offered(browser, done["id"]) == ["download", "pin", "delete", "restore"]
    assert actions_offered(browser, failed_id) == ["pin", "delete"]


def test_a_retention_failure_shows_in_the_overview_until_a_later_run_succeeds(server, browser):
    server.api("PUT", "/api/settings/backup", {"retention": {"keep_last": 1, "include_manual": True}})
    first = server.backup_and_wait(note="to be pruned")
    bundle = server.data_dir / "backups" / first["filename"]
    aside = server.data_dir / first["filename"]
    # Undeletable while still a good bundle: a copy bind-mounted onto it (unlink fails with EBUSY).
    shutil.copyfile(bundle, aside)
    if subprocess.run(["mount", "--bind", str(aside), str(bundle)], capture_output=True).returncode != 0:
        pytest.skip("a bind mount needs root")
    server.backup_and_wait(note="prunes the first")
    failure = server.api("GET", "/api/backups/stats")["last_retention_failure"]
    assert failure and first["filename"] in failure["error"]

    sign_in(browser, server.base, harness.TOKEN)
    shown = wait(browser).until(lambda d: d.find_element(By.ID, "stat-retention-failure-row").is_displayed())
    assert shown
    assert EN["stats.retention_failure"] in browser.find_element(By.ID, "stat-retention-failure-row").text
    assert first["filename"] in browser.find_element(By.ID, "stat-retention-failure").text

    subprocess.run(["umount", str(bundle)], check=True)
    server.backup_and_wait(note="prunes again")
    assert server.api("GET", "/api/backups/stats")["last_retention_failure"] is None
    # The page reloads its overview on the catalog's change event.
    wait(browser).until(lambda d: not d.find_element(By.ID, "stat-retention-failure-row").is_displayed())
