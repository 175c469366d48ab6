"""PostgreSQL (issue 18): `backup --database postgresql://… create` of a database of about
BENCH_SIZE_MB against the script an operator would write, `pg_dump -Fc DB | gzip -1 > x`, in the
same run and against the same server (also `| zstd -1`, and `pg_dump -Fc -Z0 | zstd -1` as a
stricter, informative line). The issue's target: at most 1.1x the gzip script.

The section starts its own cluster (initdb + pg_ctl from the highest /usr/lib/postgresql/*/bin,
as `postgres` through runuser when the bench runs as root, on a free loopback port) and generates
the database once: it is kept under the work directory with the other generated data."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

from measure import Sample, fresh_dir, timed
from server import free_port

SECTION = "PostgreSQL"
DATABASE = "bench"
SCRIPTS = {
    "gzip": 'pg_dump -Fc "$PGURL" | gzip -1 > "$OUT/x.dump.gz"',
    "zstd": 'pg_dump -Fc "$PGURL" | zstd -q -1 > "$OUT/x.dump.zst"',
    "z0zstd": 'pg_dump -Fc -Z0 "$PGURL" | zstd -q -1 > "$OUT/x.dump.zst"',
}
NAMES = {
    "gzip": "`pg_dump -Fc | gzip -1` of the same database",
    "zstd": "`pg_dump -Fc | zstd -1` of the same database",
    "z0zstd": "`pg_dump -Fc -Z0 | zstd -1` of the same database",
}
WORDS_SQL = ("(array['invoice','refund','transfer','salary','rent','grocery','fuel','coffee','books','travel',"
             "'insurance','tax','gift','repair','subscription','dividend'])")


def server_bin():
    """The highest installed PostgreSQL's server binaries (initdb, pg_ctl)."""
    found = [path for path in glob.glob("/usr/lib/postgresql/*/bin") if os.access(os.path.join(path, "initdb"),
                                                                                   os.X_OK)]
    if not found:
        sys.exit("bench: PostgreSQL's server is missing (Debian package postgresql; make setup installs it)")

    def version(path):
        name = os.path.basename(os.path.dirname(path))
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    return max(found, key=version)


def as_postgres():
    """PostgreSQL refuses to run as root: the cluster's commands then run as `postgres`."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def traversable_by_postgres(path):
    """Whether every folder above `path` lets `postgres` through (needed when running as root)."""
    if os.geteuid() != 0:
        return True
    folder = os.path.dirname(os.path.abspath(path))
    while True:
        if not os.stat(folder).st_mode & 0o001:
            return False
        parent = os.path.dirname(folder)
        if parent == folder:
            return True
        folder = parent


def give_to_postgres(path):
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


class Cluster:
    """A PostgreSQL cluster in `root` (created when missing), started on a free loopback port with
    its socket in a short temporary folder; use as a context manager (a `temporary` cluster is
    removed when it stops). Trust authentication for the
    `postgres` superuser: the bench measures the dump, not the login."""

    def __init__(self, root, temporary=False):
        self.bin = server_bin()
        self.root = root
        self.temporary = temporary
        self.port = free_port()
        self.socket_dir = tempfile.mkdtemp(prefix="pgbench-")
        os.chmod(self.socket_dir, 0o755)
        give_to_postgres(self.socket_dir)
        if not os.path.exists(os.path.join(root, "PG_VERSION")):
            fresh_dir(root)
            give_to_postgres(root)
            os.chmod(root, 0o700)
            self._run("initdb", "-D", root, "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", root, "-l", os.path.join(self.socket_dir, "log"), "-w", "-o", options, "start")

    def _run(self, tool, *arguments):
        subprocess.run(as_postgres() + [os.path.join(self.bin, tool), *arguments], check=True,
                       stdout=subprocess.DEVNULL)

    def url(self, database=DATABASE):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql, database=DATABASE):
        done = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, self.url(database)],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return done.stdout.strip()

    def stop(self):
        subprocess.run(as_postgres() + [os.path.join(self.bin, "pg_ctl"), "-D", self.root, "-m", "fast", "-w",
                                        "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.socket_dir, ignore_errors=True)
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def generate(cluster, size_mb, batch=25_000):
    """A ledger (pairs of rows summing to zero) of about `size_mb` MB, index included: accounts,
    amounts, a memo of words, a moderately compressible bytea and a timestamp per row."""
    cluster.psql(f"DROP DATABASE IF EXISTS {DATABASE}", database="postgres")
    cluster.psql(f"CREATE DATABASE {DATABASE}", database="postgres")
    cluster.psql("CREATE TABLE ledger (id bigint PRIMARY KEY, account int NOT NULL, amount bigint NOT NULL, "
                 "memo text NOT NULL, payload bytea NOT NULL, created_at timestamptz NOT NULL)")
    target = size_mb * 1_000_000 * 0.87  # the second index makes up the rest
    start = 0
    while int(cluster.psql("SELECT pg_database_size(current_database())")) < target:
        cluster.psql(
            "INSERT INTO ledger SELECT i, (i / 2) % 5000, CASE WHEN i % 2 = 0 THEN (i / 2) % 9973 + 1 "
            "ELSE -((i / 2) % 9973 + 1) END, "
            f"{WORDS_SQL}[1 + i % 16] || ' ' || {WORDS_SQL}[1 + (i / 16) % 16] || ' for order ' || (i / 2) || ' '"
            f" || repeat({WORDS_SQL}[1 + (i / 256) % 16] || ' ', 1 + i % 7), "
            "decode(md5(i::text) || md5((i % 997)::text) || repeat('00', 32), 'hex'), "
            "timestamptz '2026-01-01' + i * interval '1 second' "
            f"FROM generate_series({start}, {start + batch - 1}) AS i")
        start += batch
    cluster.psql("CREATE INDEX ledger_account ON ledger (account, created_at)")
    cluster.psql("VACUUM ANALYZE ledger")
    total = cluster.psql("SELECT sum(amount) FROM ledger")
    if total != "0":
        raise RuntimeError(f"the generated ledger sums to {total}, not 0")


def cached_cluster(ctx):
    """The cluster holding the generated database: kept under the work directory (a marker says
    it is complete) when `postgres` can reach it, else in a temporary folder for this run."""
    root = ctx.path(f"postgres-{ctx.size_mb}mb")
    marker = root + ".complete"
    temporary = not traversable_by_postgres(root)
    if temporary:
        root = tempfile.mkdtemp(prefix="pgbench-data-")
        marker = os.path.join(tempfile.mkdtemp(prefix="pgbench-marker-"), "complete")
    elif not os.path.exists(marker):
        shutil.rmtree(root, ignore_errors=True)
    cluster = Cluster(root, temporary)
    try:
        if not os.path.exists(marker):
            print(f"  generating a {ctx.size_mb} MB PostgreSQL database in {root}", flush=True)
            generate(cluster, ctx.size_mb)
            with open(marker, "w") as handle:
                handle.write("ok\n")
    except BaseException:
        cluster.stop()
        raise
    return cluster


def ours(ctx, cluster, label):
    """`backup --database URL create` in a fresh data directory: (seconds, peak RSS KiB, bundle bytes)."""
    data_dir = fresh_dir(ctx.path("run", label))
    seconds, rss, _ = timed(ctx.cli(data_dir, cluster.url(), "create"))
    bundles = [path for path in glob.glob(os.path.join(data_dir, "backups", "*.tar.*"))
               if not path.endswith(".sha256")]
    if len(bundles) != 1:
        raise RuntimeError(f"expected one bundle in {data_dir}, found {bundles}")
    listed = subprocess.run(["tar", "-tf", bundles[0]], check=True, capture_output=True, text=True).stdout
    if "database.pgdump" not in listed.split():
        raise RuntimeError(f"{bundles[0]} holds no database.pgdump: {listed[:300]!r}")
    size = os.path.getsize(bundles[0])
    fresh_dir(data_dir)
    return seconds, rss, size


def script(ctx, cluster, key, label):
    out = fresh_dir(ctx.path("run", label))
    env = dict(os.environ, PGURL=cluster.url(), OUT=out)
    # bash with pipefail: a failing pg_dump must fail the measurement, not time a short pipe.
    seconds, rss, _ = timed(["bash", "-o", "pipefail", "-c", SCRIPTS[key]], env=env)
    (output,) = glob.glob(os.path.join(out, "x.*"))
    size = os.path.getsize(output)
    fresh_dir(out)
    return seconds, rss, size


def run(ctx):
    for tool in ("pg_dump", "psql"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} is missing (Debian package postgresql-client; make setup installs it)")
    os.makedirs(ctx.path("run"), exist_ok=True)
    contenders = ("ours", "gzip", "zstd", "z0zstd")
    times = {who: Sample(who, "s") for who in contenders}
    memory = Sample("ours", "MiB")
    sizes = {}
    with cached_cluster(ctx) as cluster:
        database_bytes = int(cluster.psql("SELECT pg_database_size(current_database())"))
        ctx.facts["postgres_database"] = (f"{database_bytes / 1e6:.0f} MB "
                                          f"({cluster.psql('SELECT count(*) FROM ledger')} rows), "
                                          f"server {cluster.psql('SHOW server_version')}")
        ctx.facts["postgres_pg_dump"] = subprocess.run(["pg_dump", "--version"], capture_output=True,
                                                       text=True).stdout.strip()
        # One untimed dump first: the table's pages are then in the page cache for every contender.
        subprocess.run(["pg_dump", "-Fc", "-Z0", cluster.url()], check=True, stdout=subprocess.DEVNULL)
        for index in range(ctx.runs):
            order = contenders if index % 2 == 0 else tuple(reversed(contenders))
            for who in order:
                if who == "ours":
                    seconds, rss, size = ours(ctx, cluster, "postgres-ours")
                    if rss is not None:
                        memory.add(rss / 1024)
                else:
                    seconds, _, size = script(ctx, cluster, who, f"postgres-{who}")
                times[who].add(seconds)
                sizes[who] = size
            print(f"  postgres run {index + 1}/{ctx.runs}: ours {times['ours'].values[-1]:.2f} s, "
                  f"| gzip -1 {times['gzip'].values[-1]:.2f} s, | zstd -1 {times['zstd'].values[-1]:.2f} s, "
                  f"-Z0 | zstd -1 {times['z0zstd'].values[-1]:.2f} s", flush=True)
    ctx.facts["postgres_bundle"] = (f"ours {sizes['ours'] / 1e6:.1f} MB, | gzip -1 {sizes['gzip'] / 1e6:.1f} MB, "
                                    f"| zstd -1 {sizes['zstd'] / 1e6:.1f} MB, "
                                    f"-Z0 | zstd -1 {sizes['z0zstd'] / 1e6:.1f} MB; "
                                    f"peak RSS (ours with its pg_dump child) {memory.median or 0:.0f} MiB")
    figure = f"backup --database postgresql://… create, {ctx.facts['postgres_database']}"
    ctx.add(SECTION, figure, times["ours"], NAMES["gzip"], times["gzip"], target=("≤ 1.1×", 1.1))
    ctx.add(SECTION, figure, times["ours"], NAMES["zstd"], times["zstd"])
    ctx.add(SECTION, figure, times["ours"], NAMES["z0zstd"], times["z0zstd"],
            note="stricter: pg_dump's own compression off, as ours runs it; informative")


if __name__ == "__main__":
    sys.exit("run through bench.py --sections postgres")
