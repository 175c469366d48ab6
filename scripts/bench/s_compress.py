"""Compressed backup (gzip and zstd bundles) against `sqlite3 .backup` + gzip -1, + zstd -1 -T0 and the other
ways an operator would do it."""

import glob
import os
import subprocess

from measure import Sample, fresh_dir, mib, timed, warm

SECTION = "Compressed backup"
MIB64 = 64 * 1024


def our_backup(ctx, source, level, label, codec="gzip"):
    """One `backup create` with `codec` at `level` into a fresh data directory: (seconds, RSS KiB, bundle bytes)."""
    data_dir = fresh_dir(ctx.path("run", label))
    subprocess.run(ctx.cli(data_dir, source, "settings", "set", f"codec={codec}", f"compression_level={level}"),
                   check=True, stdout=subprocess.DEVNULL)
    seconds, rss, _ = timed(ctx.cli(data_dir, source, "create"))
    bundles = glob.glob(os.path.join(data_dir, "backups", "*.tar.gz" if codec == "gzip" else "*.tar.zst"))
    size = os.path.getsize(bundles[0])
    fresh_dir(data_dir)
    return seconds, rss, size


REFERENCES = {
    "script": ("`sqlite3 .backup` + `gzip -1`", 'sqlite3 "$SRC" ".backup $OUT/x.sqlite" && gzip -1 "$OUT/x.sqlite"',
               "x.sqlite.gz"),
    "pigz": ("`sqlite3 .backup` + `pigz -1`", 'sqlite3 "$SRC" ".backup $OUT/x.sqlite" && pigz -1 "$OUT/x.sqlite"',
             "x.sqlite.gz"),
    "vacuum": ("`VACUUM INTO` + `gzip -1`",
               'sqlite3 "$SRC" "VACUUM INTO \'$OUT/x.sqlite\'" && gzip -1 "$OUT/x.sqlite"', "x.sqlite.gz"),
    "zstd": ("`sqlite3 .backup` + `zstd -1 -T0`",
             'sqlite3 "$SRC" ".backup $OUT/x.sqlite" && zstd -q -1 -T0 --rm "$OUT/x.sqlite"', "x.sqlite.zst"),
    "backup_only": ("`sqlite3 .backup` alone", 'sqlite3 "$SRC" ".backup $OUT/x.sqlite"', "x.sqlite"),
    "gzip_only": ("`gzip -1` of the database alone", 'gzip -1 -c "$SRC" > "$OUT/x.gz"', "x.gz"),
    "pigz_only": ("`pigz -1` of the database alone", 'pigz -1 -c "$SRC" > "$OUT/x.gz"', "x.gz"),
    "cp": ("`cp` (the floor)", 'cp "$SRC" "$OUT/x.sqlite"', "x.sqlite"),
}


def reference(ctx, source, key):
    _, script, output = REFERENCES[key]
    out = fresh_dir(ctx.path("run", "ref-" + key))
    env = dict(os.environ, SRC=source, OUT=out)
    seconds, rss, _ = timed(script, env=env, shell=True)
    size = os.path.getsize(os.path.join(out, output))
    fresh_dir(out)
    return seconds, rss, size


def run(ctx, source, small_source):
    times = {key: Sample(key, "s") for key in ["ours1", "ours6", "ourszstd1", *REFERENCES]}
    rss = {key: Sample(key, "MiB") for key in ["ours1", "ours6", "ourszstd1", "ours1_small", "script"]}
    sizes = {}
    for index in range(ctx.runs):
        warm(source)
        for key in ["ours1", "script", "pigz", "ours6", "ourszstd1", "zstd", "vacuum", "backup_only", "gzip_only",
                    "pigz_only", "cp"]:
            if key == "ourszstd1":
                seconds, peak, size = our_backup(ctx, source, 1, key, codec="zstd")
            elif key.startswith("ours"):
                seconds, peak, size = our_backup(ctx, source, int(key[-1]), key)
            else:
                seconds, peak, size = reference(ctx, source, key)
            times[key].add(seconds)
            sizes[key] = size
            if key in rss:
                rss[key].add(mib(peak))
        seconds, peak, _ = our_backup(ctx, small_source, 1, "ours-small")
        rss["ours1_small"].add(mib(peak))
        print(f"  compress run {index + 1}/{ctx.runs}: ours -1 {times['ours1'].values[-1]:.2f} s, "
              f"script {times['script'].values[-1]:.2f} s, ours zstd -1 {times['ourszstd1'].values[-1]:.2f} s, "
              f"zstd script {times['zstd'].values[-1]:.2f} s", flush=True)

    ours = times["ours1"]
    ctx.add(SECTION, "backup create, gzip level 1", ours, REFERENCES["script"][0], times["script"],
            target=("≤ 0.5× the script", 0.5))
    for key in ["pigz", "vacuum", "zstd", "cp"]:
        ctx.add(SECTION, "backup create, gzip level 1", ours, REFERENCES[key][0], times[key])
    ctx.add(SECTION, "backup create, gzip level 6", times["ours6"], REFERENCES["script"][0], times["script"])
    ctx.add(SECTION, "backup create, zstd level 1", times["ourszstd1"], REFERENCES["zstd"][0], times["zstd"],
            target=("≤ 0.75× the script", 0.75))
    ctx.add(SECTION, "backup create, zstd level 1", times["ourszstd1"], REFERENCES["script"][0], times["script"])
    ctx.add(SECTION, "snapshot part: `sqlite3 .backup` alone", times["backup_only"], REFERENCES["cp"][0], times["cp"],
            note="context: what the script spends before compressing")
    ctx.add(SECTION, "compression part: `pigz -1` alone", times["pigz_only"], REFERENCES["gzip_only"][0],
            times["gzip_only"], note="context: what parallel deflate buys on this machine")
    ctx.add(SECTION, "bundle size, level 1", Sample("ours", "MB", [sizes["ours1"] / 1e6]),
            "the script's .gz", Sample("script", "MB", [sizes["script"] / 1e6]))
    ctx.add(SECTION, "bundle size, level 6", Sample("ours", "MB", [sizes["ours6"] / 1e6]),
            "the script's .gz (level 1)", Sample("script", "MB", [sizes["script"] / 1e6]))
    ctx.add(SECTION, "bundle size, zstd level 1", Sample("ours", "MB", [sizes["ourszstd1"] / 1e6]),
            "the zstd script's .zst", Sample("zstd", "MB", [sizes["zstd"] / 1e6]), target=("≤ 1.05×", 1.05))
    ctx.add(SECTION, "bundle size, zstd level 1", Sample("ours", "MB", [sizes["ourszstd1"] / 1e6]),
            "the script's .gz", Sample("script", "MB", [sizes["script"] / 1e6]))
    target = Sample("target", "MiB", [64.0])
    ctx.add("Memory", f"peak RSS, `backup create` level 1, {ctx.size_mb} MB", rss["ours1"], "the 64 MiB target",
            target, target=("≤ 64 MiB", 1.0))
    ctx.add("Memory", f"peak RSS, `backup create` level 6, {ctx.size_mb} MB", rss["ours6"], "the 64 MiB target",
            target, target=("≤ 64 MiB", 1.0))
    ctx.add("Memory", f"peak RSS, `backup create` zstd level 1, {ctx.size_mb} MB", rss["ourszstd1"],
            "the 64 MiB target", target, target=("≤ 64 MiB", 1.0))
    ctx.add("Memory", f"peak RSS, `backup create` level 1, {ctx.small_mb} MB", rss["ours1_small"],
            "the 64 MiB target", target, target=("≤ 64 MiB", 1.0))
    ctx.add("Memory", f"peak RSS, `backup create` level 1, {ctx.size_mb} MB", rss["ours1"],
            "the script (largest of sqlite3, gzip)", rss["script"])
    ctx.facts["database_bytes"] = os.path.getsize(source)
    ctx.facts["small_database_bytes"] = os.path.getsize(small_source)
    ctx.facts["bundle_bytes"] = {key: value for key, value in sizes.items()}
