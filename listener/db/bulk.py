"""Many-row INSERTs on the ingest's hot path, without SQLAlchemy's per-row parameter machinery.

A cold run stores hundreds of thousands of posts and insights. Through `session.execute(insert(table), rows)`
SQLAlchemy spends more time per row (building each parameter set, looking up each column's bind processor) than
the database spends inserting it. Here the statement is compiled once per dialect, the column types' own bind
processors (the ones SQLAlchemy would use: UTC datetimes, JSON) are looked up once, and the rows go to the
driver's executemany as plain tuples or dicts. What reaches the database is what SQLAlchemy would have sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Insert, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any]
_NOTHING = object()
IN_CHUNK = 400  # values in one IN (...) list: stays under SQLite's bound-parameter limit


def in_chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """`values` in slices of IN_CHUNK, one IN (...) query each."""
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


@dataclass(frozen=True)
class _Plan:
    sql: str
    processors: tuple[tuple[int, Processor], ...]  # (position in the row, processor) of the columns that have one
    names: tuple[str, ...] | None  # the parameter names, for drivers with named parameters
    order: tuple[int, ...] | None  # for positional drivers: the row positions in the order the SQL names them


class BulkInsert:
    """INSERT INTO table (columns) for many rows, each a sequence of values in the order of `columns`.

    `skip_conflicts`: a row that would break a unique constraint is left out (ON CONFLICT DO NOTHING, on SQLite and
    PostgreSQL), for rows that two writers may both insert with the same content.
    """

    def __init__(self, table: Table, columns: Sequence[str], *, skip_conflicts: bool = False) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.skip_conflicts = skip_conflicts
        self._plans: dict[str, _Plan] = {}

    def execute(self, connection: Connection, rows: Iterable[Sequence[Any]]) -> None:
        plan = self._plan(connection.dialect)
        params: list[Any] = []
        # The last value each processor saw, and what it made of it: rows often share one object (the run's clock,
        # an empty list), and processors are pure, so that object is converted once, not once per row.
        seen: list[tuple[Any, Any]] = [(_NOTHING, None)] * len(plan.processors)
        for row in rows:
            values = list(row)
            for slot, (position, process) in enumerate(plan.processors):
                value = values[position]
                last, converted = seen[slot]
                if value is not last:
                    converted = process(value)
                    seen[slot] = (value, converted)
                values[position] = converted
            if plan.names is not None:
                params.append(dict(zip(plan.names, values, strict=True)))
            else:
                params.append(tuple(values[i] for i in plan.order) if plan.order else tuple(values))
        if params:
            connection.exec_driver_sql(plan.sql, params)

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = self._compile(dialect)
        return plan

    def _compile(self, dialect: Dialect) -> _Plan:
        compiled = self._statement(dialect).compile(
            dialect=dialect, column_keys=list(self.columns), for_executemany=True
        )
        binds = tuple(compiled.params)  # every parameter the statement takes, by name
        if sorted(binds) != sorted(self.columns):  # e.g. a column default to fire: SQLAlchemy's own path does that
            raise ValueError(f"cannot bulk-insert into {self.table.name}: it takes {binds}, not {self.columns}")
        processors = tuple(
            (i, process)
            for i, name in enumerate(self.columns)
            if (process := self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
        )
        positional = compiled.positiontup
        if positional is None:
            return _Plan(compiled.string, processors, self.columns, None)
        order = tuple(self.columns.index(name) for name in positional)
        return _Plan(compiled.string, processors, None, None if order == tuple(range(len(order))) else order)

    def _statement(self, dialect: Dialect) -> Insert:
        if not self.skip_conflicts:
            return insert(self.table)
        if dialect.name == "postgresql":
            return postgresql.insert(self.table).on_conflict_do_nothing()
        if dialect.name == "sqlite":
            return sqlite.insert(self.table).on_conflict_do_nothing()
        raise ValueError(f"skip_conflicts is not supported on {dialect.name}")
