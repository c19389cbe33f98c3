"""Reports: result.json, the terminal summary, and (from them) index.html, summary.md, junit.xml.

`gameday.report.render.render_report(directory, runbook=...)` (re)writes the
last three from a run's `result.json` or a plan's `plan-result.json`.
"""
