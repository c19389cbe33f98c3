"""The parser never crashes: any text gives a model or an InvalidInputError."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.errors import InvalidInputError
from gameday.runbook import Rule, Runbook, parse_runbook, parse_runbook_text
from gameday.runbook.encoding import decode_bytes

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
        "**Alert:** `DiskFull`\n**Severity:** S1\n",
        "**Alert:** X **Severity:**\n",
        "| Alert | `A` |\n|--|--|\n| Severity | P2 |\n",
        "# KubePodCrashLooping\n\n## Meaning\n\nx\n\n## Mitigation\n\n- `kubectl get pods`\n",
        "### RedisDown (critical)\n",
        "- **A**\n  - Severity: high\n",
        "Severity: P1 (15-minute response) for 5 minutes\n",
        "[x](missing.md)\n",
        "–ü—Ä–∏ ¬´–¥¬ª\n",
        "## Критично\n- **ДискЗаполнен**: диск\n",
        "```yaml\n- alert: Q\n  expr: up\n```\n",
        "```yaml\nspec:\n  groups: 3\n```\n",
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


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=20)), max_size=10))
def test_binding_rules_never_crashes(parts: list[str]) -> None:
    rules = [Rule(name=name, expr="up") for name in ("DiskFull", "A", "RedisDown", "ДискЗаполнен")]
    try:
        parse_runbook_text("".join(parts), "fuzz.md", rules=rules).to_dict()
    except InvalidInputError as error:
        assert error.exit_code == 2


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_or_are_refused(data: bytes) -> None:
    decoded = decode_bytes(data)
    assert decoded is None or isinstance(decoded.text, str)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c/d"]), st.binary(max_size=200)), max_size=4))
def test_folders_of_any_pages_never_crash(pages: list[tuple[str, bytes]]) -> None:
    with TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, data in pages:
            path = root / f"{name}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            parse_runbook(root).to_dict()
        except InvalidInputError as error:
            assert error.exit_code == 2
