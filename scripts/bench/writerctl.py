"""Starts and stops the continuous writer (writer.py) and summarises its commit latencies."""

import json
import os
import subprocess
import sys
import time

from measure import percentile

HERE = os.path.dirname(os.path.abspath(__file__))


class Writer:
    """A running writer process; `stop()` returns its report."""

    def __init__(self, database, rate):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "writer.py"), database, str(rate)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if self.process.stderr.readline().strip() != "ready":
            raise RuntimeError("the writer did not start: " + self.process.stderr.read())

    def stop(self):
        out, err = self.process.communicate(input="", timeout=60)
        if self.process.returncode != 0:
            raise RuntimeError("the writer failed: " + err)
        return json.loads(out)


def summarise(report, start=None, end=None):
    """Latency p50/p99/max (ms), commits and SQLITE_BUSY count, for commits begun in [start, end]."""
    chosen = [(latency, retries) for (at, latency, retries) in report["commits"]
              if (start is None or at >= start) and (end is None or at <= end)]
    ms = [latency * 1000 for (latency, _) in chosen]
    return {"commits": len(ms), "busy": sum(retries for (_, retries) in chosen), "p50_ms": percentile(ms, 0.50),
            "p99_ms": percentile(ms, 0.99), "max_ms": max(ms) if ms else None}


def now():
    return time.monotonic()
