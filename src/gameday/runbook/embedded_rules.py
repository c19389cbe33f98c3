"""Prometheus alerting rules written into a runbook's YAML code blocks.

Accepted shapes: a rule file (`groups:`), a PrometheusRule resource
(`spec: groups:`), a bare list of rules, or one rule (`alert:` + `expr:`).
"""

from __future__ import annotations

from typing import Any

import yaml

from gameday.runbook.document import Fence
from gameday.runbook.model import Rule
from gameday.runbook.rules import RuleShapeError, parse_rule_groups

__all__ = ["rules_in_fence"]

_YAML_LANGUAGES = frozenset({"yaml", "yml", "", "prometheus", "promql-rules", "rules"})


def _as_groups(data: Any) -> dict[str, Any] | None:
    if isinstance(data, dict):
        if "groups" in data:
            return data
        spec = data.get("spec")
        if isinstance(spec, dict) and "groups" in spec:
            return {"groups": spec["groups"]}
        if isinstance(data.get("rules"), list):
            return {"groups": [{"name": str(data.get("name") or ""), "rules": data["rules"]}]}
        if "alert" in data and "expr" in data:
            return {"groups": [{"name": "", "rules": [data]}]}
        return None
    if (
        isinstance(data, list)
        and data
        and all(isinstance(item, dict) and ("alert" in item or "record" in item) for item in data)
    ):
        return {"groups": [{"name": "", "rules": data}]}
    return None


def rules_in_fence(fence: Fence, source: str, warnings: list[str]) -> list[Rule]:
    """The alerting rules in a YAML code block; [] when it holds none (a warning when it
    looks like rules but does not parse)."""
    if fence.language not in _YAML_LANGUAGES or not (
        "alert" in fence.content or "groups" in fence.content
    ):
        return []
    try:
        documents = list(yaml.safe_load_all(fence.content))
    except yaml.YAMLError as exc:
        if "groups:" in fence.content or "- alert:" in fence.content:
            mark = getattr(exc, "problem_mark", None)
            line = fence.line + 1 + (mark.line if mark is not None else 0)
            warnings.append(
                f"{source}:{line}: a YAML block that looks like rules does not parse; skipped"
            )
        return []
    rules: list[Rule] = []
    for data in documents:
        groups = _as_groups(data)
        if groups is None:
            continue
        try:
            rules.extend(
                parse_rule_groups(groups, source=source, line_offset=fence.line, text=fence.content)
            )
        except RuleShapeError as exc:
            warnings.append(f"{source}:{fence.line}: rule block skipped: {exc} at {exc.where}")
    return rules
