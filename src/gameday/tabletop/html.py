"""The tabletop script as one self-contained HTML file: inline CSS, no scripts, no CDN.

The Markdown is rendered by markdown-it with raw HTML disabled, so text from
runbooks and experiments is escaped, never interpreted.
"""

from __future__ import annotations

import html

from markdown_it import MarkdownIt

__all__ = ["render_html"]

_CSS = """
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
h1 { border-bottom: 2px solid #333; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid #bbb; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 90%; }
@media print { h2 { page-break-before: always; } pre { white-space: pre-wrap; } }
"""

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table"])


def render_html(markdown: str, title: str) -> str:
    body = _MARKDOWN.render(markdown)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )
