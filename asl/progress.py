"""Progress bars on a terminal only: in a log file or CI they would write thousands of updates, so there a task
prints one summary line when it ends instead."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


def on_terminal() -> bool:
    """Whether progress goes to a terminal (stderr, where tqdm writes)."""
    return sys.stderr.isatty()


class Progress:
    """A tqdm bar (`disable=None`: off when stderr is not a terminal) that counts even when off, for the summary."""

    def __init__(self, total: int | None, description: str, unit: str, leave: bool = True) -> None:
        self.description, self.unit = description, unit
        self.bar = tqdm(total=total, desc=description, unit=unit, mininterval=1.0, leave=leave, disable=None)
        self.count, self.start = 0, time.perf_counter()

    def update(self, count: int = 1) -> None:
        self.count += count
        self.bar.update(count)

    def close(self) -> None:
        """Close the bar; without one, print `<description>: <count> <unit> in <seconds> s`."""
        self.bar.close()
        if self.bar.disable:
            print(f"{self.description}: {self.count} {self.unit} in {time.perf_counter() - self.start:.1f} s",
                  file=sys.stderr, flush=True)
