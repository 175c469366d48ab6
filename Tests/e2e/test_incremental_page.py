"""Incremental backups on the page (issue 20, "Build"): the settings form's format choice saves
and comes back; an incremental backup's size reads "added X of Y" (what it added to the
repository against what it restores to) and the overview shows the repository's savings, in
English and Russian."""

import re
import sqlite3

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import harness
from page import console_errors, sign_in, text_is, untranslated_texts, wait

EN = harness.catalog("en")
RU = harness.catalog("ru")


def pattern(template):
    """A catalog text with every {placeholder} matching anything."""
    return re.compile("^" + ".+".join(re.escape(part) for part in re.split(r"\{\w+\}", template)) + "$")


def test_format_choice_and_incremental_sizes_and_savings(server, browser):
    sign_in(browser, server.base, harness.TOKEN)
    form_format = Select(browser.find_element(By.ID, "format"))
    wait(browser).until(lambda d: d.find_element(By.ID, "format").get_attribute("value") == "bundle")
    assert not browser.find_element(By.ID, "stat-repository-row").is_displayed()

    form_format.select_by_value("incremental")
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#settings-status", EN["settings.saved"])
    assert server.api("GET", "/api/settings/backup")["format"] == "incremental"
    browser.refresh()
    wait(browser).until(lambda d: d.find_element(By.ID, "format").get_attribute("value") == "incremental")

    first = server.backup_and_wait()
    db = sqlite3.connect(server.database)
    db.execute("UPDATE ledger SET note = note || 'x' WHERE id BETWEEN 10 AND 12")
    db.commit()
    db.close()
    second = server.backup_and_wait()
    for info in (first, second):
        assert info["status"] == "completed" and info["format"] == "incremental"
        assert info["logical_bytes"] > 0
    assert second["size_bytes"] < first["size_bytes"]

    browser.refresh()
    size = f"tr[data-id='{second['id']}'] td.size [data-format='incremental']"
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, size))
    assert pattern(EN["backups.size.added"]).match(browser.find_element(By.CSS_SELECTOR, size).text)
    row = browser.find_element(By.ID, "stat-repository-row")
    wait(browser).until(lambda d: row.is_displayed())
    stats = server.api("GET", "/api/backups/stats")["repository"]
    assert stats["packs"] >= 1 and stats["logical_bytes"] == first["logical_bytes"] + second["logical_bytes"]
    assert 0 < stats["savings_ratio"] < 1
    assert pattern(EN["stats.repository_value"]).match(browser.find_element(By.ID, "stat-repository").text)

    Select(browser.find_element(By.ID, "language")).select_by_value("ru")
    text_is(browser, "label[for=format]", RU["settings.format"])
    wait(browser).until(lambda d: pattern(RU["stats.repository_value"]).match(
        d.find_element(By.ID, "stat-repository").text))
    assert pattern(RU["backups.size.added"]).match(browser.find_element(By.CSS_SELECTOR, size).text)
    assert untranslated_texts(browser, RU) == []
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    server.api("PUT", "/api/settings/backup", {"format": "bundle"})
    assert console_errors(browser) == []
