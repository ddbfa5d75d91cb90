"""One exception root for Listener; only the CLI turns these into messages and exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes that scripts and cron rely on (design.md, "Contracts")."""

    OK = 0
    ATTENTION = 1  # something needs attention: some sources failed, some mail not sent
    BAD_INPUT = 2  # bad usage or bad input; nothing was changed


class ListenerError(Exception):
    """Root of every error Listener raises on purpose; its message is one line that says what to do."""

    exit_code: ExitCode = ExitCode.ATTENTION

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def explain(self) -> str:
        """The one line a person sees."""
        return f"{self.message} ({self.hint})" if self.hint else self.message


class BadInput(ListenerError):
    """The user gave something we cannot use; nothing was changed."""

    exit_code = ExitCode.BAD_INPUT


class NotFound(BadInput):
    """A named rep, customer, contact or source does not exist."""


class AlreadyExists(BadInput):
    """The thing being added is there already."""


class ConfigError(BadInput):
    """The settings file, an environment override or a rules file is invalid."""


class DatabaseNotReady(ListenerError):
    """The database has no schema yet, or an older one: `listener init` fixes it."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, url_for_humans: str) -> None:
        super().__init__(
            f"the database at {url_for_humans} is not initialised or needs an upgrade",
            hint="run `listener init` first",
        )


class DatabaseUnreachable(BadInput):
    """The database server (or file) cannot be reached: nothing was read or changed."""


class FetchError(ListenerError):
    """A source could not be fetched or parsed; kept on the source, never aborts a run."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds the server asked us to wait, if it did
        self.permanent = permanent  # e.g. 410 Gone: disable the source


class LocalError(FetchError):
    """A poll that failed on our side (a bug met on hostile input), not the server's: its validators are dropped."""


class DeliveryError(ListenerError):
    """A digest could not be delivered; the next run retries it."""


class RateLimited(FetchError):
    """The service asked us to wait (429, rate-limit reset): the source is deferred, not failed."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retry_after=retry_after)
