"""Progress of long work: services report it, whoever called them shows it.

One mechanism everywhere (the demo seed, invoice and royalty runs, FX imports, campus exports and
imports). A service doing long work takes `progress: Progress = no_progress` and, for each stage
of its work, opens it with a label and the number of items, then reports items as they are done::

    with progress("Importing rates", len(rows)) as advance:
        for row in rows:
            ...
            advance(1)  # any count: advance(len(batch)) after a batch

`progress(label, total)` is a context manager giving `advance(n: int) -> None`. Services never
know who watches: the CLI passes `core.cli.progress_bar()` (a click progress bar on stderr), the
web and tests pass nothing (`no_progress`) or a recorder. Where a service only consumes an
iterable, the caller wraps it instead: `tracked(items, progress, label)` yields the items and
advances after each one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

T = TypeVar("T")

Advance = Callable[[int], None]
"""Called with how many more items are done (not a running total)."""

Progress = Callable[[str, int], AbstractContextManager[Advance]]
"""`progress(label, total)`: a context manager around one stage of work, giving `advance`."""


def _ignore(_n_items: int) -> None:
    pass


@contextmanager
def no_progress(_label: str, _total: int) -> Iterator[Advance]:
    """Progress nobody watches (the default of every service)."""
    yield _ignore


def tracked(items: Sequence[T], progress: Progress, label: str) -> Iterator[T]:
    """Yield `items`, advancing one stage of `progress` after each one.

    A generator: close it (`contextlib.closing`) when the loop over it may stop early, so that
    the stage ends at once rather than when the generator is collected.
    """
    with progress(label, len(items)) as advance:
        for item in items:
            yield item
            advance(1)
