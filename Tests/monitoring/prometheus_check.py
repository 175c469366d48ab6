"""Reads what GET /metrics served with the official Prometheus client's parser, and checks the
sample Grafana dashboard and alert rules against it. Run by MetricsLiveTests with .venv's Python.

  parse < exposition          -> JSON: {"families": {name: type}, "samples": [[name, labels, value]]}
  docs EXPOSITION DASHBOARD RULES
                              -> checks both files; prints the metric names they use; exit 1 with
                                 the reason when a file is malformed or names an unexposed metric
"""
import json
import math
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

# A metric name in PromQL: ours start with backup_ or process_ (the process metrics).
NAME = re.compile(r"\b((?:backup|process)_[a-zA-Z0-9_]*)\b")
# Series a histogram or counter family exposes beside its own name.
SUFFIXES = ("_bucket", "_sum", "_count", "_total", "_created")


def parse(text):
    families, samples = {}, []
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for sample in family.samples:
            value = sample.value
            samples.append([sample.name, sample.labels, None if math.isinf(value) else value])
    return families, samples


def exposed_names(text):
    families, samples = parse(text)
    return set(families) | {name for name, _, _ in samples}


def expressions_in_dashboard(dashboard):
    for key in ("title", "panels", "schemaVersion"):
        if key not in dashboard:
            raise SystemExit(f"dashboard: no {key!r}")
    exprs = []
    panels = list(dashboard["panels"])
    while panels:
        panel = panels.pop()
        for key in ("type", "title", "gridPos"):
            if key not in panel:
                raise SystemExit(f"dashboard panel {panel.get('title')!r}: no {key!r}")
        panels.extend(panel.get("panels", []))
        for target in panel.get("targets", []):
            if not target.get("expr"):
                raise SystemExit(f"dashboard panel {panel['title']!r}: a target without expr")
            exprs.append(target["expr"])
    return exprs


def expressions_in_rules(rules):
    exprs = []
    groups = rules.get("groups")
    if not groups:
        raise SystemExit("rules: no groups")
    for group in groups:
        if not group.get("name") or not group.get("rules"):
            raise SystemExit("rules: a group without name or rules")
        for rule in group["rules"]:
            if not rule.get("alert") or not rule.get("expr"):
                raise SystemExit(f"rules: {rule!r} lacks alert or expr")
            if not rule.get("annotations", {}).get("summary"):
                raise SystemExit(f"rules: {rule['alert']} has no summary")
            exprs.append(rule["expr"])
    return exprs


def docs(exposition_path, dashboard_path, rules_path):
    import yaml

    with open(exposition_path) as f:
        exposed = exposed_names(f.read())
    with open(dashboard_path) as f:
        dashboard = json.load(f)
    with open(rules_path) as f:
        rules = yaml.safe_load(f)
    exprs = expressions_in_dashboard(dashboard) + expressions_in_rules(rules)
    used = {name for expr in exprs for name in NAME.findall(expr)}
    unknown = sorted(name for name in used if name not in exposed)
    if unknown:
        raise SystemExit(f"not exposed by the server: {', '.join(unknown)}")
    print(json.dumps(sorted(used)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["parse"]:
        families, samples = parse(sys.stdin.read())
        print(json.dumps({"families": families, "samples": samples}))
    elif sys.argv[1:2] == ["docs"] and len(sys.argv) == 5:
        docs(*sys.argv[2:5])
    else:
        raise SystemExit(__doc__)
