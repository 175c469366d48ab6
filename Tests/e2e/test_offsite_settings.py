"""The "Off-site copy" section (issue 15, points 2 and 5): the bucket's settings save and come
back after a reload, the secret goes to the server but never into the page (its field stays
empty, the placeholder only says a secret is saved), field errors from the API sit beside their
fields, and "Test connection" names what failed."""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import harness
from page import console_errors, set_field, sign_in, text_is, untranslated_texts, wait

EN = harness.catalog("en")
RU = harness.catalog("ru")
SECRET = "e2eSecretKey/0123456789abcdefghijklmnopqrs"


def field(browser, name):
    return browser.find_element(By.ID, f"offsite-{name}")


def secret_in_page(browser):
    """Whether the secret is anywhere in the page: its markup or any control's current value."""
    values = browser.execute_script(
        "return [...document.querySelectorAll('input, select, textarea')].map(e => e.value)")
    return SECRET in browser.page_source or any(SECRET in value for value in values)


def test_offsite_section_saves_reloads_and_never_shows_the_secret(server, browser):
    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: field(d, "region").get_attribute("value") == "us-east-1")
    assert field(browser, "prefix").get_attribute("value") == "backups"
    assert field(browser, "secret-access-key").get_attribute("placeholder") == EN["offsite.secret_not_set"]

    # A bad bucket: the API names the field and the page marks it.
    set_field(browser, "#offsite-bucket", "Not_A_Bucket")
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#offsite-bucket-error", EN["settings.error.offsite.bucket"])
    assert field(browser, "bucket").get_attribute("aria-invalid") == "true"

    field(browser, "enabled").click()
    set_field(browser, "#offsite-endpoint", "http://127.0.0.1:9")
    set_field(browser, "#offsite-bucket", "team-backups")
    set_field(browser, "#offsite-prefix", "prod/db/")
    field(browser, "path-style").click()
    set_field(browser, "#offsite-access-key-id", "AKIAIOSFODNN7EXAMPLE")
    set_field(browser, "#offsite-secret-access-key", SECRET)
    set_field(browser, "#offsite-keep-last", 4)
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#settings-status", EN["settings.saved"])

    saved = server.api("GET", "/api/settings/backup")["offsite"]
    assert saved["enabled"] and saved["path_style"] and saved["secret_access_key_set"]
    assert (saved["bucket"], saved["prefix"], saved["keep_last"]) == ("team-backups", "prod/db", 4)
    assert "secret_access_key" not in saved
    assert (server.data_dir / "offsite-secret").read_text() == SECRET + "\n"
    # Saved, the field is empty again and its placeholder only says a secret is there.
    assert field(browser, "secret-access-key").get_attribute("value") == ""
    assert field(browser, "secret-access-key").get_attribute("placeholder") == EN["offsite.secret_set"]
    assert not secret_in_page(browser)

    browser.refresh()
    wait(browser).until(lambda d: field(d, "bucket").get_attribute("value") == "team-backups")
    assert field(browser, "enabled").is_selected() and field(browser, "path-style").is_selected()
    assert field(browser, "endpoint").get_attribute("value") == "http://127.0.0.1:9"
    assert field(browser, "prefix").get_attribute("value") == "prod/db"
    assert field(browser, "keep-last").get_attribute("value") == "4"
    assert field(browser, "secret-access-key").get_attribute("value") == ""
    assert field(browser, "secret-access-key").get_attribute("placeholder") == EN["offsite.secret_set"]
    assert not secret_in_page(browser)

    # Saving again with the secret field left empty keeps the stored secret.
    set_field(browser, "#offsite-keep-last", 5)
    browser.find_element(By.ID, "settings-save").click()
    wait(browser).until(lambda d: server.api("GET", "/api/settings/backup")["offsite"]["keep_last"] == 5)
    assert (server.data_dir / "offsite-secret").read_text() == SECRET + "\n"

    Select(browser.find_element(By.ID, "language")).select_by_value("ru")
    text_is(browser, "#offsite legend", RU["offsite.title"])
    assert field(browser, "secret-access-key").get_attribute("placeholder") == RU["offsite.secret_set"]
    assert untranslated_texts(browser, RU) == []
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    text_is(browser, "#offsite legend", EN["offsite.title"])
    assert untranslated_texts(browser, EN) == []

    server.api("PUT", "/api/settings/backup", {"offsite": {"enabled": False, "secret_access_key": ""}})
    assert not (server.data_dir / "offsite-secret").exists()
    assert console_errors(browser, expected=["/api/settings/backup?dry_run=true:422"]) == []


def start_moto(workdir):
    """moto's S3 server with signature checking on; returns (process, endpoint, keys)."""
    port = harness.free_port()
    endpoint = f"http://127.0.0.1:{port}"
    venv = harness.ROOT / ".venv" / "bin"
    log = open(workdir / "moto.log", "ab")
    process = subprocess.Popen([str(venv / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                               env=dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=2).close()
            break
        except urllib.error.HTTPError:
            break
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)  # polling a condition with a deadline, not timing an assertion
    setup = subprocess.run([str(venv / "python"), str(harness.ROOT / "scripts/test/moto_setup.py"), endpoint,
                            "us-east-1", "e2e-bucket"], capture_output=True, text=True, check=True)
    return process, endpoint, json.loads(setup.stdout)


def test_connection_button_names_the_outcome(server, browser, workdir):
    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: field(d, "region").get_attribute("value") == "us-east-1")
    # Nothing listens there: a connection failure, named; the form's values are tried, not saved.
    set_field(browser, "#offsite-endpoint", f"http://127.0.0.1:{harness.free_port()}")
    set_field(browser, "#offsite-bucket", "nobody-home")
    if not field(browser, "path-style").is_selected():
        field(browser, "path-style").click()
    set_field(browser, "#offsite-access-key-id", "AKIAIOSFODNN7EXAMPLE")
    set_field(browser, "#offsite-secret-access-key", SECRET)
    browser.find_element(By.ID, "offsite-test").click()
    wait(browser).until(lambda d: field(d, "test-result").get_attribute("data-kind") == "connection")
    assert field(browser, "test-result").text.startswith(EN["offsite.kind.connection"])
    assert server.api("GET", "/api/settings/backup")["offsite"]["bucket"] != "nobody-home"

    process, endpoint, keys = start_moto(workdir)
    try:
        set_field(browser, "#offsite-endpoint", endpoint)
        set_field(browser, "#offsite-bucket", "e2e-bucket")
        set_field(browser, "#offsite-access-key-id", keys["access_key_id"])
        set_field(browser, "#offsite-secret-access-key", "WrongSecret0123456789")
        browser.find_element(By.ID, "offsite-test").click()
        wait(browser).until(lambda d: field(d, "test-result").get_attribute("data-kind") == "signature")
        assert field(browser, "test-result").text.startswith(EN["offsite.kind.signature"])

        set_field(browser, "#offsite-secret-access-key", keys["secret_access_key"])
        browser.find_element(By.ID, "offsite-test").click()
        text_is(browser, "#offsite-test-result", EN["offsite.test_ok"])
        Select(browser.find_element(By.ID, "language")).select_by_value("ru")
        text_is(browser, "#offsite-test-result", RU["offsite.test_ok"])
        Select(browser.find_element(By.ID, "language")).select_by_value("en")
    finally:
        process.kill()
        process.wait()
    assert console_errors(browser, expected=["/api/settings/offsite/test:502"]) == []


def test_each_backup_shows_its_offsite_state(server, browser):
    """A backup whose upload failed (nothing listens at the endpoint) carries the failed off-site
    badge and its reason in the list, in both languages; the local backup itself completed."""
    server.api("PUT", "/api/settings/backup", {"offsite": {
        "enabled": True, "endpoint": f"http://127.0.0.1:{harness.free_port()}", "bucket": "nobody-home",
        "path_style": True, "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": SECRET}})
    info = server.backup_and_wait()
    assert info["status"] == "completed"
    deadline = time.monotonic() + 120
    while server.api("GET", f"/api/backups/{info['id']}")["offsite"]["status"] != "failed":
        assert time.monotonic() < deadline, "the upload did not fail"
        time.sleep(0.1)

    sign_in(browser, server.base, harness.TOKEN)
    badge = '[data-offsite="failed"]'
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, badge))
    assert browser.find_element(By.CSS_SELECTOR, badge).text.endswith(EN["offsite.status.failed"])
    assert browser.find_element(By.CSS_SELECTOR, ".offsite-reason").text != ""
    Select(browser.find_element(By.ID, "language")).select_by_value("ru")
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, badge).text.endswith(RU["offsite.status.failed"]))
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    assert not secret_in_page(browser)
