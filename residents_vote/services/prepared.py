"""Core statements of the vote path, compiled once and run on SQLite's own cursor.

A Core `conn.execute` costs about as much Python as the SQLite statement itself
(execution context, parameter and result processing set up per call), and a vote runs
eight of them (bench/vote_load.py --profile). A `Prepared` statement is compiled once
per dialect; on SQLite it then runs straight on the driver's cursor, its parameters and
result columns converted by the same SQLAlchemy type processors Core uses (so a
`UTCDateTime` reads and writes exactly as through Core). Everything else goes through
Core unchanged: PostgreSQL, a connection someone watches (statement listeners in
tests, `echo`), and a statement whose compiled form needs what only Core does
(Python-side column defaults, post-compile parameters): that is decided once, when the
statement is first compiled. tests/test_i13_prepared.py checks both paths give the same
rows and write the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # parameters, in their positional order
    given: tuple[bool, ...]  # per parameter: from the caller (else fixed in the statement)
    fixed: tuple[Any, ...]  # per parameter: the value fixed in the statement
    binds: tuple[Callable[[Any], Any] | None, ...]  # per parameter: the type's processor
    results: tuple[Callable[[Any], Any] | None, ...]  # per result column


@dataclass(frozen=True)
class Written:
    rowcount: int
    lastrowid: int | None


_CORE = None  # a compiled form that only Core can run


class Prepared:
    """One Core statement; `first`, `write` and `write_many` run it on a connection."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        # per set of parameter names: the compiled form, or _CORE
        self._compiled: dict[tuple[str, ...], _Compiled | None] = {}

    def _raw(self, conn: Connection, params: Mapping[str, Any]) -> _Compiled | None:
        """The compiled form for the driver's cursor, or None: use Core."""
        if conn.dialect.name != "sqlite" or _watched(conn):
            return None
        keys = tuple(sorted(params))
        try:
            return self._compiled[keys]
        except KeyError:
            compiled = self._compiled[keys] = _compile(self.statement, conn, keys)
            return compiled

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple | None:
        """The first row (its values as Core would give them), or None."""
        compiled = self._raw(conn, params)
        if compiled is None:
            row = conn.execute(self.statement, params).first()
            return None if row is None else tuple(row)
        cursor = _cursor(conn)
        try:
            cursor.execute(compiled.sql, _args(compiled, params))
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return tuple(
            value if proc is None or value is None else proc(value)
            for proc, value in zip(compiled.results, row, strict=True)
        )

    def write(self, conn: Connection, params: Mapping[str, Any]) -> Written:
        """Run an INSERT, UPDATE or DELETE: the rows changed and an inserted row's id."""
        compiled = self._raw(conn, params)
        if compiled is None:
            result = conn.execute(self.statement, params)
            key = result.inserted_primary_key if result.is_insert else None
            return Written(result.rowcount, key[0] if key else None)
        cursor = _cursor(conn)
        try:
            cursor.execute(compiled.sql, _args(compiled, params))
            return Written(cursor.rowcount, cursor.lastrowid)
        finally:
            cursor.close()

    def write_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run an INSERT or UPDATE once per row (every row with the same names)."""
        compiled = self._raw(conn, rows[0]) if rows else None
        if compiled is None:
            if rows:
                conn.execute(self.statement, list(rows))
            return
        cursor = _cursor(conn)
        try:
            cursor.executemany(compiled.sql, [_args(compiled, row) for row in rows])
        finally:
            cursor.close()


def _watched(conn: Connection) -> bool:
    dispatch = conn.dispatch
    return bool(
        dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
        or dispatch.before_execute
        or dispatch.after_execute
        or conn.engine.echo
    )


def _cursor(conn: Connection):  # noqa: ANN202 - a DB-API cursor
    return conn.connection.driver_connection.cursor()


def _args(compiled: _Compiled, params: Mapping[str, Any]) -> tuple:
    values = []
    for name, given, fixed, proc in zip(
        compiled.names, compiled.given, compiled.fixed, compiled.binds, strict=True
    ):
        value = params[name] if given else fixed
        values.append(value if proc is None or value is None else proc(value))
    return tuple(values)


def _compile(statement: Executable, conn: Connection, keys: tuple[str, ...]) -> _Compiled | None:
    """Compile for SQLite's positional parameters, with the caller's parameter names as
    the columns an INSERT or UPDATE sets; None when only Core can run it: a Python-side
    column default or onupdate (Core computes it per execution), an expanding or
    literal-execute parameter, an escaped parameter name, a callable value."""
    dialect = conn.dialect
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    if (
        dialect.paramstyle != "qmark"
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.escaped_bind_names
    ):
        return _CORE
    names = tuple(compiled.positiontup or ())
    given, fixed, binds = [], [], []
    for name in names:
        bind = compiled.binds.get(name)
        if bind is None or bind.callable is not None:
            return _CORE
        from_caller = name in keys
        if not from_caller and bind.required:
            return _CORE  # Core would refuse the missing value: let it say so
        given.append(from_caller)
        fixed.append(None if from_caller else bind.value)
        binds.append(bind.type.dialect_impl(dialect).bind_processor(dialect))
    results = []
    if getattr(statement, "is_select", False):
        for column in statement.selected_columns:
            results.append(column.type.dialect_impl(dialect).result_processor(dialect, None))
    return _Compiled(str(compiled), names, tuple(given), tuple(fixed), tuple(binds), tuple(results))
