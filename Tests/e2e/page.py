"""What a test does and reads on the settings page."""

import re
import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

# Every text node a person can see, skipping data from the server or Intl (`data-value`),
# plus the accessible names and labels the page sets (except on values).
VISIBLE_TEXT_JS = r"""
const texts = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode;
  const text = node.textContent.trim();
  const parent = node.parentElement;
  if (!text || !parent || parent.closest('[data-value]')) continue;
  if (parent.tagName === 'OPTION') {
    if (!parent.closest('select').checkVisibility()) continue;
  } else if (!parent.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
  texts.push({ kind: 'text', value: text });
}
for (const element of document.querySelectorAll('[aria-label], [title], [placeholder], td[data-label]')) {
  if (element.closest('[data-value]')) continue;  // a value's own attributes (a short id's full id)
  for (const name of ['aria-label', 'title', 'placeholder', 'data-label']) {
    const value = element.getAttribute(name);
    if (value) texts.push({ kind: name, value });
  }
}
texts.push({ kind: 'title', value: document.title });
return texts;
"""


def template_pattern(value):
    """A translation as a regular expression: `{name}` placeholders match any text."""
    parts = re.split(r"\{\w+\}", value)
    return re.compile(".+".join(re.escape(part) for part in parts), re.DOTALL)


def untranslated_texts(driver, catalog):
    """Visible strings that are not a value (or filled template) of `catalog`."""
    patterns = [template_pattern(v) for v in catalog.values()]
    exact = set(catalog.values())
    return [t for t in driver.execute_script(VISIBLE_TEXT_JS)
            if t["value"] not in exact and not any(p.fullmatch(t["value"]) for p in patterns)]


def wait(driver, timeout=30):
    # The page re-renders its lists (a language switch, a poll), so an element found in one poll
    # can be detached before its text is read: that is "not yet", not a failure.
    return WebDriverWait(driver, timeout, poll_frequency=0.05,
                         ignored_exceptions=[StaleElementReferenceException])


def visible(driver, selector, timeout=30):
    return wait(driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))


def text_is(driver, selector, text, timeout=30):
    wait(driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text))
    return driver.find_element(By.CSS_SELECTOR, selector).text


def sign_in(driver, base, token):
    driver.get(base + "/settings/backup")
    visible(driver, "#token-input").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
    visible(driver, "#app")
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#stat-count") and d.find_element(
        By.CSS_SELECTOR, "#stat-count").text.strip())


def row(driver, backup_id):
    return driver.find_element(By.CSS_SELECTOR, f'#backup-rows tr[data-id="{backup_id}"]')


def row_status(driver, backup_id):
    """The row's status, read in the page (a row re-rendered meanwhile is never stale)."""
    return driver.execute_script(
        "const row = document.querySelector(`#backup-rows tr[data-id=\"${arguments[0]}\"]`);"
        "return row ? row.dataset.status : null;", backup_id)


def set_field(driver, selector, value):
    field = driver.find_element(By.CSS_SELECTOR, selector)
    field.clear()
    field.send_keys(str(value))


def console_errors(driver, expected=()):
    """SEVERE console entries: script errors, and failed requests except the `expected` ones,
    given as "path:status" ("/api/settings/backup:422") or "path:ERR_…" (a refused connection
    while the server restarts). Chromium logs every failed request, also those a test provokes."""
    def is_expected(entry):
        found = re.search(r"(/api/\S*) - Failed to load resource: (?:.* status of (\d+)|net::(ERR_\w+))",
                          entry["message"])
        return entry["source"] == "network" and found and f"{found[1]}:{found[2] or found[3]}" in expected
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE" and not is_expected(entry)]


def wait_for_file(directory, suffix, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in directory.iterdir() if p.name.endswith(suffix)]
        if done and not any(p.name.endswith(".crdownload") for p in directory.iterdir()):
            return done[0]
        time.sleep(0.1)  # polling for the download to land, with a deadline
    raise TimeoutError(f"no *{suffix} in {directory}")
