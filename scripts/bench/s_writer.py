"""Backups beside a continuous writer: our backup, the writer's commit latency, SQLITE_BUSY, and
the sqlite3 CLI's `.backup` under the same writer."""

import os
import shutil
import subprocess
import time

import writerctl
from measure import Sample, fresh_dir, timed

SECTION = "Beside a continuous writer"


def backup_once(ctx, database, label):
    data_dir = fresh_dir(ctx.path("run", label))
    subprocess.run(ctx.cli(data_dir, database, "settings", "set", "compression_level=1"), check=True,
                   stdout=subprocess.DEVNULL)
    seconds, _, _ = timed(ctx.cli(data_dir, database, "create"))
    fresh_dir(data_dir)
    return seconds


def writer_window(database, rate, work, settle=1.0):
    """Runs `work()` beside the writer; returns (work's result, writer summary during the work)."""
    writer = writerctl.Writer(database, rate)
    time.sleep(settle)
    start = writerctl.now()
    result = work()
    end = writerctl.now()
    time.sleep(0.2)
    return result, writerctl.summarise(writer.stop(), start, end)


def run(ctx, source):
    database = ctx.path("writer.sqlite")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(database + suffix):
            os.remove(database + suffix)
    shutil.copyfile(source, database)
    idle_time, beside_time = Sample("idle", "s"), Sample("beside", "s")
    alone = {key: Sample(key, "ms") for key in ["p50_ms", "p99_ms"]}
    beside = {key: Sample(key, "ms") for key in ["p50_ms", "p99_ms"]}
    busy_alone, busy_beside, commits = Sample("alone", "count"), Sample("beside", "count"), []
    for index in range(ctx.runs):
        idle_time.add(backup_once(ctx, database, "writer-idle"))
        window = max(3.0, idle_time.values[-1])
        _, quiet = writer_window(database, ctx.writer_rate, lambda: time.sleep(window))
        seconds, busy = writer_window(database, ctx.writer_rate, lambda: backup_once(ctx, database, "writer-busy"))
        beside_time.add(seconds)
        for key in alone:
            alone[key].add(quiet[key])
            beside[key].add(busy[key])
        busy_alone.add(quiet["busy"])
        busy_beside.add(busy["busy"])
        commits.append({"alone": quiet, "beside": busy})
        print(f"  writer run {index + 1}/{ctx.runs}: backup {seconds:.2f} s beside the writer; "
              f"p99 {quiet['p99_ms']:.2f} ms alone, {busy['p99_ms']:.2f} ms beside", flush=True)

    ctx.add(SECTION, "backup create (level 1) beside the writer", beside_time, "the same backup, no writer",
            idle_time)
    ctx.add(SECTION, "writer p50 commit latency beside our backup", beside["p50_ms"], "the same writer alone",
            alone["p50_ms"])
    ctx.add(SECTION, "writer p99 commit latency beside our backup", beside["p99_ms"], "the same writer alone",
            alone["p99_ms"], target=("≤ 2× alone", 2.0))
    ctx.add(SECTION, "writer SQLITE_BUSY beside our backup", busy_beside, "the same writer alone", busy_alone,
            note="count of SQLITE_BUSY answers (the writer has no busy timeout)")
    ctx.facts["writer_rate_per_s"] = ctx.writer_rate
    ctx.facts["writer_windows"] = commits
    cli_under_writer(ctx, database)


def cli_under_writer(ctx, database):
    """The sqlite3 CLI's `.backup` under the same writer, stopped after ctx.cli_timeout seconds."""
    out = fresh_dir(ctx.path("run", "cli-writer"))
    target = os.path.join(out, "x.sqlite")
    idle, _, _ = timed(["sqlite3", database, f".backup {target}"])
    os.remove(target)

    def attempt():
        started = time.perf_counter()
        try:
            subprocess.run(["sqlite3", database, f".backup {target}"], timeout=ctx.cli_timeout, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return time.perf_counter() - started, True
        except subprocess.TimeoutExpired:
            return time.perf_counter() - started, False

    (seconds, finished), writer = writer_window(database, ctx.writer_rate, attempt)
    fresh_dir(out)
    ctx.facts["cli_backup_under_writer"] = {
        "finished": finished, "seconds": seconds, "timeout_s": ctx.cli_timeout, "idle_seconds": idle,
        "writer": writer}
    print(f"  sqlite3 .backup under the writer: {'finished in %.2f s' % seconds if finished else 'did not finish'}"
          f" (idle {idle:.2f} s)", flush=True)
