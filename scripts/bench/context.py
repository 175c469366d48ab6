"""What every section shares: the binaries, the work directory, the settings and the results."""

import os

from measure import Sample


class Row:
    """One figure of the report: ours against its reference, measured in the same run."""

    def __init__(self, section, figure, ours, reference_name, reference, better="lower",
                 target=None, note=None):
        self.section = section
        self.figure = figure
        self.ours = ours
        self.reference_name = reference_name
        self.reference = reference
        self.better = better
        self.target = target  # (description, limit on the median ratio)
        self.note = note

    def ratio(self, pick):
        ours, reference = pick(self.ours), pick(self.reference)
        if ours is None or reference in (None, 0):
            return None
        return ours / reference

    @property
    def ratio_median(self):
        return self.ratio(lambda sample: sample.median)

    @property
    def ratio_min(self):
        return self.ratio(lambda sample: sample.min)

    @property
    def target_met(self):
        if self.target is None or self.ratio_median is None:
            return None
        _, limit = self.target
        return self.ratio_median <= limit if self.better == "lower" else self.ratio_median >= limit

    def as_json(self):
        return {"section": self.section, "figure": self.figure, "ours": self.ours.as_json(),
                "reference_name": self.reference_name, "reference": self.reference.as_json(),
                "better": self.better, "ratio_median": self.ratio_median, "ratio_min": self.ratio_min,
                "target": None if self.target is None else {"text": self.target[0], "limit": self.target[1]},
                "target_met": self.target_met, "note": self.note}


class Context:
    def __init__(self, bin_dir, work_dir, size_mb, small_mb, runs, writer_rate, cli_timeout,
                 api_requests, api_rate, catalog_records):
        self.backup = os.path.join(bin_dir, "backup")
        self.backup_api = os.path.join(bin_dir, "backup-api")
        self.work = os.path.abspath(work_dir)
        self.size_mb = size_mb
        self.small_mb = small_mb
        self.runs = runs
        self.writer_rate = writer_rate
        self.cli_timeout = cli_timeout
        self.api_requests = api_requests
        self.api_rate = api_rate
        self.catalog_records = catalog_records
        self.rows = []
        self.facts = {}  # single observations worth reporting (sizes, did-not-finish, ...)

    def add(self, *args, **kwargs):
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def cli(self, data_dir, database, *arguments):
        return [self.backup, "--data-dir", data_dir, "--database", database, "--quiet", *arguments]


def sample(name, unit):
    return Sample(name, unit)
