"""Off-site upload: `backup remote push ID` of a bundle of about BENCH_SIZE_MB to moto's S3 server
on loopback (signatures checked), against boto3's `upload_file` of the same file to the same
server in the same run; and the peak RSS of `backup-api` while it uploads that bundle."""

import json
import os
import subprocess
import sys
import time

from measure import Sample, fresh_dir, mib, timed, vm_hwm_kib, warm
from s3server import S3Server
from server import Server

UPLOAD_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s3upload.py")


def incompressible(path, size_mb):
    """A SQLite database of random blobs (kept under the work directory): its bundle is as big as
    the database, so the upload moves about `size_mb` MB whatever the codec."""
    marker = path + ".done"
    if os.path.exists(path) and os.path.exists(marker):
        return path
    import sqlite3

    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE blob (id INTEGER PRIMARY KEY, data BLOB)")
    db.execute("BEGIN")
    for _ in range(size_mb):
        db.executemany("INSERT INTO blob (data) VALUES (randomblob(?))", [(1000,)] * 1000)
    db.execute("COMMIT")
    db.close()
    with open(marker, "w") as handle:
        handle.write("ok\n")
    return path


def configure(ctx, data_dir, database, s3, prefix, enabled=True):
    fields = [f"offsite.enabled={'true' if enabled else 'false'}", f"offsite.endpoint={s3.endpoint}",
              f"offsite.region={s3.region}", f"offsite.bucket={s3.bucket}", f"offsite.prefix={prefix}",
              "offsite.path_style=true", f"offsite.access_key_id={s3.access_key_id}",
              "offsite.secret_access_key=-"]
    subprocess.run(ctx.cli(data_dir, database, "settings", "set", *fields), check=True,
                   input=s3.secret_access_key + "\n", text=True, stdout=subprocess.DEVNULL)


def prepared(ctx, s3, name, source):
    """A data directory holding one completed backup of `source`, off-site set up but not sent."""
    data_dir = fresh_dir(ctx.path("run", name))
    database = os.path.join(data_dir, "app.sqlite")
    subprocess.run(["cp", source, database], check=True)
    configure(ctx, data_dir, database, s3, name, enabled=False)
    created = subprocess.run(ctx.cli(data_dir, database, "--json", "create"), check=True, capture_output=True,
                             text=True)
    info = json.loads(created.stdout)
    configure(ctx, data_dir, database, s3, name, enabled=True)
    return data_dir, database, info, os.path.join(data_dir, "backups", info["filename"])


def run(ctx, venv):
    source = incompressible(ctx.path(f"random-{ctx.size_mb}mb.sqlite"), ctx.size_mb)
    ours, reference = Sample("remote push", "s"), Sample("boto3 upload_file", "s")
    ours_rss, peak = Sample("remote push", "MiB"), Sample("backup-api uploading", "MiB")
    python = os.path.join(venv, "bin", "python")
    os.makedirs(ctx.path("run"), exist_ok=True)
    with S3Server(venv, ctx.path("run", "moto.log")) as s3:
        env = dict(os.environ, AWS_ACCESS_KEY_ID=s3.access_key_id, AWS_SECRET_ACCESS_KEY=s3.secret_access_key)
        for index in range(ctx.runs):
            data_dir, database, info, bundle = prepared(ctx, s3, f"push-{index}", source)
            warm(bundle)
            os.sync()  # the set-up's writes (database copy, bundle) are not left for either contender to pay

            def push_ours():
                seconds, rss, _ = timed(ctx.cli(data_dir, database, "remote", "push", info["id"]))
                ours.add(seconds)
                ours_rss.add(mib(rss))
                head = s3.client().head_object(Bucket=s3.bucket, Key=f"push-{index}/{info['filename']}")
                if head["ContentLength"] != info["size_bytes"]:
                    raise RuntimeError(f"remote push left {head['ContentLength']} bytes, not {info['size_bytes']}")

            def push_reference():
                seconds, _, _ = timed([python, UPLOAD_SCRIPT, s3.endpoint, s3.region, s3.bucket,
                                       f"boto3-{index}/{info['filename']}", bundle], env=env)
                reference.add(seconds)

            # Alternate who goes first: the server's state (its stored objects) grows run by run.
            for step in ((push_ours, push_reference) if index % 2 == 0 else (push_reference, push_ours)):
                step()
            ctx.facts["offsite_bundle_bytes"] = info["size_bytes"]
            print(f"  upload run {index + 1}/{ctx.runs}: ours {ours.values[-1]:.2f} s, boto3 {reference.values[-1]:.2f} s "
                  f"({info['size_bytes'] / 1e6:.0f} MB)", flush=True)

            # The server uploads the same bundle as a job: its peak memory meanwhile.
            server_dir, server_db, server_info, _ = prepared(ctx, s3, f"api-{index}", source)
            with Server(ctx.backup_api, server_dir, server_db, ctx.path("run", "server-offsite.log")) as server:
                # At start-up (off-site on) the server looks at the bucket under the job lock first.
                status, body = server.request("POST", f"/api/backups/{server_info['id']}/push")
                deadline = time.perf_counter() + 60
                while status == 409 and time.perf_counter() < deadline:
                    time.sleep(0.05)
                    status, body = server.request("POST", f"/api/backups/{server_info['id']}/push")
                if status != 202:
                    raise RuntimeError(f"push answered {status}: {body[:300]!r}")
                wait_uploaded(server, server_info["id"])
                peak.add(mib(vm_hwm_kib(server.pid)))
            print(f"  backup-api upload run {index + 1}/{ctx.runs}: peak RSS {peak.values[-1]:.1f} MiB", flush=True)
    size = ctx.facts.get("offsite_bundle_bytes", 0) / 1e6
    ctx.add("Off-site", f"upload of a {size:.0f} MB bundle, `backup remote push ID`", ours,
            "boto3 `upload_file` (default transfer settings)", reference, target=("≤ 1.0×", 1.0),
            note="both to the same moto server on 127.0.0.1 with signatures checked")
    ctx.add("Memory", f"peak RSS, `backup-api` uploading a {size:.0f} MB bundle", peak, "the 80 MiB target",
            Sample("target", "MiB", [80.0]), target=("≤ 80 MiB", 1.0))
    ctx.facts["offsite_push_cli_rss_mib"] = ours_rss.values


def wait_uploaded(server, backup_id, timeout=600):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        _, data = server.request("GET", f"/api/backups/{backup_id}")
        offsite = (json.loads(data).get("offsite") or {})
        if offsite.get("status") == "uploaded":
            return
        if offsite.get("status") == "failed":
            raise RuntimeError(f"upload failed: {offsite.get('error')}")
        time.sleep(0.02)
    raise RuntimeError("the upload did not finish")


if __name__ == "__main__":
    sys.exit("run through bench.py --sections offsite")
