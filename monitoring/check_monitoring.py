"""Check the Grafana dashboard and the alert rules against what /metrics exports (`make lint`).

`promtool check rules` proves the rules are valid PromQL; this proves that the dashboard is a
Grafana dashboard whose panels read Prometheus through the `datasource` variable, and that every
expression of either file names only metrics the service exports (inventory/metrics/definitions.py)
or that the rules record. A renamed metric then fails the lint instead of leaving a blank panel
or an alert that can never fire.

    python monitoring/check_monitoring.py [dashboard.json] [rules.yml]
"""

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from inventory.metrics.definitions import exported_names  # noqa: E402

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# PromQL's words that are not metric names: operators, modifiers, and literals.
KEYWORDS = {"and", "or", "unless", "atan2", "bool", "by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS |= {"offset", "inf", "nan"}
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPINGS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_OFFSETS = re.compile(r"\boffset\s+-?\w+")
_VARIABLES = re.compile(r"\$\{[^}]*\}|\$\w+")
_IDENTIFIER = re.compile(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?")


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression (or a Grafana `label_values(metric, label)`) reads."""
    text = _VARIABLES.sub("1", _STRINGS.sub('""', expression))
    text = _MATCHERS.sub("", text)
    label_values = re.fullmatch(r"\s*label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)\s*", text)
    if label_values:
        return {label_values.group(1)}
    text = _OFFSETS.sub("", _GROUPINGS.sub("", _RANGES.sub("", text)))
    return {name for name, call in _IDENTIFIER.findall(text) if not call and name.lower() not in KEYWORDS}


def dashboard_problems(dashboard: dict, known: set[str]) -> Iterator[str]:
    for key in ("title", "uid", "schemaVersion", "panels", "templating"):
        if key not in dashboard:
            yield f"the dashboard has no {key!r}"
    variables = {variable.get("name"): variable for variable in dashboard.get("templating", {}).get("list", [])}
    source = variables.get("datasource", {})
    if (source.get("type"), source.get("query")) != ("datasource", "prometheus"):
        yield 'no variable "datasource" of type datasource for prometheus: the data source must be chosen, not fixed'
    for name, variable in variables.items():
        if variable.get("type") == "query":
            query = variable.get("query")
            yield from _expression_problems(
                f"variable {name}", query.get("query", "") if isinstance(query, dict) else query, known
            )
    ids = set()
    for panel in _panels(dashboard.get("panels", [])):
        where = f"panel {panel.get('id')} ({panel.get('title', '')!r})"
        if panel.get("id") in ids:
            yield f"{where}: its id is used twice"
        ids.add(panel.get("id"))
        if not {"x", "y", "w", "h"} <= set(panel.get("gridPos", {})):
            yield f"{where}: no gridPos"
        if panel.get("type") == "row":
            continue
        if panel.get("datasource") != DATASOURCE:
            yield f"{where}: its datasource is not {DATASOURCE}"
        if not panel.get("targets"):
            yield f"{where}: no targets"
        for target in panel.get("targets", []):
            if target.get("datasource", DATASOURCE) != DATASOURCE:
                yield f"{where}, target {target.get('refId')}: its datasource is not {DATASOURCE}"
            yield from _expression_problems(f"{where}, target {target.get('refId')}", target.get("expr", ""), known)


def rules_problems(rules: dict, known: set[str]) -> Iterator[str]:
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            yield from _expression_problems(f"rule {name}", rule.get("expr", ""), known)


def recorded_names(rules: dict) -> set[str]:
    return {rule["record"] for group in rules.get("groups", []) for rule in group.get("rules", []) if "record" in rule}


def _expression_problems(where: str, expression: str, known: set[str]) -> Iterator[str]:
    names = metric_names(expression)
    if not names:
        yield f"{where}: the expression {expression!r} reads no metric"
    for name in sorted(names - known):
        yield f"{where}: {name} is not a metric /metrics exports or the rules record"


def _panels(panels: list[dict]) -> Iterator[dict]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def main(dashboard_path: Path, rules_path: Path) -> list[str]:
    rules = yaml.safe_load(rules_path.read_text())
    known = exported_names() | recorded_names(rules)
    dashboard = json.loads(dashboard_path.read_text())
    return [*dashboard_problems(dashboard, known), *rules_problems(rules, known)]


if __name__ == "__main__":
    arguments = sys.argv[1:] or [HERE / "grafana-dashboard.json", HERE / "alerts.rules.yml"]
    problems = main(*map(Path, arguments))
    for problem in problems:
        print(problem, file=sys.stderr)
    sys.exit(1 if problems else 0)
