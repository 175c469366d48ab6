"""`backup-api` memory while backing up and serving a download, download throughput against
curl reading the same file, and restore time against gunzip + tar + integrity_check."""

import glob
import json
import os
import shutil
import subprocess
import threading

from measure import Sample, fresh_dir, mib, timed, vm_hwm_kib
from server import TOKEN, Server


def curl_seconds(url, headers=()):
    argv = ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{time_total} %{size_download}", url]
    for header in headers:
        argv += ["-H", header]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    seconds, size = done.stdout.split()
    return float(seconds), int(size)


def run(ctx, source):
    data_dir = fresh_dir(ctx.path("run", "server"))
    database = os.path.join(data_dir, "app.sqlite")
    shutil.copyfile(source, database)
    subprocess.run(ctx.cli(data_dir, database, "settings", "set", "compression_level=1"), check=True,
                   stdout=subprocess.DEVNULL)
    created = subprocess.run(ctx.cli(data_dir, database, "--json", "create"), check=True, capture_output=True,
                             text=True)
    info = json.loads(created.stdout)
    bundle = os.path.join(data_dir, "backups", info["filename"])

    ours, reference = Sample("download", "MB/s"), Sample("curl file://", "MB/s")
    idle_rss, peak = Sample("idle", "MiB"), Sample("busy", "MiB")
    server_log = ctx.path("run", "server.log")
    auth = [f"Authorization: Bearer {TOKEN}"]
    for index in range(ctx.runs):
        # A new server each run, so each peak is that of one backup beside two downloads.
        with Server(ctx.backup_api, data_dir, database, server_log) as server:
            idle_rss.add(mib(vm_hwm_kib(server.pid)))
            url = f"http://127.0.0.1:{server.port}/api/backups/{info['id']}/download"
            seconds, size = curl_seconds(url, auth)
            ours.add(size / seconds / 1e6)
            seconds, size = curl_seconds("file://" + bundle)
            reference.add(size / seconds / 1e6)
            backup_id = server.start_backup()
            downloads = [threading.Thread(target=curl_seconds, args=(url, auth)) for _ in range(2)]
            for thread in downloads:
                thread.start()
            server.wait_backup(backup_id)
            for thread in downloads:
                thread.join()
            peak.add(mib(vm_hwm_kib(server.pid)))
        print(f"  backup-api run {index + 1}/{ctx.runs}: peak RSS {peak.values[-1]:.1f} MiB "
              f"(idle {idle_rss.values[-1]:.1f} MiB)", flush=True)
    ctx.add("Transfer", "download through `GET /api/backups/{id}/download`", ours, "`curl file://` of the same bundle",
            reference, better="higher")
    ctx.add("Memory", "peak RSS, `backup-api` backing up + serving 2 downloads", peak, "the 64 MiB target",
            Sample("target", "MiB", [64.0]), target=("≤ 64 MiB", 1.0))
    ctx.add("Memory", "peak RSS, `backup-api` backing up + serving 2 downloads", peak,
            "the same server just started", idle_rss)
    restore(ctx, data_dir, database, info, bundle)
    fresh_dir(data_dir)


def restore(ctx, data_dir, database, info, bundle):
    ours, reference = Sample("restore", "s"), Sample("gunzip", "s")
    scratch = ctx.path("run", "restore-ref")
    script = ('gzip -dc "$BUNDLE" | tar -xf - -C "$OUT" && '
              'test "$(sqlite3 "$OUT/database.sqlite" "PRAGMA integrity_check")" = ok')
    for index in range(ctx.runs):
        seconds, _, _ = timed(ctx.cli(data_dir, database, "restore", info["id"], "--yes", "--no-safety-backup"))
        ours.add(seconds)
        fresh_dir(scratch)
        env = dict(os.environ, BUNDLE=bundle, OUT=scratch)
        seconds, _, _ = timed(script, env=env, shell=True)
        reference.add(seconds)
        fresh_dir(scratch)
        print(f"  restore run {index + 1}/{ctx.runs}: ours {ours.values[-1]:.2f} s, reference {seconds:.2f} s",
              flush=True)
    ctx.add("Restore", "`backup restore ID --yes --no-safety-backup`", ours,
            "`gzip -dc | tar -x` + `sqlite3 integrity_check`", reference,
            note="ours also verifies SHA-256s and manifest and replaces the live database")
    leftovers = glob.glob(os.path.join(data_dir, "backups", ".tmp", "*"))
    ctx.facts["restore_leftovers"] = leftovers
