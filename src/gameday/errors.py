"""The error tree. Every error gameday raises on purpose carries its exit code.

Exit codes: 0 all expectations met, 1 an expectation failed, 2 invalid input,
3 environment or infrastructure error, 130 interrupted (after rollback).
Messages are lower-case, quote the bad value and say how to fix it.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_EXPECTATION_FAILED = 1
EXIT_INVALID_INPUT = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERRUPTED = 130


class GamedayError(Exception):
    """Root of gameday's errors; `cli` turns it into a message and an exit code."""

    exit_code: int = EXIT_ENVIRONMENT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def format(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class InvalidInputError(GamedayError):
    """Bad input (a file, an option, a value): refused before anything is injected."""

    exit_code = EXIT_INVALID_INPUT

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        location = ":".join(part for part in (source, where) if part)
        super().__init__(f"{location}: {message}" if location else message, hint=hint)
        self.source = source
        self.where = where


class EnvironmentProblem(GamedayError):
    """The machine or the infrastructure is not as needed (missing binary, port taken, ...)."""

    exit_code = EXIT_ENVIRONMENT


class LabError(EnvironmentProblem):
    """A lab part failed to start, stop or answer."""

    def __init__(self, message: str, *, part: str | None = None, hint: str | None = None) -> None:
        super().__init__(f"{part}: {message}" if part else message, hint=hint)
        self.part = part


class ExpectationFailed(GamedayError):
    """At least one expectation was not met: a verdict, reported with exit code 1."""

    exit_code = EXIT_EXPECTATION_FAILED


class Interrupted(GamedayError):
    """The run was interrupted (Ctrl-C, SIGTERM) after its rollbacks ran."""

    exit_code = EXIT_INTERRUPTED
