"""Settings that prune ask first, sizes in the CLI's binary units, plural and empty forms, and
server-generated notes and sign-in errors in the page's language (issue 13, points 7, 12, 14)."""

import json
import time
import urllib.error

import pytest
from selenium.webdriver.common.by import By

import harness
from page import console_errors, row, set_field, sign_in, text_is, untranslated_texts, visible, wait

EN = harness.catalog("en")
RU = harness.catalog("ru")
BYTE_CASES = json.loads((harness.ROOT / "Tests" / "e2e" / "byte_counts.json").read_text())["cases"]

# Runs the page's own modules in the page: the formatter and the plural forms of both catalogs.
FORMAT_JS = r"""
const [cases, counts, done] = arguments;
(async () => {
  const format = await import('/settings/backup/js/format.js');
  const i18n = await import('/settings/backup/js/i18n.js');
  const result = { en: cases.map(([bytes]) => format.formatBytes(bytes)), ru: [], plurals: {} };
  for (const language of ['en', 'ru']) {
    await i18n.setLanguage(language);
    result[language + 'Page'] = cases.map(([bytes]) => i18n.formatBytes(bytes));
    result.plurals[language] = counts.map((count) => i18n.plural('stats.summary', count, { size: 'S' }));
  }
  await i18n.setLanguage('en');
  done(result);
})().catch((error) => done({ error: String(error) }));
"""


def test_the_empty_overview_says_so(server, browser):
    sign_in(browser, server.base, harness.TOKEN)
    assert text_is(browser, "#stat-count", EN["stats.empty"]) == EN["stats.empty"]
    assert "byte" not in browser.find_element(By.ID, "stat-count").text
    # The note field mirrors the core's one limit (BackupNote.maximumLength, docs/api.md).
    assert browser.find_element(By.ID, "backup-note").get_attribute("maxlength") == "500"


def test_sizes_use_the_cli_rules_and_plurals_follow_each_language(server, browser):
    browser.get(server.base + "/settings/backup")
    visible(browser, "#token-input")
    counts = [0, 1, 2, 4, 5, 11, 12, 21, 22, 25, 101, 111]
    result = browser.execute_async_script(FORMAT_JS, BYTE_CASES, counts)
    assert "error" not in result, result
    assert result["en"] == [text for _, text in BYTE_CASES]
    assert result["enPage"] == [text for _, text in BYTE_CASES]
    # Russian: the same numbers with a decimal comma, the units from the catalog.
    units = {"B": "Б", "KiB": "КиБ", "MiB": "МиБ", "GiB": "ГиБ", "TiB": "ТиБ", "PiB": "ПиБ"}
    expected_ru = []
    for _, text in BYTE_CASES:
        number, unit = text.split(" ")
        expected_ru.append(f"{number.replace('.', ',')} {units[unit]}")
    assert result["ruPage"] == expected_ru
    assert {RU[f"unit.{u}"] for u in units} == set(units.values()) and all(EN[f"unit.{u}"] == u for u in units)

    def form(catalog, name, count):
        return catalog[f"stats.summary.{name}"].replace("{count}", str(count)).replace("{size}", "S")
    english = ["one" if n == 1 else "other" for n in counts]
    russian = ["many", "one", "few", "few", "many", "many", "many", "one", "few", "many", "one", "many"]
    assert result["plurals"]["en"] == [form(EN, f, n) for f, n in zip(english, counts)]
    assert result["plurals"]["ru"] == [form(RU, f, n) for f, n in zip(russian, counts)]
    assert RU["stats.summary.one"] != RU["stats.summary.few"] != RU["stats.summary.many"]


def test_a_settings_change_that_prunes_lists_the_backups_and_asks_first(server, browser):
    made = [server.backup_and_wait(note=f"kept {i}" if i == 2 else None) for i in range(3)]
    # The third one's note is people's text; the first two are what retention would delete.
    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#backup-rows tr")) == 3)
    set_field(browser, "#keep_last", 1)
    browser.find_element(By.CSS_SELECTOR, "label[for=include_manual]").click()
    browser.find_element(By.ID, "settings-save").click()

    dialog = visible(browser, "#prune-dialog")
    body = EN["prune.body.other"].replace("{count}", "2")
    assert browser.find_element(By.ID, "prune-body").text == body
    items = dialog.find_elements(By.CSS_SELECTOR, "#prune-list tr")
    assert [item.get_attribute("data-id") for item in items] == [made[1]["id"], made[0]["id"]]
    for item, backup in zip(items, [made[1], made[0]]):
        assert item.find_element(By.CSS_SELECTOR, "code.short-id").text == backup["id"][:8]
        assert item.find_element(By.CSS_SELECTOR, "time").get_attribute("datetime") == backup["created_at"]
        assert EN["type.manual"] in item.text
    assert untranslated_texts(browser, EN) == []

    browser.find_element(By.ID, "prune-cancel").click()
    text_is(browser, "#settings-status", EN["settings.not_saved"])
    assert not browser.find_element(By.ID, "prune-dialog").is_displayed()
    assert server.api("GET", "/api/settings/backup")["retention"]["keep_last"] != 1
    assert len(server.api("GET", "/api/backups?limit=500")["items"]) == 3

    browser.find_element(By.ID, "settings-save").click()
    visible(browser, "#prune-dialog")
    browser.find_element(By.ID, "prune-confirm").click()
    text_is(browser, "#settings-status", EN["settings.saved"])
    assert server.api("GET", "/api/settings/backup")["retention"]["keep_last"] == 1
    assert [b["id"] for b in server.api("GET", "/api/backups?limit=500")["items"]] == [made[2]["id"]]
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#backup-rows tr")) == 1)

    # Saving again deletes nothing, so nothing is asked.
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#settings-status", EN["settings.saved"])
    assert not browser.find_element(By.ID, "prune-dialog").is_displayed()
    assert console_errors(browser) == []


def restore_and_wait(server, backup_id, timeout=120):
    """Restores through the API and waits until the restarted server reports the outcome."""
    server.api("POST", f"/api/backups/{backup_id}/restore", {"safety_backup": True})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = server.api("GET", "/api/status")
            if status["state"] == "ready" and (status.get("last_restore") or {}).get("backup_id") == backup_id:
                return status["last_restore"]
        except (urllib.error.URLError, ConnectionError, OSError):
            pass  # the server is restarting
        time.sleep(0.1)  # polling a condition with a deadline
    raise TimeoutError("the restore did not finish")


@pytest.fixture
def russian_browser(downloads):
    driver = harness.chromium(downloads, language="ru-RU")
    yield driver
    driver.quit()


def test_in_russian_generated_notes_and_a_wrong_token_are_russian(server, russian_browser):
    browser = russian_browser
    target = server.api("GET", "/api/backups?limit=1")["items"][0]
    outcome = restore_and_wait(server, target["id"])
    safety = outcome["safety_backup_id"]

    browser.get(server.base + "/settings/backup")
    visible(browser, "#token-input").send_keys("not-the-token")
    browser.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
    assert text_is(browser, "#signin-error", RU["errors.wrong_token"]) == RU["errors.wrong_token"]

    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#backup-rows tr[data-id="{safety}"]'))
    note = row(browser, safety).find_element(By.CSS_SELECTOR, "td.note").text
    assert note == RU["note.pre_restore"].replace("{id}", target["id"][:8])
    assert "before restoring" not in browser.find_element(By.ID, "backup-rows").text
    assert untranslated_texts(browser, RU) == []
    assert console_errors(browser, expected=["/api/session:401"]) == []
