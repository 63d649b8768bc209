"""`make lint`'s dependency audit: pip-audit over this virtual environment (docs/operations.md).

It asks PyPI's advisory data first, then OSV's. A known vulnerability fails the run. When
neither database answers (CI reaches only the package registries: their mirror of PyPI has
no per-release advisory data, and OSV cannot be resolved) it says so in one line and passes,
so a machine without the internet can still lint.
Run it with the virtual environment's Python: `.venv/bin/python .ci/audit.py`.
"""

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVICES = ("pypi", "osv")
# One pip-audit run asks once per package; past this it is taken as no network, not as a fault.
RUN_TIMEOUT_SECONDS = 300
# What pip-audit (through requests) prints when it cannot reach a database at all.
NETWORK_ERRORS = (
    "ConnectionError",
    "NameResolutionError",
    "Max retries exceeded",
    "ProxyError",
    "SSLError",
    "Timeout",
    "timed out",
)


@dataclass(frozen=True)
class Verdict:
    """What one run found: `reached` is False when the database answered for no package."""

    reached: bool
    audited: int = 0
    vulnerabilities: tuple[str, ...] = ()


def verdict(report: dict) -> Verdict:
    """Read pip-audit's JSON report: a package it could not look up carries a `skip_reason`."""
    audited = [dependency for dependency in report["dependencies"] if "skip_reason" not in dependency]
    found = tuple(
        f"{dependency['name']} {dependency['version']}: {vuln['id']}"
        f" (fixed in {', '.join(vuln['fix_versions']) or 'no release yet'})"
        for dependency in audited
        for vuln in dependency["vulns"]
    )
    return Verdict(reached=bool(audited), audited=len(audited), vulnerabilities=found)


def run_pip_audit(service: str) -> tuple[dict | None, str]:
    """One pip-audit run against `service`: its JSON report (None if it wrote none) and its stderr."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "pip_audit", "--vulnerability-service", service, "--format", "json"]
        command += ["--progress-spinner", "off", "--skip-editable", "--output", str(output)]
        try:
            # The command is this interpreter and fixed arguments: no outside input.
            finished = subprocess.run(  # noqa: S603
                command, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            return None, "Timeout"
        report = json.loads(output.read_text()) if output.exists() and output.stat().st_size else None
        return report, finished.stderr


def audit() -> int:
    """The exit status of the audit, after one line (or one per vulnerability) on stdout."""
    for service in SERVICES:
        report, errors = run_pip_audit(service)
        if report is None:
            if not any(marker in errors for marker in NETWORK_ERRORS):
                print(f"audit: pip-audit failed against {service}:\n{errors}")
                return 2
            continue
        result = verdict(report)
        if not result.reached:
            continue
        if result.vulnerabilities:
            print(f"audit: {len(result.vulnerabilities)} known vulnerabilities ({service}):")
            print("\n".join(f"  {line}" for line in result.vulnerabilities))
            return 1
        print(f"audit: {result.audited} packages checked against {service}, no known vulnerability")
        return 0
    print(f"audit: skipped, no advisory database reachable ({', '.join(SERVICES)}); run `make lint` online to audit")
    return 0


if __name__ == "__main__":
    sys.exit(audit())
