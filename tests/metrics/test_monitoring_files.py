"""The dashboard and the alert rules in monitoring/, checked as `make lint` checks them."""

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
MONITORING = ROOT / "monitoring"
sys.path.insert(0, str(MONITORING))

import check_monitoring as check  # noqa: E402

from inventory.metrics.definitions import exported_names  # noqa: E402

DASHBOARD = json.loads((MONITORING / "grafana-dashboard.json").read_text())
RULES = yaml.safe_load((MONITORING / "alerts.rules.yml").read_text())
KNOWN = exported_names() | check.recorded_names(RULES)


def test_the_files_pass_the_check():
    assert check.main(MONITORING / "grafana-dashboard.json", MONITORING / "alerts.rules.yml") == []


def test_every_exported_metric_has_a_panel():
    shown = {
        name
        for panel in check._panels(DASHBOARD["panels"])
        for t in panel.get("targets", [])
        for name in check.metric_names(t["expr"])
    }
    families = {name.removesuffix("_total").removesuffix("_bucket") for name in shown}
    assert {
        "inventory_reserves",
        "inventory_holds_ended",
        "inventory_version_conflicts",
        "inventory_oversold_rows",
        "inventory_expiry_lag_seconds",
        "inventory_stock_out_levels",
        "inventory_low_stock_levels",
        "inventory_sold_out_gate_lookups",
        "inventory_turnover_30d",
        "inventory_http_requests",
        "inventory_http_request_duration_seconds",
    } <= families


def test_a_panel_naming_a_metric_we_do_not_export_fails():
    dashboard = copy.deepcopy(DASHBOARD)
    target = next(panel for panel in dashboard["panels"] if panel["type"] != "row")["targets"][0]
    target["expr"] = 'sum(rate(inventory_reserve_total{outcome="reserved"}[5m]))'

    problems = list(check.dashboard_problems(dashboard, KNOWN))

    assert len(problems) == 1
    assert "inventory_reserve_total is not a metric" in problems[0]


def test_a_fixed_data_source_fails():
    dashboard = copy.deepcopy(DASHBOARD)
    next(panel for panel in dashboard["panels"] if panel["type"] != "row")["datasource"] = {"uid": "prod-prometheus"}

    assert [p for p in check.dashboard_problems(dashboard, KNOWN) if "datasource is not" in p]


def test_a_rule_on_an_unknown_metric_fails():
    rules = copy.deepcopy(RULES)
    rules["groups"][1]["rules"][0]["expr"] = "max(inventory_oversold) > 0"

    assert [p for p in check.rules_problems(rules, KNOWN) if "inventory_oversold is not" in p]


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ('sum by (route) (rate(a_total{status="5xx", route=~"$r"}[$__rate_interval]))', {"a_total"}),
        ("histogram_quantile(0.95, sum by (le) (rate(b_bucket[5m]))) > 1e3", {"b_bucket"}),
        ("x:y:rate5m > 0.25 and x:y:rate5m > 2 * x:y:rate1d offset 1h", {"x:y:rate5m", "x:y:rate1d"}),
        ("max(c) == 0 or absent(d)", {"c", "d"}),
        ("label_values(e, warehouse)", {"e"}),
        ("vector(1)", set()),
    ],
)
def test_metric_names_of_an_expression(expression, names):
    assert check.metric_names(expression) == names


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool: .ci/run installs Debian's prometheus")
@pytest.mark.parametrize("command", [["check", "rules", "alerts.rules.yml"], ["test", "rules", "alerts.test.yml"]])
def test_promtool_accepts_the_rules_and_their_unit_test(command):
    result = subprocess.run(["promtool", *command], cwd=MONITORING, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
