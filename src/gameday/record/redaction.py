"""Secrets never reach a report: every value from an experiment's `secrets`, and every
configuration value whose name says it is secret, is scrubbed from what gameday writes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***redacted***"
SECRET_NAME = re.compile(
    r"(secret|token|password|passwd|api[_-]?key|private[_-]?key|credential|webhook|auth)", re.I
)
MIN_LENGTH = 4  # shorter values would mask ordinary words


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def secret_values(configuration: Mapping[str, Any], secrets: Mapping[str, Any]) -> set[str]:
    found = set(_strings(secrets))
    for key, value in configuration.items():
        if SECRET_NAME.search(str(key)):
            found.update(_strings(value))
    return {value for value in found if len(value) >= MIN_LENGTH}


class Redactor:
    def __init__(self, values: Iterable[str]) -> None:
        # Longest first, so a secret containing another is masked whole.
        self._values = sorted(set(values), key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, MASK)
        return text

    def scrub_document(self, document: Any) -> Any:
        """A copy of a JSON-like document with every secret masked in every string."""
        if not self._values:
            return document
        if isinstance(document, str):
            return self.scrub(document)
        if isinstance(document, Mapping):
            return {self.scrub(str(k)): self.scrub_document(v) for k, v in document.items()}
        if isinstance(document, list | tuple):
            return [self.scrub_document(item) for item in document]
        return document
