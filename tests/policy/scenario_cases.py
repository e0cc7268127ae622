"""Load the YAML scenario files under tests/policy/scenarios/.

A file names one profile and holds scenarios, each named as a sentence a lawyer can read:

    profile: louisville-lmpd-2017        # used when an assessment names no profile
    scenarios:
      - name: A confirmed criminal warrant for burglary is a ground
        assessment: {date: "2017-10-02", requested_actions: [serve_criminal_warrant], ...}
        expect:                          # only the keys given are compared
          decision: dispatch
          grounds: [criminal_warrant]
          clauses: [lmpd.ground-criminal-warrant]   # clauses the reasons must cite
      - name: The policy does not apply before it was announced
        assessment: {...}
        expect_error: "not in force"     # invalid input: part of the error message
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SCENARIO_DIR = Path(__file__).with_name("scenarios")


@dataclass(frozen=True)
class Scenario:
    file: str
    name: str
    assessment: dict[str, Any]
    expect: dict[str, Any]
    expect_error: str | None


def load_scenarios() -> list[Scenario]:
    """Return every scenario of every file, with the file's profile filled in."""
    cases: list[Scenario] = []
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in doc["scenarios"]:
            assessment = dict(item["assessment"])
            assessment.setdefault("profile", doc["profile"])
            cases.append(
                Scenario(
                    path.name,
                    item["name"],
                    assessment,
                    item.get("expect", {}),
                    item.get("expect_error"),
                )
            )
    return cases
