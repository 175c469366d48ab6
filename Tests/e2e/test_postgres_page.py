"""The page of a server whose database is PostgreSQL (issue 18): a real PostgreSQL server of the
test's own, the real backup-api with BACKUP_DATABASE=postgresql://…, real Chromium."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import harness
from page import console_errors, row, row_status, sign_in, text_is, untranslated_texts, visible, wait

EN = harness.catalog("en")
RU = harness.catalog("ru")
PASSWORD = "page-test-password-never-shown"


@pytest.fixture(scope="module")
def postgres(workdir):
    cluster = harness.PostgresCluster(workdir / "postgres")
    cluster.psql("CREATE DATABASE app")
    cluster.psql("CREATE TABLE ledger (id bigserial PRIMARY KEY, amount int NOT NULL); "
                 "INSERT INTO ledger (amount) SELECT 1 FROM generate_series(1, 300)", database="app")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def pg_server(workdir, postgres):
    data = workdir / "pg-data"
    data.mkdir()
    # The password in the URL (trust authentication ignores it): the page must never show it.
    server = harness.Server(data, workdir / "pg-server.log",
                            environment={"BACKUP_DATABASE": postgres.url("app", password=PASSWORD)})
    yield server
    server.stop()


def test_overview_and_restore_dialog_name_postgresql_without_the_password(pg_server, postgres, browser):
    info = pg_server.backup_and_wait(note="postgres point")
    assert info["status"] == "completed", info
    redacted = postgres.url("app")
    status = pg_server.api("GET", "/api/status")
    assert status["database"] == {"kind": "postgresql", "location": redacted}

    sign_in(browser, pg_server.base, harness.TOKEN)
    text_is(browser, "#stat-database", f"PostgreSQL · {redacted}")
    assert untranslated_texts(browser, EN) == []
    wait(browser).until(lambda d: row_status(d, info["id"]) == "completed")
    row(browser, info["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="restore"]').click()
    visible(browser, "#restore-dialog")
    expected = EN["restore.warning_postgresql"].replace("{location}", redacted)
    assert browser.find_element(By.ID, "restore-warning").text == expected
    assert PASSWORD not in browser.page_source
    browser.find_element(By.CSS_SELECTOR, "#restore-dialog [data-close]").click()

    Select(browser.find_element(By.ID, "language")).select_by_value("ru")
    text_is(browser, "h1", RU["app.title"])
    assert browser.find_element(By.ID, "stat-database").text == f"PostgreSQL · {redacted}"
    row(browser, info["id"]).find_element(By.CSS_SELECTOR, 'button[data-action="restore"]').click()
    visible(browser, "#restore-dialog")
    assert browser.find_element(By.ID, "restore-warning").text == RU["restore.warning_postgresql"].replace(
        "{location}", redacted)
    assert untranslated_texts(browser, RU) == []
    browser.find_element(By.CSS_SELECTOR, "#restore-dialog [data-close]").click()
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    assert PASSWORD not in browser.page_source
    assert console_errors(browser) == []
