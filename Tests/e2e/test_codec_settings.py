"""The settings form's codec choice (issue 14, point 1): gzip or zstd, the level's range and hint
follow it, a pair the codec does not take marks both fields, and a backup made after choosing zstd
is a .tar.zst that downloads as application/zstd."""

import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import harness
from page import console_errors, set_field, sign_in, text_is, untranslated_texts, wait

EN = harness.catalog("en")
RU = harness.catalog("ru")


def test_codec_choice_guides_the_level_and_makes_zstd_bundles(server, browser):
    sign_in(browser, server.base, harness.TOKEN)
    codec = Select(browser.find_element(By.ID, "codec"))
    level = browser.find_element(By.ID, "compression_level")
    wait(browser).until(lambda d: level.get_attribute("value") == "1")
    assert codec.first_selected_option.get_attribute("value") == "gzip"  # the default
    assert level.get_attribute("max") == "9"
    assert browser.find_element(By.ID, "compression_level-hint").text == EN["settings.compression_hint"]

    codec.select_by_value("zstd")
    assert level.get_attribute("max") == "19"
    text_is(browser, "#compression_level-hint", EN["settings.compression_hint_zstd"])
    set_field(browser, "#compression_level", 15)
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#settings-status", EN["settings.saved"])
    saved = server.api("GET", "/api/settings/backup")
    assert saved["codec"] == "zstd" and saved["compression_level"] == 15

    browser.refresh()
    wait(browser).until(lambda d: d.find_element(By.ID, "compression_level").get_attribute("value") == "15")
    codec = Select(browser.find_element(By.ID, "codec"))
    assert codec.first_selected_option.get_attribute("value") == "zstd"
    assert browser.find_element(By.ID, "compression_level").get_attribute("max") == "19"

    # Back to gzip with level 15: the server refuses the pair and the page marks both fields.
    codec.select_by_value("gzip")
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#codec-error", EN["settings.error.codec"])
    text_is(browser, "#compression_level-error", EN["settings.error.compression_level"])
    assert browser.find_element(By.ID, "codec").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "compression_level").get_attribute("aria-invalid") == "true"
    assert server.api("GET", "/api/settings/backup")["codec"] == "zstd"

    # In Russian the choice, its hint and the errors are translated too.
    Select(browser.find_element(By.ID, "language")).select_by_value("ru")
    text_is(browser, "label[for=codec]", RU["settings.codec"])
    assert browser.find_element(By.ID, "codec-error").text == RU["settings.error.codec"]
    assert untranslated_texts(browser, RU) == []
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    text_is(browser, "label[for=codec]", EN["settings.codec"])

    # A backup now is a .tar.zst, downloaded as application/zstd.
    info = server.backup_and_wait()
    assert info["status"] == "completed" and info["filename"].endswith(".tar.zst")
    request = urllib.request.Request(server.base + f"/api/backups/{info['id']}/download",
                                     headers={"Authorization": f"Bearer {harness.TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"] == "application/zstd"
        assert response.read(4) == bytes([0x28, 0xB5, 0x2F, 0xFD])

    server.api("PUT", "/api/settings/backup", {"codec": "gzip", "compression_level": 6})
    assert console_errors(browser, expected=["/api/settings/backup?dry_run=true:422"]) == []
