"""Timing, statistics and process helpers shared by every benchmark section."""

import os
import shutil
import statistics
import subprocess
import tempfile
import time


class Sample:
    """Several measurements of one figure: min and median are what the report shows."""

    def __init__(self, name, unit, values=None):
        self.name = name
        self.unit = unit
        self.values = list(values or [])

    def add(self, value):
        self.values.append(value)

    @property
    def min(self):
        return min(self.values) if self.values else None

    @property
    def max(self):
        return max(self.values) if self.values else None

    @property
    def median(self):
        return statistics.median(self.values) if self.values else None

    def as_json(self):
        return {"name": self.name, "unit": self.unit, "values": self.values, "min": self.min,
                "median": self.median}


def percentile(values, fraction):
    """Nearest-rank percentile of `values` (0 < fraction <= 1)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(round(fraction * len(ordered) + 0.5 - 1e-9)))
    return ordered[min(rank, len(ordered)) - 1]


def timed(command, cwd=None, env=None, timeout=None, shell=False):
    """Runs a command to its end; returns (seconds, peak RSS in KiB) measured by /usr/bin/time.

    Every command, ours and the references, goes through the same wrapper, so its small cost
    is the same on both sides of a ratio. Raises on a non-zero exit.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        argv = ["/usr/bin/time", "-f", "%M", "-o", report.name]
        argv += ["sh", "-c", command] if shell else list(command)
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, env=env, timeout=timeout, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{command!r} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        lines = [line for line in report.read().splitlines() if line.strip().isdigit()]
        rss_kib = int(lines[-1]) if lines else None
    return elapsed, rss_kib, done.stdout


def fresh_dir(path):
    """An empty directory at `path`, whatever was there before."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def warm(path):
    """Reads a file once so every contender starts from the same (warm) page cache."""
    with open(path, "rb") as handle:
        while handle.read(8 << 20):
            pass


def vm_hwm_kib(pid):
    """Peak resident set of a running process, from /proc (VmHWM)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def mib(kib):
    return None if kib is None else kib / 1024.0
