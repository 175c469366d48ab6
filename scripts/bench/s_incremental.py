"""Incremental backups: a series of backups of one database that changes 1% between them, stored as
incremental backups (one repository), as ten full zstd bundles, and by `restic backup` of the same
file, all in the same run and after the same changes.

The change between two backups is 1% of the rows, with the locality real applications have: 0.5%
of the rows appended and 0.5% updated in one contiguous id range at a random offset (a column with
no index). That is also about 1% of the pages. A uniform random 1% of row updates touches far more
pages (with ~40 rows per 4 KiB page, about a third of the pages, and nearly every 64 KiB chunk):
it is measured once, as an informative line, because no page-level deduplication can help there.
"""

import glob
import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess

from measure import Sample, fresh_dir, timed, warm

SECTION = "Incremental backups"
ROUNDS = 10


def change(path, rng, uniform=False):
    """Changes 1% of the rows of the bench database at `path` (see the module's text)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    for table, column in (("attachment", "owner"), ("entry", "amount")):
        (count, top) = db.execute(f"SELECT count(*), max(id) FROM {table}").fetchone()
        share = max(1, count // 200)  # 0.5% of the rows
        if uniform:
            ids = rng.sample(range(1, top + 1), 2 * share)
            db.executemany(f"UPDATE {table} SET {column} = {column} + 1 WHERE id = ?", [(i,) for i in ids])
            continue
        start = rng.randrange(1, max(2, top - share))
        db.execute(f"UPDATE {table} SET {column} = {column} + 1 WHERE id BETWEEN ? AND ?", (start, start + share - 1))
        if table == "attachment":
            db.executemany("INSERT INTO attachment (owner, data) VALUES (?, ?)",
                           [(rng.randrange(1000), rng.randbytes(1000)) for _ in range(share)])
        else:
            db.executemany("INSERT INTO entry (created_at, amount, memo) VALUES (?, ?, ?)",
                           [("2026-11-26", rng.randrange(-1000, 1000), " ".join(rng.choices(
                               ["ledger", "payment", "invoice", "coffee", "rent"], k=200))) for _ in range(share)])
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def our_create(ctx, data_dir, database):
    """One `backup create --json`: (seconds, the record)."""
    seconds, _, out = timed(ctx.cli(data_dir, database, "create", "--json"))
    return seconds, json.loads(out)


def settings(ctx, data_dir, database, *pairs):
    subprocess.run(ctx.cli(data_dir, database, "settings", "set", *pairs), check=True, stdout=subprocess.DEVNULL)


def fingerprint(path):
    """A hash of every table's rows in rowid order: equal when two databases hold the same content."""
    digest = hashlib.sha256()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
        digest.update(table.encode())
        for row in db.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
            digest.update(repr(row).encode())
    db.close()
    return digest.hexdigest()


def restore_exactly(ctx, incremental, bundles, database, ids, bundle_ids, expected):
    """Deletes the first incremental backup, prunes, verifies the second with --read-data and
    restores it over the scratch database; then the second bundle, the reference. Both must give
    the content the database had when they were taken. Returns (incremental s, bundle s)."""
    quiet = dict(check=True, stdout=subprocess.DEVNULL)
    subprocess.run(ctx.cli(incremental, database, "delete", ids[0], "--yes"), **quiet)
    subprocess.run(ctx.cli(incremental, database, "prune"), **quiet)
    subprocess.run(ctx.cli(incremental, database, "verify", ids[1], "--read-data"), **quiet)
    seconds = {}
    for name, data_dir, backup_id in (("incremental", incremental, ids[1]), ("bundle", bundles, bundle_ids[1])):
        seconds[name], _, _ = timed(ctx.cli(data_dir, database, "restore", backup_id, "--yes", "--no-safety-backup"))
        if fingerprint(database) != expected:
            raise RuntimeError(f"the restored {name} backup {backup_id} does not hold the content it was taken from")
    return seconds["incremental"], seconds["bundle"]


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def run(ctx, source):
    work = fresh_dir(ctx.path("run", "incremental"))
    database = os.path.join(work, "live.sqlite")
    shutil.copyfile(source, database)
    incremental = fresh_dir(os.path.join(work, "incremental"))
    bundles = fresh_dir(os.path.join(work, "bundles"))
    settings(ctx, incremental, database, "format=incremental", "codec=zstd", "compression_level=1",
             "retention.keep_last=100")
    settings(ctx, bundles, database, "format=bundle", "codec=zstd", "compression_level=1", "retention.keep_last=100")
    restic = shutil.which("restic")
    restic_repo = os.path.join(work, "restic")
    restic_env = dict(os.environ, RESTIC_PASSWORD="bench", RESTIC_REPOSITORY=restic_repo,
                      RESTIC_CACHE_DIR=os.path.join(work, "restic-cache"))
    if restic:
        subprocess.run([restic, "init", "--quiet"], env=restic_env, check=True, stdout=subprocess.DEVNULL)

    rng = random.Random(20)
    times = {key: [] for key in ("incremental", "bundle", "restic")}
    added = []
    ids, bundle_ids = [], []
    second_content = None
    bundle_bytes = []
    logical = []
    for round_index in range(ROUNDS):
        if round_index > 0:
            change(database, rng)
        if round_index == 1:
            second_content = fingerprint(database)
        warm(database)
        seconds, record = our_create(ctx, incremental, database)
        ids.append(record["id"])
        times["incremental"].append(seconds)
        added.append(record["size_bytes"])
        logical.append(record.get("logical_bytes") or os.path.getsize(database))
        seconds, record = our_create(ctx, bundles, database)
        bundle_ids.append(record["id"])
        times["bundle"].append(seconds)
        bundle_bytes.append(record["size_bytes"])
        if restic:
            seconds, _, _ = timed([restic, "backup", "--quiet", database], env=restic_env)
            times["restic"].append(seconds)
        print(f"  incremental round {round_index + 1}/{ROUNDS}: added {added[-1] / 1e6:.1f} MB in "
              f"{times['incremental'][-1]:.2f} s; bundle {bundle_bytes[-1] / 1e6:.1f} MB in {times['bundle'][-1]:.2f} s"
              + (f"; restic {times['restic'][-1]:.2f} s" if restic else ""), flush=True)

    repository_bytes = du(os.path.join(incremental, "backups", "repository"))
    bundles_total = sum(os.path.getsize(path) for path in glob.glob(os.path.join(bundles, "backups", "*.tar.zst")))
    total = lambda key: Sample(key, "s", [sum(times[key])])  # noqa: E731
    ctx.add(SECTION, f"{ROUNDS} backups, 1% local change each: bytes stored",
            Sample("ours", "MB", [repository_bytes / 1e6]), f"{ROUNDS} full zstd-1 bundles (ours)",
            Sample("bundles", "MB", [bundles_total / 1e6]))
    ctx.add(SECTION, f"{ROUNDS} backups, 1% local change each: total time", total("incremental"),
            f"{ROUNDS} full zstd-1 bundles (ours)", total("bundle"))
    ctx.add(SECTION, "second backup against the first: bytes added", Sample("second", "MB", [added[1] / 1e6]),
            "the first backup", Sample("first", "MB", [added[0] / 1e6]), target=("≤ 0.05× (bar 0.10×)", 0.05))
    ctx.add(SECTION, "second backup against the first: time", Sample("second", "s", [times["incremental"][1]]),
            "the first backup", Sample("first", "s", [times["incremental"][0]]), target=("≤ 0.40× (bar 0.60×)", 0.40))
    later = times["incremental"][1:]
    ctx.add(SECTION, "a later backup (median of 9) against a full zstd-1 bundle",
            Sample("incremental", "s", later), "a full zstd-1 bundle (median of 9)",
            Sample("bundle", "s", times["bundle"][1:]))
    if restic:
        restic_bytes = du(restic_repo)
        ctx.add(SECTION, f"{ROUNDS} backups, 1% local change each: bytes stored",
                Sample("ours", "MB", [repository_bytes / 1e6]), "`restic backup` of the file (encrypted, its own "
                "compression)", Sample("restic", "MB", [restic_bytes / 1e6]), target=("fewer bytes than restic", 1.0))
        ctx.add(SECTION, f"{ROUNDS} backups, 1% local change each: total time", total("incremental"),
                "`restic backup` of the file", total("restic"), target=("less time than restic", 1.0))
        ctx.facts["restic_bytes"] = restic_bytes
    else:
        ctx.facts["restic"] = "restic is not installed: the restic rows are missing"

    # Informative: a uniform random 1% of row updates (pages everywhere change).
    change(database, rng, uniform=True)
    seconds, record = our_create(ctx, incremental, database)
    ctx.add(SECTION, "informative: one backup after 1% uniformly random row updates: bytes added",
            Sample("added", "MB", [record["size_bytes"] / 1e6]), "the first backup",
            Sample("first", "MB", [added[0] / 1e6]),
            note="no page-level deduplication helps here: nearly every 64 KiB chunk holds a changed row")
    # The acceptance's last step: the first backup deleted and pruned, the second still whole.
    restored, restored_bundle = restore_exactly(ctx, incremental, bundles, database, ids, bundle_ids, second_content)
    ctx.add(SECTION, "after deleting the first backup and pruning: restore of the second (verify --read-data "
            "passed first; the restored content equals the database's when it was taken)",
            Sample("incremental", "s", [restored]), "restore of the same backup as a full zstd-1 bundle",
            Sample("bundle", "s", [restored_bundle]), note="checked, not a target: a mismatch stops the bench")
    ctx.facts["incremental_rounds"] = ROUNDS
    ctx.facts["incremental_added"] = added
    ctx.facts["incremental_logical"] = logical
    ctx.facts["incremental_repository_bytes"] = repository_bytes
    ctx.facts["incremental_bundles_bytes"] = bundles_total
    fresh_dir(work)
