"""The page stays true and readable: changes by other processes appear without a reload, short
ids everywhere, a layout that fits a laptop in English and Russian, and the chart of recent
backups. Real backup-api, real `backup` CLI, real headless Chromium."""

import json
import signal
import subprocess

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import harness
from page import console_errors, row, row_status, set_field, sign_in, text_is, visible, wait

EN = harness.catalog("en")
RU = harness.catalog("ru")


def cli(data, *arguments):
    return [str(harness.bin_dir() / "backup"), *arguments, "--data-dir", str(data)]


def run_cli(data, *arguments):
    done = subprocess.run(cli(data, *arguments), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def count_text(count, catalog=EN):
    if count == 0:
        return catalog["stats.empty"]
    return catalog["stats.summary.one" if count == 1 else "stats.summary.other"].split("{size}")[0].replace(
        "{count}", str(count))


def page_state(driver):
    return driver.execute_script("""
      const panel = document.getElementById('job');
      return { marker: window.__noReload === true, rows: [...document.querySelectorAll('#backup-rows tr')].map(r => r.dataset.id),
               foreign: panel.hidden ? null : (panel.dataset.foreign ?? null),
               progress: Number(document.getElementById('job-progress').value),
               disabled: document.getElementById('backup-now').disabled,
               count: document.getElementById('stat-count').textContent };""")


def test_cli_backups_appear_progress_and_vanish_without_a_reload(workdir, browser):
    # Its own server, on data that level 9 compresses slowly: the CLI's job lasts seconds.
    data, server = harness.slow_server(workdir, "foreign")
    try:
        sign_in(browser, server.base, harness.TOKEN)
        text_is(browser, "#stat-count", count_text(0))
        browser.execute_script("window.__noReload = true")

        job = subprocess.Popen(cli(data, "create", "--json", "--note", "from the CLI"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        # The other process's job: its row, its stored progress in the panel, "Back up now" disabled.
        wait(browser, 120).until(
            lambda d: (s := page_state(d))["foreign"] and 0 < s["progress"] < 100 and s["rows"] == [s["foreign"]])
        state = page_state(browser)
        assert state["disabled"] is True
        assert row_status(browser, state["foreign"]) in ("pending", "running")
        assert state["foreign"][:8] in browser.find_element(By.ID, "job-text").text
        assert not browser.find_element(By.ID, "job-cancel").is_displayed()

        out, err = job.communicate(timeout=300)
        assert job.returncode == 0, err
        info = json.loads(out)
        assert info["id"] == state["foreign"]
        wait(browser, 30).until(lambda d: row_status(d, info["id"]) == "completed")
        text_is(browser, "#stat-count", count_text(1))
        wait(browser).until(lambda d: not page_state(d)["disabled"] and page_state(d)["foreign"] is None)
        assert not browser.find_element(By.ID, "job").is_displayed()
        assert "from the CLI" in row(browser, info["id"]).text

        run_cli(data, "delete", info["id"], "--yes")
        wait(browser, 30).until(lambda d: row_status(d, info["id"]) is None)
        text_is(browser, "#stat-count", count_text(0))
        assert browser.find_element(By.ID, "backups-empty").is_displayed()
        assert page_state(browser)["marker"] is True  # the same page all along: never reloaded
        assert console_errors(browser) == []
    finally:
        server.stop()


def ensure_backup_with_note(server, note):
    for item in server.api("GET", "/api/backups?limit=500")["items"]:
        if item["status"] == "completed" and item["note"] == note:
            return item
    return server.backup_and_wait(note=note)


def dialog_summary(driver, dialog):
    return driver.execute_script("""
      const summary = document.querySelector(arguments[0] + ' .backup-summary');
      const code = summary.querySelector('code.short-id');
      return { text: summary.textContent, code: code.textContent, title: code.title,
               font: getComputedStyle(code).fontFamily };""", f"#{dialog}")


def test_short_ids_in_every_row_and_dialog(server, browser):
    info = ensure_backup_with_note(server, "short ids")
    short = info["id"][:8]
    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: row_status(d, info["id"]) == "completed")
    for item in server.api("GET", "/api/backups?limit=20")["items"]:
        code = row(browser, item["id"]).find_element(By.CSS_SELECTOR, "td.id code.short-id")
        assert code.text == item["id"][:8] and code.get_attribute("title") == item["id"]
    code = row(browser, info["id"]).find_element(By.CSS_SELECTOR, "code.short-id")
    assert "mono" in code.value_of_css_property("font-family").lower()
    assert code.value_of_css_property("user-select") == "all"
    code.click()  # one click selects the whole short id, ready to copy
    assert browser.execute_script("return window.getSelection().toString()") == short
    date = row(browser, info["id"]).find_element(By.CSS_SELECTOR, "td.date").text

    row(browser, info["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="delete"]').click()
    visible(browser, "#delete-dialog")
    summary = dialog_summary(browser, "delete-dialog")
    assert summary["code"] == short and summary["title"] == info["id"] and "mono" in summary["font"].lower()
    assert date in summary["text"] and "short ids" in summary["text"]
    browser.find_element(By.CSS_SELECTOR, "#delete-dialog [data-close]").click()

    row(browser, info["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="restore"]').click()
    visible(browser, "#restore-dialog")
    summary = dialog_summary(browser, "restore-dialog")
    assert summary["code"] == short and date in summary["text"] and "short ids" in summary["text"]
    assert browser.find_element(By.ID, "restore-id-label").text == EN["restore.type_id"].replace("{id}", short)
    browser.find_element(By.CSS_SELECTOR, "#restore-dialog [data-close]").click()

    row(browser, info["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="pin"]').click()
    expected = EN["pin.done"].replace("{id}", short).replace("{date}", date)
    text_is(browser, "#notice", expected)
    unpin = f'#backup-rows tr[data-id="{info["id"]}"] button[data-action="unpin"]'
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, unpin))
    browser.find_element(By.CSS_SELECTOR, unpin).click()
    text_is(browser, "#notice", EN["unpin.done"].replace("{id}", short).replace("{date}", date))
    assert server.api("GET", f"/api/backups/{info['id']}")["pinned"] is False
    assert console_errors(browser) == []


LAYOUT_JS = """
const lineHeight = (element) => parseFloat(getComputedStyle(element).lineHeight);
const rows = [...document.querySelectorAll('#backup-rows tr')].map((row) => {
  const one = (selector) => {
    const cell = row.querySelector(selector);
    const content = cell.firstElementChild ?? cell;
    const range = document.createRange();
    range.selectNodeContents(cell);
    return { lines: Math.round(range.getBoundingClientRect().height / lineHeight(cell)),
             rects: content.getClientRects().length };
  };
  const buttons = [...row.querySelectorAll('td.actions button')].map((b) => b.getBoundingClientRect());
  return { id: row.dataset.id, date: one('td.date'), size: one('td.size'), shortId: one('td.id'),
           buttonTops: [...new Set(buttons.map((b) => Math.round(b.top)))],
           badge: row.querySelector('td.status .badge') !== null };
});
const scroll = document.querySelector('.table-scroll');
const style = (selector) => {
  const element = document.querySelector(selector);
  if (!element) return null;
  const s = getComputedStyle(element);
  return { background: s.backgroundColor, border: s.borderTopColor, color: s.color };
};
const inputs = ['keep_last', 'keep_days', 'keep_daily', 'keep_weekly', 'keep_monthly'].map((id) => {
  const box = document.getElementById(id).getBoundingClientRect();
  return { id, top: Math.round(box.top + scrollY), height: Math.round(box.height), width: Math.round(box.width) };
});
return { rows, overflow: scroll.scrollWidth - scroll.clientWidth, inputs,
         del: style('#backup-rows button[data-action="delete"]'),
         restore: style('#backup-rows button[data-action="restore"]'),
         danger: getComputedStyle(document.documentElement).getPropertyValue('--danger').trim() };
"""


def rgb(css):
    return tuple(int(float(v)) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])


def check_layout(driver, language):
    layout = driver.execute_script(LAYOUT_JS)
    assert layout["overflow"] <= 0, f"{language}: the table scrolls sideways by {layout['overflow']} px"
    assert layout["rows"], language
    for item in layout["rows"]:
        assert item["date"]["lines"] == 1 and item["date"]["rects"] == 1, (language, "date wraps", item)
        assert item["size"]["lines"] == 1, (language, "size wraps", item)
        assert item["shortId"]["lines"] == 1, (language, "id wraps", item)
        assert len(item["buttonTops"]) == 1, (language, "actions on more than one line", item)
        assert item["badge"], (language, "no status badge", item)
    delete, restore = layout["del"], layout["restore"]
    # Delete: outlined red (transparent, red border and text); Restore: solid, another colour.
    assert delete["background"] in ("rgba(0, 0, 0, 0)", "transparent"), delete
    assert delete["border"] == delete["color"] and rgb(delete["color"])[0] > 150, delete
    assert restore["background"] not in ("rgba(0, 0, 0, 0)", "transparent"), restore
    assert rgb(restore["background"]) != rgb(delete["color"]), (restore, delete)
    return layout


def input_rows(inputs):
    """The retention inputs grouped by their top offset (one group per grid row); inputs side by
    side must share their top exactly, not sit a label's line lower."""
    for a in inputs:
        for b in inputs:
            if abs(a["top"] - b["top"]) < a["height"]:
                assert a["top"] == b["top"], f"misaligned inputs side by side: {a}, {b}"
    rows = {}
    for item in inputs:
        rows.setdefault(item["top"], []).append(item)
    return rows


@pytest.mark.viewport(1280, 1000)
def test_layout_fits_1280_px_in_english_and_russian(server, browser):
    ensure_backup_with_note(server, "a longer note that tells what this backup was taken for, before the upgrade")
    pinned = ensure_backup_with_note(server, "pinned")
    server.api("PATCH", f"/api/backups/{pinned['id']}", {"pinned": True})
    try:
        sign_in(browser, server.base, harness.TOKEN)
        wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#backup-rows button[data-action="restore"]'))
        assert browser.execute_script("return innerWidth") == 1280
        for language, catalog in (("en", EN), ("ru", RU)):
            Select(browser.find_element(By.ID, "language")).select_by_value(language)
            text_is(browser, "h1", catalog["app.title"])
            before = check_layout(browser, language)["inputs"]
            rows = input_rows(before)
            assert len(rows) < len(before), f"{language}: every retention input on its own row: {before}"
            heights = {item["height"] for item in before}
            assert len(heights) == 1, (language, before)

            # An error under one input moves nothing and resizes nothing.
            set_field(browser, "#keep_last", "")
            browser.find_element(By.ID, "settings-save").click()
            text_is(browser, "#keep_last-error", catalog["settings.error.retention.keep_last"])
            after = check_layout(browser, language)["inputs"]
            assert after == before, (language, before, after)
            browser.refresh()
            visible(browser, "#app")
            wait(browser).until(lambda d: d.find_element(By.ID, "keep_last").get_attribute("value") != "")
    finally:
        server.api("PATCH", f"/api/backups/{pinned['id']}", {"pinned": False})
    assert console_errors(browser) == []


CHART_JS = """
const svg = document.querySelector('#history svg');
const marks = [...svg.querySelectorAll('g.mark')];
return { marks: marks.map((m) => ({ id: m.dataset.id, status: m.dataset.status,
                                     size: m.querySelector('rect.size')?.getBBox().height ?? 0,
                                     failure: m.querySelector('.failure') !== null && m.querySelector('.failure-cross') !== null,
                                     duration: m.querySelector('circle.duration') !== null })),
         title: svg.querySelector(':scope > title')?.textContent, desc: svg.querySelector(':scope > desc')?.textContent,
         label: svg.getAttribute('aria-labelledby'), role: svg.getAttribute('role'),
         tableRows: [...document.querySelectorAll('#history-table tbody tr')].map((r) => r.dataset.id),
         styled: document.querySelectorAll('[style]').length, width: svg.getBoundingClientRect().width };
"""


def test_chart_of_recent_backups_marks_each_one_and_the_failures(workdir, browser):
    data = workdir / "chart"
    data.mkdir()
    harness.seed_slow_database(data / "app.sqlite", rows=160)
    server = harness.Server(data, workdir / "chart.log")
    try:
        server.backup_and_wait(note="first")
        # A real failure: the CLI is killed in the middle of its backup; the next process to take
        # the job lock (the server's next backup) marks the record failed ("interrupted").
        server.api("PUT", "/api/settings/backup", {"compression_level": 9})
        killed = subprocess.Popen(cli(data, "create"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait(browser, 120).until(lambda d: any(b["status"] == "running" and b["progress"]["done_bytes"] > 0
                                               for b in server.api("GET", "/api/backups")["items"]))
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        server.api("PUT", "/api/settings/backup", {"compression_level": 1})
        server.backup_and_wait(note="after the failure")
        server.backup_and_wait()
        history = server.api("GET", "/api/backups/stats")["history"]
        assert [b["status"] for b in history].count("failed") == 1 and len(history) == 4

        sign_in(browser, server.base, harness.TOKEN)
        visible(browser, "#history svg")
        chart = browser.execute_script(CHART_JS)
        assert [m["id"] for m in chart["marks"]] == [b["id"] for b in reversed(history)]  # oldest on the left
        for mark, backup in zip(chart["marks"], reversed(history)):
            assert mark["status"] == backup["status"]
            if backup["status"] == "failed":
                assert mark["failure"] and mark["size"] == 0, mark
            else:
                assert not mark["failure"] and mark["size"] > 0 and mark["duration"], mark
        assert chart["role"] == "img" and chart["label"] == "history-chart-title history-chart-desc"
        assert chart["title"] == EN["history.chart.other"].replace("{count}", "4")
        assert "Failed: 1." in chart["desc"]
        assert chart["tableRows"] == [b["id"] for b in history]
        assert chart["styled"] == 0  # nothing styled inline: the CSP would refuse it
        assert chart["width"] > 300

        # A new backup (from the CLI) adds a mark without a reload.
        created = json.loads(run_cli(data, "create", "--json"))
        wait(browser, 30).until(lambda d: d.execute_script(
            "return [...document.querySelectorAll('#history g.mark')].map(m => m.dataset.id).at(-1)") == created["id"])
        assert console_errors(browser) == []
    finally:
        server.stop()


def test_a_prune_by_a_settings_change_updates_list_and_count_alike(workdir, browser):
    data = workdir / "pruned"
    data.mkdir()
    harness.seed_database(data / "app.sqlite", rows=10, blob_kib=1)
    server = harness.Server(data, workdir / "pruned.log")
    try:
        ids = [server.backup_and_wait(note=f"p{i}")["id"] for i in range(3)]
        sign_in(browser, server.base, harness.TOKEN)
        wait(browser).until(lambda d: page_state(d)["rows"] == ids[::-1])
        text_is(browser, "#stat-count", count_text(3))
        browser.execute_script("window.__noReload = true")
        # Saved elsewhere (the API; the CLI alike): retention prunes at once.
        server.api("PUT", "/api/settings/backup", {"retention": {"keep_last": 1, "include_manual": True}})
        wait(browser, 30).until(lambda d: page_state(d)["rows"] == ids[-1:])
        text_is(browser, "#stat-count", count_text(1))
        assert browser.find_element(By.ID, "backups-shown").text == EN["backups.shown.one"].replace("{count}", "1")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#history g.mark")) == 1
        assert page_state(browser)["marker"] is True
        assert console_errors(browser) == []
    finally:
        server.stop()
