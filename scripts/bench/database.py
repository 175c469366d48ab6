"""Generates the benchmark databases: WAL mode, half incompressible, half compressible text."""

import os
import random
import sqlite3

WORDS = ("account amount balance budget category currency date expense family grocery income "
         "invoice ledger month note payment receipt rent salary savings transfer utilities weekly "
         "yearly coffee travel school insurance mortgage electricity water internet phone fuel "
         "restaurant pharmacy gift charity subscription tax refund bonus interest dividend").split()


def generate(path, size_mb, seed=7):
    """Creates `path` (replacing it) of about `size_mb` MB: random blobs and wordy text rows in
    equal shares, so gzip -1 leaves a bit more than half of it. Deterministic for a seed."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    rng = random.Random(seed)
    target = size_mb * 1_000_000
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("CREATE TABLE attachment (id INTEGER PRIMARY KEY, owner INTEGER, data BLOB)")
    db.execute("CREATE TABLE entry (id INTEGER PRIMARY KEY, created_at TEXT, amount INTEGER, memo TEXT)")
    db.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)")
    db.executemany("INSERT INTO counter VALUES (?, 0)", [(i,) for i in range(100)])
    db.execute("BEGIN")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    while db.execute("PRAGMA page_count").fetchone()[0] * page_size < target:
        blobs = [(rng.randrange(1000), rng.randbytes(1000)) for _ in range(1000)]
        db.executemany("INSERT INTO attachment (owner, data) VALUES (?, ?)", blobs)
        texts = []
        for _ in range(600):
            memo = " ".join(rng.choices(WORDS, k=rng.randrange(150, 250)))
            texts.append((f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                          rng.randrange(-100000, 100000), memo))
        db.executemany("INSERT INTO entry (created_at, amount, memo) VALUES (?, ?, ?)", texts)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


def cached(work_dir, size_mb):
    """The generated database of `size_mb` MB, made once and kept under the work directory."""
    path = os.path.join(work_dir, f"source-{size_mb}mb.sqlite")
    marker = path + ".done"
    if not (os.path.exists(path) and os.path.exists(marker)):
        generate(path, size_mb)
        with open(marker, "w") as handle:
            handle.write("ok\n")
    return path
