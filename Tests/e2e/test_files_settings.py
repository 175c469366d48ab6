"""The "Files" section and the scopes on the page (issue 17, point 5): directories are added and
removed, a path the server refuses is marked on its own row with the server's reason beside it,
"Back up now" takes a scope, the list shows each backup's scope and filters by it, warnings of
the walk (a FIFO is skipped) are shown on the backup, in English and Russian; and a restore from
the page gives back the tree of backup time, whole or the files alone, keeping the old tree when
asked."""

import os
import shutil
import stat
import time
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

import harness
from page import console_errors, row, row_status, set_field, sign_in, text_is, untranslated_texts, visible, wait

EN = harness.catalog("en")
RU = harness.catalog("ru")


def make_tree(root):
    """A small application tree: nested folders, a file and a FIFO (skipped with a warning)."""
    (root / "avatars" / "2024").mkdir(parents=True)
    (root / "avatars" / "2024" / "me.png").write_bytes(os.urandom(2048))
    (root / "readme.txt").write_text("uploads\n")
    os.mkfifo(root / "pipe")


def add_directory(browser, path):
    set_field(browser, "#directory-new", path)
    browser.find_element(By.ID, "directory-add").click()


def listed(browser):
    return browser.execute_script(
        "return [...document.querySelectorAll('#directories input')].map((input) => input.value)")


def wait_settled(server, backup_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = server.api("GET", f"/api/backups/{backup_id}")
        if current["status"] not in ("pending", "running") and server.api("GET", "/api/status")["state"] == "ready":
            return current
        time.sleep(0.1)  # polling a condition with a deadline, not timing an assertion
    raise TimeoutError("backup did not finish")


def shown_ids(browser):
    return browser.execute_script(
        "return [...document.querySelectorAll('#backup-rows tr')].map((row) => row.dataset.id)")


def test_files_section_adds_directories_with_server_errors_and_backs_up_by_scope(server, browser, workdir):
    uploads = workdir / "uploads"
    make_tree(uploads)
    missing = workdir / "no-such-directory"
    inside = server.data_dir / "backups"  # inside the data directory: never a source

    sign_in(browser, server.base, harness.TOKEN)
    text_is(browser, "#files legend", EN["files.title"])
    assert browser.find_element(By.ID, "directories-empty").is_displayed()
    assert Select(browser.find_element(By.ID, "default_scope")).first_selected_option.get_attribute("value") == ""

    # No directory yet: files as the default scope is refused beside its field, and "Back up
    # now" with files says where to add one.
    Select(browser.find_element(By.ID, "default_scope")).select_by_value("files")
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#default_scope-error", EN["settings.error.default_scope"])
    assert browser.find_element(By.ID, "default_scope").get_attribute("aria-invalid") == "true"
    Select(browser.find_element(By.ID, "default_scope")).select_by_value("")
    Select(browser.find_element(By.ID, "backup-scope")).select_by_value("files")
    browser.find_element(By.ID, "backup-now").click()
    text_is(browser, "#backup-error", EN["backups.error.scope"])
    Select(browser.find_element(By.ID, "backup-scope")).select_by_value("")
    assert server.api("GET", "/api/backups?limit=500")["items"] == []

    # The page refuses only what is plainly no path: an empty or relative one.
    add_directory(browser, "uploads")
    text_is(browser, "#directory-new-error", EN["files.error.relative"])
    assert listed(browser) == []

    # Three paths: the server takes the first and refuses the other two, each on its own row.
    add_directory(browser, str(uploads))
    add_directory(browser, str(missing))
    add_directory(browser, str(inside))
    assert listed(browser) == [str(uploads), str(missing), str(inside)]
    text_is(browser, "#directories-unsaved", EN["files.unsaved"])
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#settings-status", EN["settings.invalid"])
    for index, path in ((1, missing), (2, inside)):
        text_is(browser, f"#directory-{index}-error", EN["settings.error.directories"])
        assert browser.find_element(By.ID, f"directory-{index}").get_attribute("aria-invalid") == "true"
        reason = browser.find_element(By.ID, f"directory-{index}-reason").text
        assert str(path) in reason, reason  # the server's own words, naming the path
    assert browser.find_element(By.ID, "directory-0").get_attribute("aria-invalid") is None
    assert browser.find_element(By.ID, "directory-0-error").text == ""
    assert server.api("GET", "/api/settings/backup")["directories"] == []

    # In Russian the rule is translated; the server's reason is a value, shown as it came.
    Select(browser.find_element(By.ID, "language")).select_by_value("ru")
    text_is(browser, "#directory-1-error", RU["settings.error.directories"])
    text_is(browser, "#files legend", RU["files.title"])
    assert untranslated_texts(browser, RU) == []
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    text_is(browser, "#files legend", EN["files.title"])

    # Remove the two refused rows (the row's own button), exclude *.txt, save.
    for _ in range(2):
        browser.find_element(By.CSS_SELECTOR, '#directories li[data-index="1"] button[data-action="remove-directory"]').click()
    assert listed(browser) == [str(uploads)]
    set_field(browser, "#exclude", "*.txt")
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#settings-status", EN["settings.saved"])
    saved = server.api("GET", "/api/settings/backup")
    assert saved["directories"] == [str(uploads)] and saved["exclude"] == ["*.txt"]
    assert saved["default_scope"] is None

    browser.refresh()
    wait(browser).until(lambda d: listed(d) == [str(uploads)])
    assert browser.find_element(By.ID, "exclude").get_attribute("value") == "*.txt"
    assert not browser.find_element(By.ID, "directories-empty").is_displayed()

    # A database backup (through the API) and a files backup from the page's own scope choice.
    database = server.api("POST", "/api/backups", {"scope": "database"})
    database = wait_settled(server, database["id"])
    assert database["status"] == "completed" and database["scope"] == "database"
    before = {b["id"] for b in server.api("GET", "/api/backups?limit=500")["items"]}
    Select(browser.find_element(By.ID, "backup-scope")).select_by_value("files")
    browser.find_element(By.ID, "backup-now").click()
    text_is(browser, "#notice", EN["job.done.completed"], timeout=120)
    new = [b for b in server.api("GET", "/api/backups?limit=500")["items"] if b["id"] not in before]
    assert len(new) == 1
    files = wait_settled(server, new[0]["id"])
    assert files["status"] == "completed" and files["scope"] == "files"
    # The FIFO was skipped, with a warning the record keeps.
    assert any("pipe" in warning for warning in files["source_warnings"]), files["source_warnings"]

    wait(browser).until(lambda d: row_status(d, files["id"]) == "completed")
    assert row(browser, files["id"]).find_element(By.CSS_SELECTOR, "td.scope").text == EN["scope.files"]
    assert row(browser, database["id"]).find_element(By.CSS_SELECTOR, "td.scope").text == EN["scope.database"]

    # The walk's warnings: a badge with their count that opens the list.
    details = row(browser, files["id"]).find_element(By.CSS_SELECTOR, "details.source-warnings")
    count = len(files["source_warnings"])
    badge = details.find_element(By.TAG_NAME, "summary")
    assert badge.text.endswith(EN["backups.source_warnings.one" if count == 1 else "backups.source_warnings.other"]
                               .replace("{count}", str(count)))
    badge.click()
    shown = [item.text for item in details.find_elements(By.CSS_SELECTOR, "ul li")]
    assert shown == files["source_warnings"]
    assert not row(browser, database["id"]).find_elements(By.CSS_SELECTOR, "details.source-warnings")

    # The overview names each kind's last success once there are files backups.
    wait(browser).until(lambda d: d.find_element(By.ID, "stat-scopes-row").is_displayed())
    kinds = browser.execute_script(
        "return [...document.querySelectorAll('#stat-scopes [data-scope]')].map((e) => e.dataset.scope)")
    assert kinds == ["files", "database"], kinds

    # The filter asks the server for one scope at a time.
    scope_filter = Select(browser.find_element(By.ID, "backups-scope-filter"))
    scope_filter.select_by_value("files")
    wait(browser).until(lambda d: shown_ids(d) == [files["id"]])
    scope_filter.select_by_value("full")
    wait(browser).until(lambda d: shown_ids(d) == [])
    text_is(browser, "#backups-empty", EN["backups.empty_filtered"])
    scope_filter.select_by_value("database")
    wait(browser).until(lambda d: database["id"] in shown_ids(d) and files["id"] not in shown_ids(d))
    assert all(b["scope"] == "database" for b in server.api("GET", "/api/backups?scope=database&limit=500")["items"])

    Select(browser.find_element(By.ID, "language")).select_by_value("ru")
    text_is(browser, "label[for=backups-scope-filter]", RU["backups.filter.scope"])
    scope_filter.select_by_value("")
    wait(browser).until(lambda d: files["id"] in shown_ids(d) and database["id"] in shown_ids(d))
    wait(browser).until(lambda d: row(d, files["id"]).find_element(By.CSS_SELECTOR, "td.scope").text == RU["scope.files"])
    assert untranslated_texts(browser, RU) == []
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    text_is(browser, "label[for=backups-scope-filter]", EN["backups.filter.scope"])
    assert untranslated_texts(browser, EN) == []
    assert console_errors(browser, expected=["/api/settings/backup?dry_run=true:422", "/api/backups:422"]) == []


def test_restore_dialog_offers_parts_by_what_the_backup_holds(server, browser, workdir):
    uploads = workdir / "uploads-restore"
    uploads.mkdir()
    (uploads / "a.txt").write_text("a\n")
    server.api("PUT", "/api/settings/backup", {"directories": [str(uploads)]})
    full = server.backup_and_wait()  # the automatic default scope: full, since a directory is set
    assert full["status"] == "completed" and full["scope"] == "full"
    database = server.api("POST", "/api/backups", {"scope": "database"})
    database = wait_settled(server, database["id"])

    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#backup-rows tr[data-id="{full["id"]}"] button[data-action="restore"]'))

    def open_restore(item):
        row(browser, item["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="restore"]').click()
        visible(browser, "#restore-dialog")

    def close():
        browser.find_element(By.CSS_SELECTOR, "#restore-dialog button[data-close]").click()
        wait(browser).until(lambda d: not d.find_element(By.ID, "restore-dialog").is_displayed())

    # A full backup: everything, or one part; the files' warning and keep-old follow the choice.
    open_restore(full)
    only = Select(browser.find_element(By.ID, "restore-only"))
    assert only.first_selected_option.get_attribute("value") == ""
    assert browser.find_element(By.ID, "restore-warning").is_displayed()
    assert browser.find_element(By.ID, "restore-files-warning").is_displayed()
    assert browser.find_element(By.ID, "restore-keep-old").is_displayed()
    only.select_by_value("database")
    assert not browser.find_element(By.ID, "restore-files-warning").is_displayed()
    assert not browser.find_element(By.ID, "restore-keep-old").is_displayed()
    only.select_by_value("files")
    assert not browser.find_element(By.ID, "restore-warning").is_displayed()
    assert browser.find_element(By.ID, "restore-keep-old").is_displayed()
    close()

    # In Russian (chosen before: the modal dialog leaves the page behind it inert).
    Select(browser.find_element(By.ID, "language")).select_by_value("ru")
    text_is(browser, "#files legend", RU["files.title"])
    open_restore(full)
    text_is(browser, "label[for=restore-only]", RU["restore.only"])
    assert untranslated_texts(browser, RU) == []
    close()
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    text_is(browser, "#files legend", EN["files.title"])

    # A database backup: nothing to choose, no files replaced.
    open_restore(database)
    assert not browser.find_element(By.ID, "restore-only").is_displayed()
    assert not browser.find_element(By.ID, "restore-files-warning").is_displayed()
    assert not browser.find_element(By.ID, "restore-keep-old").is_displayed()
    close()
    server.api("PUT", "/api/settings/backup", {"directories": []})
    assert console_errors(browser) == []


def fingerprint(root):
    """Every entry below `root`: kind, mode and bytes (files) or target (symlinks), never followed."""
    entries = {}
    for directory, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(directory) / name
            relative = str(path.relative_to(root))
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                entries[relative] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                entries[relative] = ("dir", stat.S_IMODE(info.st_mode))
            else:
                entries[relative] = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
    return entries


def restore_from_the_page(browser, item, only="", keep_old=False):
    row(browser, item["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="restore"]').click()
    visible(browser, "#restore-dialog")
    Select(browser.find_element(By.ID, "restore-only")).select_by_value(only)
    if keep_old:
        browser.find_element(By.ID, "restore-keep-old").click()
    browser.find_element(By.ID, "restore-id-input").send_keys(item["id"][:8], Keys.ENTER)
    visible(browser, "#restore-banner")
    text_is(browser, "#restore-message", EN["restore.succeeded"].replace("{id}", item["id"][:8]), timeout=120)
    visible(browser, "#app")


def test_a_full_restore_from_the_page_gives_back_the_tree_and_the_database(workdir, browser):
    data = workdir / "restore-files"
    data.mkdir()
    harness.seed_database(data / "app.sqlite", rows=200, blob_kib=1)
    uploads = workdir / "restore-uploads"
    (uploads / "avatars" / "2024").mkdir(parents=True)
    (uploads / "avatars" / "2024" / "me.png").write_bytes(os.urandom(4096))
    (uploads / "readme.txt").write_text("version 1\n")
    (uploads / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (uploads / "run.sh").chmod(0o755)
    (uploads / "empty").mkdir()
    (uploads / "latest.png").symlink_to("avatars/2024/me.png")
    (uploads / "passwd").symlink_to("/etc/passwd")
    passwd = harness.sha256_file("/etc/passwd")
    server = harness.Server(data, workdir / "restore-files.log")
    try:
        server.api("PUT", "/api/settings/backup", {"directories": [str(uploads)]})
        full = server.backup_and_wait()
        assert full["status"] == "completed" and full["scope"] == "full"
        at_backup = fingerprint(uploads)
        rows_at_backup = harness.row_count(server.database)

        # Afterwards: a file changed, one deleted, one added, rows added.
        (uploads / "readme.txt").write_text("version 2\n")
        (uploads / "avatars" / "2024" / "me.png").unlink()
        (uploads / "added.txt").write_text("new since the backup\n")
        db = harness.sqlite3.connect(server.database)
        with db:
            db.executemany("INSERT INTO ledger(note, payload) VALUES (?, x'00')", [(f"after {i}",) for i in range(7)])
        db.close()

        sign_in(browser, server.base, harness.TOKEN)
        wait(browser).until(lambda d: row_status(d, full["id"]) == "completed")
        restore_from_the_page(browser, full, keep_old=True)
        assert fingerprint(uploads) == at_backup  # the changed and deleted files back, the added one gone
        assert harness.row_count(server.database) == rows_at_backup
        kept = list(workdir.glob("restore-uploads.pre-restore-*"))
        assert len(kept) == 1 and (kept[0] / "added.txt").read_text() == "new since the backup\n"
        assert harness.sha256_file("/etc/passwd") == passwd
        assert server.api("GET", "/api/status")["last_restore"]["outcome"] == "succeeded"

        # The files alone: the tree comes back, the rows added since stay, no old tree is kept.
        shutil.rmtree(kept[0])
        (uploads / "readme.txt").write_text("version 3\n")
        db = harness.sqlite3.connect(server.database)
        with db:
            db.execute("INSERT INTO ledger(note, payload) VALUES ('kept', x'00')")
        db.close()
        restore_from_the_page(browser, full, only="files")
        assert fingerprint(uploads) == at_backup
        assert harness.row_count(server.database) == rows_at_backup + 1
        assert list(workdir.glob("restore-uploads.pre-restore-*")) == []
        assert list(workdir.glob("restore-uploads.restore-*")) == []
        restart = ["/api/status:ERR_CONNECTION_REFUSED", "/api/events:ERR_CONNECTION_REFUSED",
                   "/api/status:ERR_EMPTY_RESPONSE", "/api/events:ERR_EMPTY_RESPONSE",
                   "/api/status:ERR_CONNECTION_RESET", "/api/events:ERR_CONNECTION_RESET"]
        assert console_errors(browser, expected=restart) == []
    finally:
        server.stop()
