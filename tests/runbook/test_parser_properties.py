"""The parser never crashes: any text gives a model or an InvalidInputError."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.errors import InvalidInputError
from gameday.runbook import Runbook, parse_runbook_text

_FRAGMENTS = st.sampled_from(
    [
        "# Title\n",
        "## Alerts\n",
        "### Alert: X\n",
        "## 🔴 Critical (15-minute response)\n",
        "## SLOs\n",
        "## Escalation\n",
        "| Alert | Severity | Procedure |\n|---|---|---|\n| `A` | critical | [p](#p) |\n",
        "| Metric | Target |\n|---|---|\n| MTTD | <5 min |\n",
        "| Service | RTO | RPO |\n|--|--|--|\n| db | 1h |\n",
        "| a |\n|---|\n",
        "- **Name**: meaning > 5%\n",
        "1. step\n   ```bash\n   echo hi \\\n   ```\n",
        "```yaml\ngroups:\n  - name: g\n    rules:\n      - alert: R\n        expr: up == 0\n```\n",
        "```yaml\ngroups: [\n```\n",
        "```yaml\ngroups:\n  - rules: 5\n```\n",
        "```bash\ncat <<EOF\nx\n```\n",
        "**Step 1: do**\n\n```sh\n# Step 2: x\nls\n```\n",
        "- Alert: `Foo` fired\n",
        "Level 1: someone (5 min)\n",
        "> quoted **bold**\n",
        "---\n",
        "â€” ðŸ”´ ‚Üí\n",
        "\n",
        "    indented code\n",
        "<div>html</div>\n",
        "* [ ] task\n",
        "Rollback if everything burns.\n",
    ]
)


def _check(text: str) -> None:
    try:
        runbook = parse_runbook_text(text, "fuzz.md")
    except InvalidInputError as error:
        assert error.exit_code == 2
        return
    assert isinstance(runbook, Runbook)
    runbook.to_dict()


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_random_text_never_crashes(text: str) -> None:
    _check(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=20)), max_size=12))
def test_random_markdown_never_crashes(parts: list[str]) -> None:
    _check("".join(parts))
