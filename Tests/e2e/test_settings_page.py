"""The web settings page in a real headless Chromium against the real backup-api."""

import json
import re

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

import harness
from page import (console_errors, row, row_status, set_field, sign_in, text_is, untranslated_texts, visible,
                  wait, wait_for_file)

EN = harness.catalog("en")
RU = harness.catalog("ru")


def test_sign_in_needs_the_right_token_and_survives_a_reload(server, browser):
    browser.get(server.base + "/settings/backup")
    visible(browser, "#token-input").send_keys("not-the-token")
    browser.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
    assert text_is(browser, "#signin-error", EN["errors.wrong_token"]) == EN["errors.wrong_token"]
    assert browser.find_element(By.ID, "app").is_displayed() is False

    sign_in(browser, server.base, harness.TOKEN)
    cookies = {c["name"]: c for c in browser.get_cookies()}
    session = cookies["backup_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert harness.TOKEN not in session["value"]
    assert harness.TOKEN not in browser.current_url
    stored = browser.execute_script("return JSON.stringify({...localStorage, ...sessionStorage})")
    assert harness.TOKEN not in stored
    assert browser.execute_script("return document.cookie") == ""  # HttpOnly: not readable by scripts

    browser.refresh()
    visible(browser, "#app")
    assert not browser.find_element(By.ID, "signin").is_displayed()

    browser.find_element(By.ID, "sign-out").click()
    visible(browser, "#signin")
    browser.refresh()
    visible(browser, "#signin")
    # Only the refused sign-in itself shows in the console (as the browser logs any 401).
    assert console_errors(browser, expected=["/api/session:401"]) == []


def test_settings_show_field_errors_save_and_persist(server, browser):
    sign_in(browser, server.base, harness.TOKEN)
    set_field(browser, "#interval_hours", 0)
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#interval_hours-error", EN["settings.error.interval_hours"])
    assert browser.find_element(By.ID, "interval_hours").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "settings-status").text == EN["settings.invalid"]
    assert server.api("GET", "/api/settings/backup")["interval_hours"] != 0

    set_field(browser, "#interval_hours", 6)
    if not browser.find_element(By.ID, "enabled").is_selected():
        browser.find_element(By.CSS_SELECTOR, "label[for=enabled]").click()
    set_field(browser, "#keep_last", 7)
    set_field(browser, "#keep_weekly", 4)
    set_field(browser, "#compression_level", 3)
    set_field(browser, "#webhook_url", "http://127.0.0.1:9/alerts")
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#settings-status", EN["settings.saved"])
    assert browser.find_element(By.ID, "interval_hours-error").text == ""
    assert browser.find_element(By.ID, "interval_hours").get_attribute("aria-invalid") is None
    next_auto = browser.find_element(By.ID, "next-auto").text
    assert next_auto.startswith(EN["settings.next"].split("{")[0])

    browser.refresh()
    visible(browser, "#app")
    wait(browser).until(lambda d: d.find_element(By.ID, "interval_hours").get_attribute("value") == "6")
    assert browser.find_element(By.ID, "enabled").is_selected()
    assert browser.find_element(By.ID, "keep_last").get_attribute("value") == "7"
    assert browser.find_element(By.ID, "keep_weekly").get_attribute("value") == "4"
    assert browser.find_element(By.ID, "compression_level").get_attribute("value") == "3"
    saved = server.api("GET", "/api/settings/backup")
    assert saved["enabled"] is True and saved["interval_hours"] == 6 and saved["retention"]["keep_last"] == 7
    assert saved["webhook_url"] == "http://127.0.0.1:9/alerts"

    # Switch automatic backups off again so no automatic run starts during the other tests.
    browser.find_element(By.CSS_SELECTOR, "label[for=enabled]").click()
    set_field(browser, "#webhook_url", "")
    browser.find_element(By.ID, "settings-save").click()
    wait(browser).until(lambda d: server.api("GET", "/api/settings/backup")["enabled"] is False)
    assert server.api("GET", "/api/settings/backup")["webhook_url"] is None
    # The page asks with a dry run first, so the invalid value meets the dry run's 422.
    assert console_errors(browser, expected=["/api/settings/backup?dry_run=true:422"]) == []


RECORD_PROGRESS_JS = """
window.seenProgress = [];
const bar = document.getElementById('job-progress');
new MutationObserver(() => window.seenProgress.push(Number(bar.value)))
  .observe(bar, { attributes: true, attributeFilter: ['value'] });
new MutationObserver(() => {
  if (!document.getElementById('job').hidden) window.sawPanel = true;
}).observe(document.getElementById('job'), { attributes: true });
"""


def test_back_up_now_shows_live_progress_and_the_new_backup(server, browser):
    sign_in(browser, server.base, harness.TOKEN)
    before = {b["id"] for b in server.api("GET", "/api/backups?limit=500")["items"]}
    browser.execute_script(RECORD_PROGRESS_JS)
    set_field(browser, "#backup-note", "from the browser — проверка")
    browser.find_element(By.ID, "backup-now").click()
    text_is(browser, "#notice", EN["job.done.completed"], timeout=120)

    after = server.api("GET", "/api/backups?limit=500")["items"]
    new = [b for b in after if b["id"] not in before]
    assert len(new) == 1 and new[0]["status"] == "completed" and new[0]["note"] == "from the browser — проверка"
    wait(browser).until(lambda d: row_status(d, new[0]["id"]) == "completed")
    assert "from the browser — проверка" in row(browser, new[0]["id"]).text
    assert browser.execute_script("return window.sawPanel") is True
    seen = browser.execute_script("return window.seenProgress")
    assert any(0 < value < 100 for value in seen), f"no intermediate progress seen: {seen}"
    assert browser.find_element(By.ID, "job-text").get_attribute("aria-live") == "polite"
    assert browser.find_element(By.ID, "job").is_displayed() is False
    count = browser.find_element(By.ID, "stat-count").text
    assert re.match(rf"{len(after)}\b", count), count
    assert console_errors(browser) == []


def test_a_running_backup_can_be_cancelled(workdir, browser):
    # Its own server, on data that level 9 compresses slowly: the job lasts seconds, not a blink.
    data, server = harness.slow_server(workdir, "cancel")
    try:
        sign_in(browser, server.base, harness.TOKEN)
        browser.find_element(By.ID, "backup-now").click()
        cancel = visible(browser, "#job-cancel")
        wait(browser).until(lambda d: d.find_element(By.ID, "job-progress").get_attribute("value") not in ("0", None))
        cancel.click()
        text_is(browser, "#notice", EN["job.done.cancelled"], timeout=120)
        items = server.api("GET", "/api/backups?limit=500")["items"]
        assert [b["status"] for b in items] == ["cancelled"]
        wait(browser).until(lambda d: row_status(d, items[0]["id"]) == "cancelled")
        assert not list((data / "backups").glob("*.tar.gz"))
        assert console_errors(browser) == []
    finally:
        server.stop()


def ensure_a_completed_backup(server):
    if not any(b["status"] == "completed" for b in server.api("GET", "/api/backups?limit=500")["items"]):
        server.backup_and_wait()


def test_every_visible_string_comes_from_the_catalog_in_english_and_russian(server, browser):
    ensure_a_completed_backup(server)
    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#backup-rows tr"))
    assert untranslated_texts(browser, EN) == []
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == EN["app.title"]
    # The overview names the protected database: its kind and its path (a PostgreSQL URL there
    # would be shown without its password, as /api/status gives it).
    assert browser.find_element(By.ID, "stat-database").text == f"SQLite · {server.database.resolve()}"

    Select(browser.find_element(By.ID, "language")).select_by_value("ru")
    text_is(browser, "h1", RU["app.title"])
    assert browser.execute_script("return document.documentElement.lang") == "ru"
    assert browser.title == RU["page.title"]
    assert untranslated_texts(browser, RU) == []
    assert browser.find_element(By.ID, "stat-database").text == f"SQLite · {server.database.resolve()}"
    # Russian plural forms: 1 копия, 2–4 копии, 5+ копий.
    count = len(browser.find_elements(By.CSS_SELECTOR, "#backup-rows tr"))
    shown = browser.find_element(By.ID, "backups-shown").text
    form = "one" if count % 10 == 1 and count % 100 != 11 else "few" if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14 else "many"
    assert shown == RU[f"backups.shown.{form}"].replace("{count}", str(count))

    # Open the restore dialog in Russian: its strings are translated too, the SQLite warning.
    browser.find_element(By.CSS_SELECTOR, '#backup-rows button[data-action="restore"]').click()
    visible(browser, "#restore-dialog")
    assert untranslated_texts(browser, RU) == []
    assert browser.find_element(By.ID, "restore-warning").text == RU["restore.warning"]
    browser.find_element(By.CSS_SELECTOR, "#restore-dialog [data-close]").click()

    browser.refresh()  # the choice is remembered
    text_is(browser, "h1", RU["app.title"])
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    text_is(browser, "h1", EN["app.title"])
    assert untranslated_texts(browser, EN) == []
    assert console_errors(browser) == []


def test_the_default_language_follows_the_browser(server, downloads):
    driver = harness.chromium(downloads, language="ru-RU")
    try:
        sign_in(driver, server.base, harness.TOKEN)
        assert driver.find_element(By.CSS_SELECTOR, "h1").text == RU["app.title"]
        assert untranslated_texts(driver, RU) == []
    finally:
        driver.quit()


def test_download_through_a_signed_link_matches_the_sha256(server, browser, downloads):
    info = server.backup_and_wait(note="download me")
    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: row_status(d, info["id"]) == "completed")
    row(browser, info["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="download"]').click()
    path = wait_for_file(downloads, ".tar.gz")
    assert path.name == info["filename"]
    assert harness.sha256_file(path) == info["sha256"]
    sidecar = (server.data_dir / "backups" / (info["filename"] + ".sha256")).read_text().split()[0]
    assert sidecar == info["sha256"]
    assert console_errors(browser) == []


def test_restore_with_typed_confirmation_then_restart_and_outcome(server, browser):
    rows_at_backup = harness.row_count(server.database)
    info = server.backup_and_wait(note="restore point")
    db = harness.sqlite3.connect(server.database)
    with db:
        db.executemany("INSERT INTO ledger(note, payload) VALUES (?, x'00')", [(f"after {i}",) for i in range(25)])
    db.close()
    assert harness.row_count(server.database) == rows_at_backup + 25
    pid = server.process.pid

    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: row_status(d, info["id"]) == "completed")
    row(browser, info["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="restore"]').click()
    visible(browser, "#restore-dialog")
    assert info["id"][:8] in browser.find_element(By.ID, "restore-summary").text
    field = browser.find_element(By.ID, "restore-id-input")
    field.send_keys(info["id"][:-1] + "x")
    browser.find_element(By.ID, "restore-confirm").click()
    text_is(browser, "#restore-id-error", EN["restore.mismatch"])
    assert browser.find_element(By.ID, "restore-dialog").is_displayed()
    assert harness.row_count(server.database) == rows_at_backup + 25

    field.clear()
    field.send_keys(info["id"], Keys.ENTER)
    visible(browser, "#restore-banner")
    expected = EN["restore.succeeded"].replace("{id}", info["id"][:8])
    text_is(browser, "#restore-message", expected, timeout=120)
    visible(browser, "#app")

    status = server.api("GET", "/api/status")
    assert status["last_restore"]["outcome"] == "succeeded" and status["last_restore"]["backup_id"] == info["id"]
    assert server.process.pid == pid and server.process.poll() is None  # restarted in place
    assert harness.row_count(server.database) == rows_at_backup
    safety = status["last_restore"]["safety_backup_id"]
    assert safety and safety[:8] in browser.find_element(By.ID, "restore-detail").text
    wait(browser).until(lambda d: row_status(d, safety) == "completed")
    # While the server restarts, its port refuses connections: the page's polls and the event
    # stream's reconnection see that, and nothing else fails.
    restart = ["/api/status:ERR_CONNECTION_REFUSED", "/api/events:ERR_CONNECTION_REFUSED",
               "/api/status:ERR_EMPTY_RESPONSE", "/api/events:ERR_EMPTY_RESPONSE",
               "/api/status:ERR_CONNECTION_RESET", "/api/events:ERR_CONNECTION_RESET"]
    assert console_errors(browser, expected=restart) == []


def test_keyboard_focus_is_visible_and_reaches_the_controls(server, browser):
    browser.get(server.base + "/settings/backup")
    visible(browser, "#token-input")
    wait(browser).until(lambda d: d.switch_to.active_element.get_attribute("id") == "token-input")

    def step(back=False):
        chain = ActionChains(browser)
        if back:
            chain.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT)
        else:
            chain.send_keys(Keys.TAB)
        chain.perform()
        element = browser.switch_to.active_element
        outline = browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle", element)
        name = element.get_attribute("id") or element.get_attribute("class") or element.tag_name
        assert outline != "none", f"no visible focus on {name}"
        return name

    backwards = [step(back=True) for _ in range(2)]
    assert backwards == ["language", "skip-link"]
    forwards = [step() for _ in range(3)]
    assert forwards[:2] == ["language", "token-input"]
    assert browser.switch_to.active_element.get_attribute("type") == "submit"
    browser.switch_to.active_element.send_keys(Keys.ENTER)  # the keyboard submits the form
    text_is(browser, "#signin-error", EN["signin.empty"])
    # Every form control has a label.
    unlabelled = browser.execute_script("""
      return [...document.querySelectorAll('input, select')].filter(e =>
        !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id);""")
    assert unlabelled == []


@pytest.mark.viewport(360, 800)
def test_works_at_360_px_wide(server, browser):
    ensure_a_completed_backup(server)
    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#backup-rows tr"))
    width = browser.execute_script("return document.documentElement.scrollWidth")
    viewport = browser.execute_script("return document.documentElement.clientWidth")
    assert width <= viewport, f"page is {width} px wide in a {viewport} px viewport"
    first = browser.find_element(By.CSS_SELECTOR, "#backup-rows tr")
    for button in first.find_elements(By.CSS_SELECTOR, "button"):
        assert button.is_displayed()
        right = browser.execute_script("return arguments[0].getBoundingClientRect().right", button)
        assert right <= viewport
    assert untranslated_texts(browser, EN) == []


def test_light_and_dark_colour_schemes(server, browser):
    browser.get(server.base + "/settings/backup")
    visible(browser, "#token-input")
    colours = {}
    for scheme in ("light", "dark"):
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": scheme}]})
        colours[scheme] = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert colours["light"] != colours["dark"]
    dark = [int(v) for v in re.findall(r"\d+", colours["dark"])[:3]]
    assert sum(dark) < 150, colours


def test_nothing_is_loaded_from_outside_the_server(server, browser):
    sign_in(browser, server.base, harness.TOKEN)
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert urls and all(u.startswith(server.base) for u in urls), urls
    html = (harness.ROOT / "web" / "index.html").read_text()
    assert "http://" not in html and "https://" not in html


def test_long_lists_are_paged(workdir, browser):
    data = workdir / "paged"
    data.mkdir()
    harness.seed_database(data / "app.sqlite", rows=10, blob_kib=1)
    server = harness.Server(data, workdir / "paged.log")
    try:
        ids = [server.backup_and_wait(note=f"n{i}")["id"] for i in range(23)]
        sign_in(browser, server.base, harness.TOKEN)
        wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#backup-rows tr")) == 20)
        shown = [r.get_attribute("data-id") for r in browser.find_elements(By.CSS_SELECTOR, "#backup-rows tr")]
        assert shown == ids[::-1][:20]  # newest first
        more = browser.find_element(By.ID, "backups-more")
        assert more.is_displayed()
        more.click()
        wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#backup-rows tr")) == 23)
        shown = [r.get_attribute("data-id") for r in browser.find_elements(By.CSS_SELECTOR, "#backup-rows tr")]
        assert shown == ids[::-1]
        assert not browser.find_element(By.ID, "backups-more").is_displayed()
        assert browser.find_element(By.ID, "backups-shown").text == EN["backups.shown.other"].replace("{count}", "23")
        assert console_errors(browser) == []
    finally:
        server.stop()


def present(driver, selector):
    """Whether `selector` matches now (asked in the page, so a re-rendered row is never stale)."""
    return driver.execute_script("return document.querySelector(arguments[0]) !== null", selector)


def test_pin_and_delete_with_confirmation(server, browser):
    info = server.backup_and_wait(note="to delete")
    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: row_status(d, info["id"]) == "completed")
    row(browser, info["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="pin"]').click()
    wait(browser).until(lambda d: present(d, f'tr[data-id="{info["id"]}"] button[data-action="unpin"]'))
    assert server.api("GET", f"/api/backups/{info['id']}")["pinned"] is True
    row(browser, info["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="unpin"]').click()
    wait(browser).until(lambda d: present(d, f'tr[data-id="{info["id"]}"] button[data-action="pin"]'))
    assert server.api("GET", f"/api/backups/{info['id']}")["pinned"] is False

    row(browser, info["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="delete"]').click()
    visible(browser, "#delete-dialog")
    assert info["id"][:8] in browser.find_element(By.ID, "delete-summary").text
    browser.find_element(By.CSS_SELECTOR, "#delete-dialog [data-close]").click()
    assert server.api("GET", f"/api/backups/{info['id']}")["status"] == "completed"
    row(browser, info["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="delete"]').click()
    visible(browser, "#delete-dialog")
    browser.find_element(By.ID, "delete-confirm").click()
    text_is(browser, "#notice", EN["delete.done"])
    wait(browser).until(lambda d: row_status(d, info["id"]) is None)
    assert not (server.data_dir / "backups" / info["filename"]).exists()
    assert console_errors(browser) == []
