"""Reports: result.json, the terminal summary (later: Markdown, JUnit, HTML)."""
