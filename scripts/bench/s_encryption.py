"""Encryption at rest: `backup create` and `backup restore` of the same database with encryption on
(age, X25519 recipient) against the same commands with it off, in the same run. The issue's
target is the ratio to the plain path: at most 1.25x (goal 1.15x), both ways."""

import json
import os
import subprocess

from measure import Sample, fresh_dir, timed, warm

SECTION = "Encryption"


def prepared(ctx, source, name, encrypted):
    """A data directory with its own copy of `source`, encryption set up when `encrypted`."""
    data_dir = fresh_dir(ctx.path("run", name))
    database = os.path.join(data_dir, "app.sqlite")
    subprocess.run(["cp", source, database], check=True)
    if encrypted:
        subprocess.run(ctx.cli(data_dir, database, "key", "generate"), check=True, stdout=subprocess.DEVNULL)
        subprocess.run(ctx.cli(data_dir, database, "settings", "set", "encryption.enabled=true"), check=True,
                       stdout=subprocess.DEVNULL)
    return data_dir, database


def newest(ctx, data_dir, database):
    listed = subprocess.run(ctx.cli(data_dir, database, "--json", "list"), check=True, capture_output=True,
                            text=True)
    items = json.loads(listed.stdout)
    items = items["backups"] if isinstance(items, dict) else items
    return max(items, key=lambda item: item["created_at"])


def run(ctx, source):
    create = {"plain": Sample("plain", "s"), "age": Sample("age", "s")}
    restore = {"plain": Sample("plain", "s"), "age": Sample("age", "s")}
    for index in range(ctx.runs):
        dirs = {kind: prepared(ctx, source, f"enc-{kind}-{index}", kind == "age") for kind in ("plain", "age")}
        warm(source)
        os.sync()  # the copies' writeback is not left for either contender to pay
        # Alternate who goes first, so neither always meets a warmer cache.
        order = ("plain", "age") if index % 2 == 0 else ("age", "plain")
        for kind in order:
            data_dir, database = dirs[kind]
            seconds, _, _ = timed(ctx.cli(data_dir, database, "create"))
            create[kind].add(seconds)
        infos = {kind: newest(ctx, *dirs[kind]) for kind in order}
        if not infos["age"]["filename"].endswith(".age") or infos["plain"]["filename"].endswith(".age"):
            raise RuntimeError(f"unexpected bundles: {infos['age']['filename']}, {infos['plain']['filename']}")
        os.sync()
        for kind in order:
            data_dir, database = dirs[kind]
            seconds, _, _ = timed(ctx.cli(data_dir, database, "restore", infos[kind]["id"], "--yes",
                                          "--no-safety-backup"))
            restore[kind].add(seconds)
        for data_dir, _ in dirs.values():
            fresh_dir(data_dir)
        print(f"  encryption run {index + 1}/{ctx.runs}: create {create['age'].values[-1]:.2f} s vs "
              f"{create['plain'].values[-1]:.2f} s plain, restore {restore['age'].values[-1]:.2f} s vs "
              f"{restore['plain'].values[-1]:.2f} s plain", flush=True)
    ctx.add(SECTION, "backup create, gzip level 1, encrypted (age, X25519)", create["age"],
            "the same `backup create` unencrypted", create["plain"], target=("≤ 1.25× (goal 1.15×)", 1.25))
    ctx.add(SECTION, "backup restore ID --yes --no-safety-backup, encrypted bundle", restore["age"],
            "the same restore of an unencrypted bundle", restore["plain"], target=("≤ 1.25× (goal 1.15×)", 1.25))
