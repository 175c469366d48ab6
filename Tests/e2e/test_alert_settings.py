"""The "Alerts and heartbeat" section (issue 19, points 2 and 3): the heartbeat URL and the
Telegram settings save and come back after a reload, the bot token goes to the server but never
into the page (its field stays empty, the placeholder only says a token is saved), field errors
from the API sit beside their fields, in English and Russian."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import harness
from page import console_errors, set_field, sign_in, text_is, untranslated_texts, wait

EN = harness.catalog("en")
RU = harness.catalog("ru")
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"


def field(browser, name):
    return browser.find_element(By.ID, f"alerts-{name}")


def token_in_page(browser):
    """Whether the bot token is anywhere in the page: its markup or any control's current value."""
    values = browser.execute_script(
        "return [...document.querySelectorAll('input, select, textarea')].map(e => e.value)")
    return TOKEN in browser.page_source or any(TOKEN in value for value in values)


def test_alerts_section_saves_reloads_and_never_shows_the_token(server, browser):
    sign_in(browser, server.base, harness.TOKEN)
    wait(browser).until(lambda d: field(d, "telegram-api-base").get_attribute("value") == "https://api.telegram.org")
    assert field(browser, "telegram-bot-token").get_attribute("placeholder") == EN["alerts.token_not_set"]
    assert not field(browser, "on-success").is_selected()

    # A bad chat id and a plain-http Bot API elsewhere: the API names both fields.
    set_field(browser, "#alerts-telegram-chat-id", "general chat")
    set_field(browser, "#alerts-telegram-api-base", "http://bot.example.com")
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#alerts-telegram-chat-id-error", EN["settings.error.alerts.telegram_chat_id"])
    text_is(browser, "#alerts-telegram-api-base-error", EN["settings.error.alerts.telegram_api_base"])
    assert field(browser, "telegram-chat-id").get_attribute("aria-invalid") == "true"

    set_field(browser, "#heartbeat_url", "https://hc-ping.com/0f1c2d3e")
    set_field(browser, "#alerts-telegram-bot-token", TOKEN)
    set_field(browser, "#alerts-telegram-chat-id", "-1001234567890")
    set_field(browser, "#alerts-telegram-api-base", "http://127.0.0.1:8081")
    Select(field(browser, "language")).select_by_value("ru")
    field(browser, "on-success").click()
    browser.find_element(By.ID, "settings-save").click()
    text_is(browser, "#settings-status", EN["settings.saved"])

    saved = server.api("GET", "/api/settings/backup")
    assert saved["heartbeat_url"] == "https://hc-ping.com/0f1c2d3e"
    alerts = saved["alerts"]
    assert alerts["telegram_bot_token_set"] and alerts["on_success"]
    assert (alerts["telegram_chat_id"], alerts["telegram_api_base"], alerts["language"]) == (
        "-1001234567890", "http://127.0.0.1:8081", "ru")
    assert "telegram_bot_token" not in alerts
    assert (server.data_dir / "telegram-token").read_text() == TOKEN + "\n"
    assert field(browser, "telegram-bot-token").get_attribute("value") == ""
    assert field(browser, "telegram-bot-token").get_attribute("placeholder") == EN["alerts.token_set"]
    assert not token_in_page(browser)

    browser.refresh()
    wait(browser).until(lambda d: field(d, "telegram-chat-id").get_attribute("value") == "-1001234567890")
    assert browser.find_element(By.ID, "heartbeat_url").get_attribute("value") == "https://hc-ping.com/0f1c2d3e"
    assert field(browser, "on-success").is_selected()
    assert Select(field(browser, "language")).first_selected_option.get_attribute("value") == "ru"
    assert field(browser, "telegram-bot-token").get_attribute("placeholder") == EN["alerts.token_set"]
    assert not token_in_page(browser)

    # Saving again with the token field left empty keeps the stored token.
    field(browser, "on-success").click()
    browser.find_element(By.ID, "settings-save").click()
    wait(browser).until(lambda d: not server.api("GET", "/api/settings/backup")["alerts"]["on_success"])
    assert (server.data_dir / "telegram-token").read_text() == TOKEN + "\n"

    Select(browser.find_element(By.ID, "language")).select_by_value("ru")
    text_is(browser, "#alerts legend", RU["alerts.title"])
    assert field(browser, "telegram-bot-token").get_attribute("placeholder") == RU["alerts.token_set"]
    assert untranslated_texts(browser, RU) == []
    Select(browser.find_element(By.ID, "language")).select_by_value("en")
    text_is(browser, "#alerts legend", EN["alerts.title"])
    assert untranslated_texts(browser, EN) == []

    server.api("PUT", "/api/settings/backup", {"heartbeat_url": None, "alerts": {"telegram_bot_token": ""}})
    assert not (server.data_dir / "telegram-token").exists()
    assert console_errors(browser, expected=["/api/settings/backup?dry_run=true:422"]) == []
