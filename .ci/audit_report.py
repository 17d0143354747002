"""Read pip-audit's JSON report: exit 1 on any known vulnerability, 3 when a
dependency could not be checked (advisory data unreachable), 0 when all were checked
and none is vulnerable. Used by .ci/audit-deps."""

from __future__ import annotations

import json
import sys
from pathlib import Path

VULNERABLE, UNCHECKED = 1, 3


def verdict(report: dict) -> tuple[int, list[str]]:
    """The exit status and the lines to print for one pip-audit JSON report."""
    lines: list[str] = []
    vulnerable, unchecked = [], []
    for dep in report.get("dependencies", []):
        name = f"{dep.get('name')} {dep.get('version', '')}".strip()
        if dep.get("skip_reason"):
            unchecked.append(f"{name}: {dep['skip_reason']}")
        for vuln in dep.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
            vulnerable.append(f"{name}: {vuln.get('id')} (fixed in {fixes})")
    if vulnerable:
        lines += ["Known vulnerabilities in the locked dependencies:", *vulnerable]
        return VULNERABLE, lines
    if unchecked:
        lines += [
            f"{len(unchecked)} dependencies could not be checked (the advisory data "
            "did not answer):",
            *unchecked[:5],
            *(["..."] if len(unchecked) > 5 else []),
        ]
        return UNCHECKED, lines
    checked = len(report.get("dependencies", []))
    return 0, [f"{checked} locked dependencies checked: no known vulnerability."]


def main() -> int:
    status, lines = verdict(json.loads(Path(sys.argv[1]).read_text()))
    print("\n".join(lines), file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
