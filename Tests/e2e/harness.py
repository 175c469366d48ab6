"""The real pieces the browser tests drive: a seeded SQLite database, the real `backup-api`
binary on a free loopback port, and a headless Debian Chromium through Selenium."""

import hashlib
import json
import os
import random
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-token-0123456789abcdef"


def catalog(language):
    return json.loads((ROOT / "i18n" / f"{language}.json").read_text(encoding="utf-8"))


def bin_dir():
    if "BACKUP_BIN_DIR" in os.environ:
        return Path(os.environ["BACKUP_BIN_DIR"])
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def seed_database(path, rows=2000, blob_kib=8):
    """A WAL database of `rows` ledger rows, each with a blob half random and half repetitive,
    so a backup has real work to do (about rows × blob_kib KiB)."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE ledger(id INTEGER PRIMARY KEY, note TEXT NOT NULL, payload BLOB NOT NULL)")
    half = blob_kib * 512
    with db:
        for i in range(rows):
            payload = os.urandom(half) + (b"budget " * (half // 7 + 1))[:half]
            db.execute("INSERT INTO ledger(note, payload) VALUES (?, ?)", (f"row {i}", payload))
    db.close()


def seed_slow_database(path, rows=320):
    """A WAL database of 64 KiB DNA-like rows (4 letters at random): deflate at level 9 crawls on
    it (long match chains), so a backup of 20 MB lasts seconds even on all cores."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE ledger(id INTEGER PRIMARY KEY, note TEXT NOT NULL, payload BLOB NOT NULL)")
    generator = random.Random(1)
    with db:
        for i in range(rows):
            db.execute("INSERT INTO ledger(note, payload) VALUES (?, ?)",
                       (f"row {i}", bytes(generator.choices(b"ACGT", k=64 * 1024))))
    db.close()


def slow_server(workdir, name):
    """Its own server on a slow database at compression level 9: a backup there lasts seconds,
    long enough to watch or cancel it from the page."""
    data = Path(workdir) / name
    data.mkdir()
    seed_slow_database(data / "app.sqlite")
    server = Server(data, Path(workdir) / f"{name}.log")
    server.api("PUT", "/api/settings/backup", {"compression_level": 9})
    return data, server


def row_count(path):
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT count(*) FROM ledger").fetchone()[0]
    finally:
        db.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Server:
    """The real backup-api, listening on 127.0.0.1 only; `environment` adds to its environment
    (BACKUP_DATABASE for another database)."""

    def __init__(self, data_dir, log_path, environment=None):
        self.data_dir = Path(data_dir)
        self.database = self.data_dir / "app.sqlite"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "ab")
        env = dict(os.environ, BACKUP_API_TOKEN=TOKEN, **(environment or {}))
        self.process = subprocess.Popen(
            [str(bin_dir() / "backup-api"), "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", str(self.data_dir), "--assets-dir", str(ROOT)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.wait_healthy()

    def wait_healthy(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"backup-api exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)  # polling a condition with a deadline, not timing an assertion
        raise TimeoutError("backup-api did not answer /healthz")

    def api(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text else None

    def backup_and_wait(self, note=None, timeout=120):
        """Starts a backup and waits until it is settled."""
        info = self.api("POST", "/api/backups", {"note": note} if note else {})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = self.api("GET", f"/api/backups/{info['id']}")
            # Settled: the record is final and the job has released the lock (status ready).
            if current["status"] not in ("pending", "running") and self.api("GET", "/api/status")["state"] == "ready":
                return current
            time.sleep(0.1)
        raise TimeoutError("backup did not finish")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def chromium(download_dir, width=1280, height=1000, language="en-US"):
    """Debian's headless Chromium with its matching chromedriver; console messages are kept."""
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", f"--lang={language}", "--no-first-run",
                     "--disable-extensions", "--disable-background-networking"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(download_dir),
        "download.prompt_for_download": False,
        "intl.accept_languages": language,
    })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
    return driver


class PostgresCluster:
    """A PostgreSQL server of the test's own: initdb and pg_ctl (as `postgres` when running as
    root, since PostgreSQL refuses root) in `directory`, on a free loopback port, trust
    authentication; the highest /usr/lib/postgresql/*/bin."""

    def __init__(self, directory):
        import glob
        import shutil

        found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
        if not found:
            raise RuntimeError("PostgreSQL's server is missing (Debian package postgresql; make setup installs it)")
        self.bin = Path(max(found, key=lambda p: int(Path(p).parent.parent.name.split(".")[0]))).parent
        self.root = Path(directory)
        self.root.mkdir(parents=True)
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            for folder in (self.root, *self.root.parents):
                if folder == Path("/"):
                    break
                folder.chmod(folder.stat().st_mode | 0o005)  # postgres must reach its directory
            shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._run("pg_ctl", "-D", str(data), "-l", str(self.root / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start")

    def _run(self, tool, *arguments):
        subprocess.run(self.as_postgres + [str(self.bin / tool), *arguments], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL)

    def url(self, database, password=None):
        user = "postgres" if password is None else f"postgres:{password}"
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql, database="postgres"):
        return subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, self.url(database)],
                              check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL).stdout.strip()

    def stop(self):
        subprocess.run(self.as_postgres + [str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast",
                                           "-w", "stop"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
