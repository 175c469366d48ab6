"""A continuous writer, as an application would be: paced commits into the database until its
standard input closes, then a JSON report of every commit's latency on standard output.

Run as a separate process: python3 writer.py DB RATE. Each transaction inserts a 1 KB row and
updates a counter. The connection has no busy timeout, so every SQLITE_BUSY is seen and counted
(and retried after 1 ms, the retry time counted in that commit's latency).
"""

import json
import os
import random
import sqlite3
import sys
import threading
import time


def main():
    path, rate = sys.argv[1], float(sys.argv[2])
    db = sqlite3.connect(path, timeout=0, isolation_level=None)
    db.execute("PRAGMA synchronous = NORMAL")
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    rng = random.Random(1)
    interval = 1.0 / rate
    commits = []  # (monotonic start, latency in seconds, SQLITE_BUSY retries)
    busy = 0
    next_at = time.monotonic()
    print("ready", file=sys.stderr, flush=True)
    while not stop.is_set():
        now = time.monotonic()
        if now < next_at:
            time.sleep(next_at - now)
        next_at += interval
        started = time.monotonic()
        retries = 0
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO attachment (owner, data) VALUES (?, ?)", (1, rng.randbytes(1024)))
                db.execute("UPDATE counter SET value = value + 1 WHERE id = ?", (rng.randrange(100),))
                db.execute("COMMIT")
                break
            except sqlite3.OperationalError as error:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                busy += 1
                retries += 1
                time.sleep(0.001)
        commits.append((started, time.monotonic() - started, retries))
    json.dump({"clock": "monotonic", "busy": busy, "commits": commits}, sys.stdout)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
