"""The one exception type that reaches users as a message instead of a traceback."""

from __future__ import annotations

import functools
import sys
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)


class AslError(Exception):
    """A problem with the user's input: a file, a value, a parameter. The message says which and what is wrong."""


def warn(message: str) -> None:
    """Tell the user on stderr about something that does not stop the work: `warning: <message>`."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def exit_on_user_error(command: F) -> F:
    """Wrap a CLI command so an `AslError` prints `error: <message>` and exits with status 1, and Ctrl-C prints
    `error: interrupted` and exits with 130 (as a shell reports SIGINT), both without a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except AslError as error:
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(1) from None
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            raise SystemExit(130) from None

    return wrapper  # type: ignore[return-value]
