#!/usr/bin/env python3
"""Runs every benchmark of Backup Manager against its reference and writes the report.

    .venv/bin/python scripts/bench/bench.py --bin "$(swift build -c release --show-bin-path)"

`make bench` builds release, installs the reference tools and calls this with the BENCH_*
variables. Never part of `make test`.
"""

import argparse
import datetime
import os
import shlex
import shutil
import sys
import time

import database
import report
import s_catalog
import s_compress
import s_encryption
import s_files
import s_incremental
import s_offsite
import s_postgres
import s_server
import s_writer
from context import Context

SECTIONS = ["compress", "writer", "server", "catalog", "offsite", "encryption", "files", "postgres", "incremental"]
# The sections that read the generated SQLite databases.
SQLITE_SECTIONS = {"compress", "writer", "server", "catalog", "encryption", "incremental"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="directory holding the release `backup` and `backup-api`")
    parser.add_argument("--work", default="bench-work", help="scratch directory (kept: generated databases)")
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--small-mb", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--writer-rate", type=float, default=200)
    parser.add_argument("--cli-timeout", type=float, default=20)
    parser.add_argument("--api-requests", type=int, default=500)
    parser.add_argument("--api-rate", type=float, default=50)
    parser.add_argument("--catalog-records", type=int, default=10_000)
    parser.add_argument("--venv", default=".venv", help="the virtualenv holding moto and boto3 (make venv)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated subset of " + ",".join(SECTIONS))
    parser.add_argument("--markdown", default="docs/BENCHMARKS.md")
    parser.add_argument("--json", default="docs/bench-results.json")
    parser.add_argument("--command", default=None, help="the reproduce command printed in the report")
    args = parser.parse_args()

    for tool in ["sqlite3", "gzip", "pigz", "zstd", "curl", "tar"]:
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} is missing (make bench installs it)")
    if not os.path.exists("/usr/bin/time"):
        sys.exit("bench: /usr/bin/time is missing (Debian package `time`)")
    ctx = Context(args.bin, args.work, args.size_mb, args.small_mb, args.runs, args.writer_rate, args.cli_timeout,
                  args.api_requests, args.api_rate, args.catalog_records)
    for binary in (ctx.backup, ctx.backup_api):
        if not os.access(binary, os.X_OK):
            sys.exit(f"bench: {binary} is not built (swift build -c release)")
    os.makedirs(ctx.work, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    clock = time.perf_counter()
    chosen = args.sections.split(",")
    source = small = None
    if SQLITE_SECTIONS & set(chosen):
        print(f"bench: generating databases ({args.size_mb} MB, {args.small_mb} MB) in {ctx.work} if missing",
              flush=True)
        source = database.cached(ctx.work, args.size_mb)
        small = database.cached(ctx.work, args.small_mb)
    if "compress" in chosen:
        print("bench: compressed backup", flush=True)
        s_compress.run(ctx, source, small)
    if "writer" in chosen:
        print("bench: beside a continuous writer", flush=True)
        s_writer.run(ctx, source)
    if "server" in chosen:
        print("bench: backup-api memory, download, restore", flush=True)
        s_server.run(ctx, source)
    if "catalog" in chosen:
        print("bench: catalog and API latency", flush=True)
        s_catalog.run(ctx, source, small)
    if "offsite" in chosen:
        print("bench: off-site upload to a loopback S3 server", flush=True)
        s_offsite.run(ctx, os.path.abspath(args.venv))
    if "encryption" in chosen:
        print("bench: encrypted backup and restore against plain ones", flush=True)
        s_encryption.run(ctx, source)
    if "files" in chosen:
        print("bench: file directories against tar | pigz -1", flush=True)
        s_files.run(ctx)
    if "postgres" in chosen:
        print("bench: PostgreSQL backup against pg_dump -Fc | gzip -1", flush=True)
        s_postgres.run(ctx)
    if "incremental" in chosen:
        print("bench: incremental backups against full bundles and restic", flush=True)
        s_incremental.run(ctx, source)
    shutil.rmtree(ctx.path("run"), ignore_errors=True)
    finished = datetime.datetime.now(datetime.timezone.utc)
    command = args.command or " ".join(shlex.quote(part) for part in sys.argv)
    report.write(ctx, started, finished, command, args.markdown, args.json)
    print(f"bench: done in {time.perf_counter() - clock:.0f} s; wrote {args.markdown} and {args.json}")
    print(report.table(ctx.rows))


if __name__ == "__main__":
    main()
