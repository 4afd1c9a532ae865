"""Count the SQL statements a block runs, to catch N+1 queries on list pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[str]]:
    """Yield a list that fills with every statement `engine` executes inside the block.

    Transaction bookkeeping (the campus setting, SAVEPOINT) is left out, so the count is the work.
    """
    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _executemany) -> None:
        text = statement.strip().upper()
        if not text.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "SELECT SET_CONFIG",
                                   "SET LOCAL APP.")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
