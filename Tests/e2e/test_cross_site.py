"""Cross-site request forgery, tried as an attacker would: the victim is signed in to the
settings page; a page served from another port on the same loopback address (the same *site*,
so the SameSite=Strict cookie goes along) tries every state-changing route with fetch (simple
`text/plain` and no-cors requests, and the non-simple ones that need a preflight) and with
auto-submitted HTML forms. Nothing may change: backups, settings, the live database, the
session."""

import base64
import functools
import hashlib
import http.server
import json
import sqlite3
import threading

import pytest
from selenium.webdriver.common.by import By

import harness
from page import sign_in, visible, wait

ATTACK_JS = r"""
const base = arguments[0];
const id = arguments[1];
const bundle = arguments[2];
const routes = [
  ['POST', '/api/backups', '{"note": "forged"}'],
  ['POST', `/api/backups/${id}/restore`, '{"safety_backup": false}'],
  ['POST', `/api/backups/${id}/verify`, ''],
  ['POST', '/api/backups/prune', ''],
  ['POST', `/api/backups/${id}/download-link`, ''],
  ['PATCH', `/api/backups/${id}`, '{"note": "forged", "pinned": false}'],
  ['PUT', '/api/settings/backup', '{"enabled": true, "interval_hours": 1, "retention": {"keep_last": 1, "include_manual": true}}'],
  ['DELETE', `/api/backups/${id}`, ''],
  ['DELETE', '/api/session', ''],
];
const results = [];
async function attempt(label, url, init) {
  try {
    const response = await fetch(url, { credentials: 'include', ...init });
    results.push(`${label}: ${response.type} ${response.status}`);
  } catch (error) {
    results.push(`${label}: ${error}`);
  }
}
const bytes = Uint8Array.from(atob(bundle), (c) => c.charCodeAt(0));
for (const [method, path, body] of routes) {
  const url = base + path;
  const payload = ['GET', 'DELETE'].includes(method) ? undefined : body;
  // A simple request: text/plain, no preflight, sent with the cookie.
  await attempt(`${method} ${path} text/plain`, url, {
    method, mode: 'no-cors', body: payload, headers: { 'Content-Type': 'text/plain' } });
  // The same as a CORS request (DELETE, PUT and PATCH need a preflight, which fails).
  await attempt(`${method} ${path} cors`, url, { method, body: payload, headers: { 'Content-Type': 'text/plain' } });
  // A body without a type at all (a Blob), and one declared JSON (needs a preflight).
  await attempt(`${method} ${path} blob`, url, { method, mode: 'no-cors', body: payload === undefined ? undefined : new Blob([payload]) });
  await attempt(`${method} ${path} json`, url, {
    method, body: payload, headers: { 'Content-Type': 'application/json', 'X-Backup-CSRF': 'guessed' } });
}
// The attacker's own bundle, as an import.
await attempt('import no-cors', base + '/api/backups/import', { method: 'POST', mode: 'no-cors', body: new Blob([bytes]) });
await attempt('import text/plain', base + '/api/backups/import', {
  method: 'POST', mode: 'no-cors', body: new Blob([bytes], { type: 'text/plain' }) });
// Forms: text/plain bodies shaped as JSON, and url-encoded ones, into hidden frames.
const forms = [
  [`/api/backups/${id}/restore`, 'text/plain', '{"safety_backup": false, "x": "', '"}'],
  ['/api/backups', 'text/plain', '{"note": "forged form", "x": "', '"}'],
  ['/api/backups/prune', 'application/x-www-form-urlencoded', 'dry_run', 'false'],
  [`/api/backups/${id}/verify`, 'application/x-www-form-urlencoded', 'a', 'b'],
  ['/api/backups/import', 'multipart/form-data', 'bundle', 'x'],
];
let loaded = 0;
for (const [index, [path, enctype, name, value]] of forms.entries()) {
  const frame = document.createElement('iframe');
  frame.name = `target-${index}`;
  frame.addEventListener('load', () => { loaded += 1; });
  document.body.append(frame);
  const form = document.createElement('form');
  form.method = 'POST';
  form.action = base + path;
  form.enctype = enctype;
  form.target = frame.name;
  const input = document.createElement('input');
  input.type = 'hidden';
  input.name = name;
  input.value = value;
  form.append(input);
  document.body.append(form);
  form.submit();
}
const deadline = Date.now() + 20000;
while (loaded < forms.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
results.push(`forms loaded: ${loaded}`);
return results;
"""


def database_digest(path):
    """The live database's content: every row of the ledger, hashed."""
    db = sqlite3.connect(path)
    try:
        digest = hashlib.sha256()
        for row in db.execute("SELECT id, note, payload FROM ledger ORDER BY id"):
            digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        db.close()


class AttackerSite:
    """A second HTTP server on another loopback port: the page of some other local service."""

    def __init__(self, directory):
        (directory / "index.html").write_text("<!doctype html><title>a neighbour</title><p>hello</p>\n")
        handler = functools.partial(QuietHandler, directory=str(directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def attacker(workdir):
    directory = workdir / "attacker"
    directory.mkdir(exist_ok=True)
    site = AttackerSite(directory)
    yield site
    site.stop()


def state(server):
    backups = server.api("GET", "/api/backups?limit=500")["items"]
    return {
        "backups": sorted((b["id"], b["status"], b["note"], b["pinned"], b["sha256"]) for b in backups),
        "settings": server.api("GET", "/api/settings/backup"),
        "database": database_digest(server.database),
        "status": {k: v for k, v in server.api("GET", "/api/status").items() if k in ("state", "last_restore")},
    }


def test_a_page_on_another_loopback_port_changes_nothing(server, browser, attacker, workdir):
    # Two backups: one to aim at, one the attacker "brings" (deleted from the catalog, then
    # offered back as an import).
    target = server.backup_and_wait(note="target")
    foreign = server.backup_and_wait(note="foreign")
    bundle = (server.data_dir / "backups" / foreign["filename"]).read_bytes()
    server.api("DELETE", f"/api/backups/{foreign['id']}")
    server.api("PATCH", f"/api/backups/{target['id']}", {"pinned": True})
    # The database changes after the backup, so a restore would be visible.
    db = sqlite3.connect(server.database)
    with db:
        db.execute("INSERT INTO ledger(note, payload) VALUES ('after the backup', x'00')")
    db.close()
    before = state(server)
    assert before["status"]["state"] == "ready"

    sign_in(browser, server.base, harness.TOKEN)
    assert {c["name"] for c in browser.get_cookies()} >= {"backup_session"}

    browser.get(attacker.base + "/index.html")
    browser.set_script_timeout(60)
    results = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"(async () => {{ {ATTACK_JS} }})().then(done, (error) => done([String(error)]));",
        server.base, target["id"], base64.b64encode(bundle).decode())
    assert any(r.startswith("forms loaded: 5") for r in results), results
    # The simple requests did reach the server (an opaque answer), they just did nothing.
    assert any(r.endswith("opaque 0") for r in results), results

    # Whatever the server started would show within these few status reads.
    after = state(server)
    assert after == before, json.dumps({"before": before, "after": after}, indent=1)[:4000]
    assert not (server.data_dir / "backups" / foreign["filename"]).exists()

    # The victim is still signed in, and the page still works (it sends the CSRF header).
    browser.get(server.base + "/settings/backup")
    visible(browser, "#app")
    browser.find_element(By.ID, "backup-now").click()
    wait(browser, 60).until(lambda d: len(server.api("GET", "/api/backups?limit=500")["items"])
                            == len(before["backups"]) + 1)
