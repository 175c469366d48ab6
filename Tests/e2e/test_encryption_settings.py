"""The "Encryption" section (issue 16, point 4): the page shows this server's recipient to copy
(never the identity), the warning that a lost key means lost backups, saves the switch and the
extra recipients with field errors beside them, and marks each encrypted backup with a lock, in
English and Russian."""

import json
import subprocess

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import harness
from page import console_errors, set_field, sign_in, text_is, untranslated_texts, wait

EN = harness.catalog("en")
RU = harness.catalog("ru")
# age-keygen's example recipient from the age README: valid, and nobody's key here.
OFFLINE = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"


def field(browser, name):
    return browser.find_element(By.ID, f"encryption-{name}")


def identity_in_page(browser):
    values = browser.execute_script(
        "return [...document.querySelectorAll('input, select, textarea')].map(e => e.value)")
    return "AGE-SECRET-KEY" in browser.page_source or any("AGE-SECRET-KEY" in value for value in values)


def test_encryption_section_shows_the_recipient_saves_and_marks_encrypted_backups(server, browser):
    sign_in(browser, server.base, harness.TOKEN)
    # No key yet: the page says how to make one, and has no recipient to copy.
    text_is(browser, "#encryption-recipient-hint", EN["encryption.no_key"])
    assert not field(browser, "copy").is_displayed()
    text_is(browser, "#encryption-warning", EN["encryption.warning"])

    generated = subprocess.run(
        [str(harness.bin_dir() / "backup"), "--data-dir", str(server.data_dir), "--database",
         str(server.database), "key", "generate", "--json"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True)
    recipient = json.loads(generated.stdout)["recipient"]
    assert recipient.startswith("age1")

    browser.refresh()
    text_is(browser, "#encryption-recipient", recipient)
    assert field(browser, "copy").is_displayed()
    text_is(browser, "#encryption-recipient-hint", EN["encryption.recipient_hint"])
    assert not identity_in_page(browser)

    # A recipient that is not one: the API names the field and the page marks it.
    field(browser, "enabled").click()
    set_field(browser, "#encryption-recipients", "age1nope")
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#encryption-recipients-error", EN["settings.error.encryption.recipients"])
    assert field(browser, "recipients").get_attribute("aria-invalid") == "true"

    set_field(browser, "#encryption-recipients", OFFLINE)
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#settings-status", EN["settings.saved"])
    saved = server.api("GET", "/api/settings/backup")["encryption"]
    assert saved["enabled"] and saved["recipients"] == [OFFLINE] and saved["recipient"] == recipient
    text_is(browser, "#encryption-mode", EN["encryption.mode.recipients"])

    # A backup made now is encrypted: the list marks it with the lock; an older plain one is not.
    info = server.backup_and_wait()
    assert info["status"] == "completed" and info["encrypted"] is True
    assert info["filename"].endswith(".age")
    browser.refresh()
    lock = '[data-encrypted="true"]'
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, lock))
    locks = browser.find_elements(By.CSS_SELECTOR, lock)
    assert len(locks) == 1
    assert locks[0].text.endswith(EN["backups.encrypted"])
    assert locks[0].get_attribute("title") == EN["backups.encrypted_title"]
    assert not identity_in_page(browser)

    Select(browser.find_element(By.ID, "language")).select_by_value("ru")
    text_is(browser, "#encryption legend", RU["encryption.title"])
    text_is(browser, "#encryption-warning", RU["encryption.warning"])
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, lock).text.endswith(RU["backups.encrypted"]))
    assert untranslated_texts(browser, RU) == []
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    text_is(browser, "#encryption legend", EN["encryption.title"])
    assert untranslated_texts(browser, EN) == []

    # Off again: new backups are plain; the encrypted one keeps its lock.
    field(browser, "enabled").click()
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#settings-status", EN["settings.saved"])
    plain = server.backup_and_wait()
    assert plain["encrypted"] is False and not plain["filename"].endswith(".age")
    assert console_errors(browser, expected=["/api/settings/backup?dry_run=true:422"]) == []
