"""`make lint`'s dependency audit (.ci/audit.py): fails on a known vulnerability, never for lack of network."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "audit.py"
_spec = importlib.util.spec_from_file_location("ci_audit", SCRIPT)
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)

# pip-audit's JSON report, as version 2.10 writes it.
SKIPPED = {"name": "amqp", "skip_reason": "Dependency not found on PyPI and could not be audited: amqp (5.4.2)"}
CLEAN = {"name": "celery", "version": "5.7.0", "vulns": []}
VULNERABLE = {
    "name": "django",
    "version": "5.2.19",
    "vulns": [{"id": "PYSEC-2099-1", "fix_versions": ["5.2.20"], "aliases": ["CVE-2099-1"], "description": "..."}],
}


def report(*dependencies: dict) -> dict:
    return {"dependencies": list(dependencies), "fixes": []}


def test_a_known_vulnerability_is_found_with_its_fix():
    result = audit.verdict(report(SKIPPED, CLEAN, VULNERABLE))

    assert result.reached
    assert result.audited == 2
    assert result.vulnerabilities == ("django 5.2.19: PYSEC-2099-1 (fixed in 5.2.20)",)


def test_a_database_that_knew_no_package_was_not_reached():
    assert not audit.verdict(report(SKIPPED, SKIPPED)).reached


def test_the_audit_fails_on_a_vulnerability(monkeypatch, capsys):
    monkeypatch.setattr(audit, "run_pip_audit", lambda service: (report(CLEAN, VULNERABLE), ""))

    assert audit.audit() == 1
    assert "PYSEC-2099-1" in capsys.readouterr().out


def test_the_audit_passes_a_clean_environment(monkeypatch, capsys):
    monkeypatch.setattr(audit, "run_pip_audit", lambda service: (report(SKIPPED, CLEAN), ""))

    assert audit.audit() == 0
    assert capsys.readouterr().out == "audit: 1 packages checked against pypi, no known vulnerability\n"


def test_the_audit_fails_when_pip_audit_breaks_for_another_reason(monkeypatch):
    monkeypatch.setattr(audit, "run_pip_audit", lambda service: (None, "ModuleNotFoundError: No module named x"))

    assert audit.audit() == 2


@pytest.mark.slow
def test_with_no_network_the_real_audit_skips_in_one_line():
    """pip-audit for real, its HTTP sent to a closed port: as on a machine with no internet."""
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "HTTPS_PROXY": closed, "HTTP_PROXY": closed, "https_proxy": closed, "http_proxy": closed}
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)

    result = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=600)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "audit: skipped, no advisory database reachable (pypi, osv); run `make lint` online to audit"
    ]
