"""File directories (issue 17): `backup create --scope files` of a tree against the script an operator
would write, `tar -cf - | pigz -1`, in the same run. Two trees, generated once under the work
directory: about 200 MB of mixed files (photos-like random bytes, text and JSON, a few large
files, nested folders), and 100,000 small files. The issue's target is the mixed tree: at most
1.2x the script's time (goal 1.0x); the small files are reported against the same script."""

import glob
import os
import random
import subprocess

from database import WORDS
from measure import Sample, fresh_dir, timed

SECTION = "File directories"
SCRIPT = 'tar -cf - -C "$PARENT" "$NAME" | pigz -1 > "$OUT/x.tar.gz"'


def _text(rng, size):
    words = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return (" ".join(words))[:size].encode()


def generate_mixed(root, size_mb, seed=11):
    """About `size_mb` MB in ~1,500 files under nested folders: 45% random bytes (images, videos),
    45% text and JSON, the rest a few large files; sizes from 1 KiB to 16 MiB."""
    rng = random.Random(seed)
    target = size_mb * 1_000_000
    total = 0
    index = 0
    while total < target:
        kind = rng.random()
        folder = os.path.join(root, f"user-{rng.randrange(40):02d}", rng.choice(["avatars", "uploads", "docs"]))
        os.makedirs(folder, exist_ok=True)
        if index % 150 == 0:
            size = rng.randrange(4 << 20, 16 << 20)  # a video
            data = rng.randbytes(size)
            name = f"clip-{index}.mp4"
        elif kind < 0.5:
            size = rng.randrange(20 << 10, 600 << 10)
            data = rng.randbytes(size)
            name = f"photo-{index}.jpg"
        else:
            size = rng.randrange(1 << 10, 200 << 10)
            data = _text(rng, size)
            name = f"note-{index}.{'json' if kind < 0.75 else 'txt'}"
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(data)
        total += size
        index += 1
    os.makedirs(os.path.join(root, "empty", "folder"), exist_ok=True)


def generate_small(root, count, seed=13):
    """`count` files of 100 bytes to 4 KiB in folders of 100."""
    rng = random.Random(seed)
    for index in range(count):
        folder = os.path.join(root, f"d{index // 100:04d}")
        if index % 100 == 0:
            os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{index:06d}.txt"), "wb") as handle:
            handle.write(_text(rng, rng.randrange(100, 4096)))


def cached_tree(ctx, name, generate, *args):
    """The tree `name` under the work directory, generated once (a marker says it is complete)."""
    root = ctx.path("trees", name)
    marker = root + ".complete"
    if not os.path.exists(marker):
        fresh_dir(root)
        print(f"  generating {root}", flush=True)
        generate(root, *args)
        with open(marker, "w") as handle:
            handle.write("ok\n")
    return root


def tree_bytes(root):
    total = 0
    files = 0
    for folder, _, names in os.walk(root):
        for name in names:
            total += os.lstat(os.path.join(folder, name)).st_size
            files += 1
    return total, files


def warm_tree(root):
    """Reads every file once, so both contenders start from the same warm page cache."""
    for folder, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                while handle.read(8 << 20):
                    pass


def ours(ctx, tree, label):
    """`backup create --scope files` of `tree` in a fresh data directory: (seconds, RSS KiB, bytes)."""
    data_dir = fresh_dir(ctx.path("run", label))
    database = os.path.join(data_dir, "app.sqlite")
    subprocess.run(["sqlite3", database, "CREATE TABLE t (x); INSERT INTO t VALUES (1);"], check=True)
    subprocess.run(ctx.cli(data_dir, database, "settings", "set", f"directories={tree}"), check=True,
                   stdout=subprocess.DEVNULL)
    seconds, rss, _ = timed(ctx.cli(data_dir, database, "create", "--scope", "files"))
    bundles = glob.glob(os.path.join(data_dir, "backups", "*.tar.gz"))
    if len(bundles) != 1:
        raise RuntimeError(f"expected one bundle in {data_dir}, found {bundles}")
    size = os.path.getsize(bundles[0])
    fresh_dir(data_dir)
    return seconds, rss, size


def script(ctx, tree, label):
    out = fresh_dir(ctx.path("run", label))
    env = dict(os.environ, PARENT=os.path.dirname(tree), NAME=os.path.basename(tree), OUT=out)
    seconds, rss, _ = timed(SCRIPT, env=env, shell=True)
    size = os.path.getsize(os.path.join(out, "x.tar.gz"))
    fresh_dir(out)
    return seconds, rss, size


def run(ctx, small_count=100_000):
    trees = {
        "mixed": cached_tree(ctx, f"mixed-{ctx.size_mb}mb", generate_mixed, ctx.size_mb),
        "small": cached_tree(ctx, f"small-{small_count}", generate_small, small_count),
    }
    for key, tree in trees.items():
        total, files = tree_bytes(tree)
        ctx.facts[f"files_tree_{key}"] = f"{files} files, {total / 1e6:.0f} MB"
    times = {(tree, who): Sample(who, "s") for tree in trees for who in ("ours", "script")}
    memory = {tree: Sample("ours", "MiB") for tree in trees}
    sizes = {}
    for index in range(ctx.runs):
        for key, tree in trees.items():
            warm_tree(tree)
            order = ("ours", "script") if index % 2 == 0 else ("script", "ours")
            for who in order:
                seconds, rss, size = (ours if who == "ours" else script)(ctx, tree, f"files-{key}-{who}")
                times[(key, who)].add(seconds)
                if who == "ours" and rss is not None:
                    memory[key].add(rss / 1024)
                sizes[(key, who)] = size
            print(f"  files {key} run {index + 1}/{ctx.runs}: ours {times[(key, 'ours')].values[-1]:.2f} s, "
                  f"tar | pigz -1 {times[(key, 'script')].values[-1]:.2f} s", flush=True)
    for key in trees:
        ctx.facts[f"files_bundle_{key}"] = (f"ours {sizes[(key, 'ours')] / 1e6:.1f} MB, "
                                             f"tar | pigz -1 {sizes[(key, 'script')] / 1e6:.1f} MB; "
                                             f"our peak RSS {memory[key].median or 0:.0f} MiB")
    ctx.add(SECTION, f"backup create --scope files, {ctx.facts['files_tree_mixed']} of mixed files",
            times[("mixed", "ours")], "`tar -cf - | pigz -1` of the same tree", times[("mixed", "script")],
            target=("≤ 1.2× (goal 1.0×)", 1.2))
    ctx.add(SECTION, f"backup create --scope files, {ctx.facts['files_tree_small']} (small files)",
            times[("small", "ours")], "`tar -cf - | pigz -1` of the same tree", times[("small", "script")])
