"""Static and dependency checks (issue #12 item 4): bandit finds no high-severity issue in our code, and pip-audit
finds no known vulnerability in the pinned runtime dependencies.

pip-audit asks a vulnerability service (PyPI's JSON API or OSV). Where that service is not reachable, every
dependency comes back "could not be audited": the test then skips and says so (it proves nothing either way);
``SHANTING_REQUIRE_AUDIT=1`` turns that into a failure for a machine that should reach it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: Only the pins (no resolution: nothing is installed), as JSON.
AUDIT_ARGS = ("-r", "requirements.txt", "--no-deps", "--disable-pip", "-f", "json", "--progress-spinner", "off")


def test_bandit_finds_no_high_severity_issue() -> None:
    run = subprocess.run(
        [str(BIN / "bandit"), "-q", "-r", "dashboard", "datasources", "callbacks", "layouts", "-lll", "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    report = json.loads(run.stdout)
    found = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert found == [], "bandit: high-severity findings:\n" + "\n".join(found)


def test_pip_audit_finds_no_known_vulnerability_in_the_pins() -> None:
    run = subprocess.run(
        [str(BIN / "pip-audit"), *AUDIT_ARGS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"pip-audit did not answer with JSON (exit {run.returncode}): {run.stderr[-800:]}")
    deps = report["dependencies"]
    vulnerable = [f"{d['name']} {d['version']}: {[v['id'] for v in d['vulns']]}" for d in deps if d.get("vulns")]
    assert vulnerable == [], "known vulnerabilities in pinned dependencies:\n" + "\n".join(vulnerable)
    audited = [d for d in deps if "skip_reason" not in d]
    if not audited:
        message = (
            "pip-audit could not reach its vulnerability service (PyPI JSON API / OSV): "
            f"none of {len(deps)} pinned dependencies was audited ({deps[0].get('skip_reason', '')})"
        )
        if os.environ.get("SHANTING_REQUIRE_AUDIT") == "1":
            pytest.fail(message)
        pytest.skip(message)
