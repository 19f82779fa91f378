"""The statements the busiest commands run, compiled once per dialect and sent on the driver's own cursor.

SQLAlchemy builds them (the one way a query is written in Bascule) and compiles them once; what it does around
each execution of a compiled statement (cache lookup, an execution context, a result object with its metadata,
event dispatch through its machinery) cost a change on PostgreSQL more than psycopg's own work for the same
statements (py-spy under the change-request bench: 29 % of the server's CPU in SQLAlchemy, 17 % in psycopg).
Here a statement is compiled once for its dialect and the keys it is given, and each execution does only what
that compilation calls for: SQLAlchemy's own bind and result processors of each column's type (aware UTC
instants, exact decimals, JSON), then `cursor.execute`. The transaction stays SQLAlchemy's: the unit of work
begins it (SQLite's `BEGIN IMMEDIATE` included), commits it and rolls it back. Statement listeners (the write
flag of `engine.WROTE`, the tests' and the benchmark's counters) are told of each statement as before, and a
driver error comes out as the exception SQLAlchemy raises for it, the connection invalidated when it is lost.

A statement whose execution needs more than that (values computed in Python for an INSERT, an expanding IN)
runs through `Connection.execute`, as do several rows of parameters (an executemany).

It reads what SQLAlchemy keeps private: a compiled statement's bind processors and result columns, a type's
cached result processor, whether a connection has listeners (hence `sqlalchemy<2.2` in pyproject.toml).
`tests/integration/test_compiled_statements.py` holds it to SQLAlchemy's own execution, value for value.
"""

from __future__ import annotations

import copy
from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from weakref import WeakKeyDictionary, WeakSet

import psycopg
from psycopg.pq import ExecStatus
from sqlalchemy import Connection, Insert, bindparam, exc, func, literal, literal_column, select, true
from sqlalchemy.dialects.postgresql.psycopg import AsyncAdapt_psycopg_connection, AsyncAdapt_psycopg_cursor
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.elements import RollbackToSavepointClause

_CURSOR = "bascule.cursor"  # in a pooled connection's `info`: (driver connection, its cursor)


class _Plan:
    """One statement compiled for one dialect and one set of parameter keys."""

    __slots__ = ("collected", "names", "positional", "processed_columns", "row", "slots", "sql")

    def __init__(self, compiled: Any, dialect: Dialect, sql: str, positional: Sequence[str] | None) -> None:
        self.sql = sql
        self.positional = positional is not None
        literal = compiled.literal_execute_params
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        names = (
            tuple(positional)
            if positional is not None
            else tuple(name for name, bind in by_name.items() if bind not in literal)
        )
        self.names = names
        processors = compiled._bind_processors
        # Per value sent: its name in the SQL, the key it is given by, its bind (for a default), its processor.
        self.slots = tuple((name, by_name[name].key, by_name[name], processors.get(name)) for name in names)
        self.collected: Mapping[str, Any] = compiled._collected_params or {}  # values of `.params()`, if any
        columns = compiled._result_columns
        self.row: Any = namedtuple("Row", [column.keyname for column in columns], rename=True) if columns else None
        processors = [column.type._cached_result_processor(dialect, None) for column in columns]
        self.processed_columns = tuple((n, p) for n, p in enumerate(processors) if p is not None)

    def parameters(self, params: Mapping[str, Any]) -> Any:
        """What `SQLCompiler.construct_params` and the bind processors make of `params`, in the driver's form."""
        if self.collected:
            params = {**self.collected, **params}
        values = []
        for name, key, bind, process in self.slots:
            if key in params:
                value = params[key]
            elif name in params:
                value = params[name]
            elif bind.required:
                raise exc.InvalidRequestError(f"A value is required for bind parameter {bind.key!r}", code="cd3x")
            else:
                value = bind.effective_value if bind.callable else bind.value
            values.append(value if value is None or process is None else process(value))
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))

    def rows(self, fetched: list[Any]) -> list[Any]:
        if self.processed_columns:
            fetched = [list(row) for row in fetched]
            for row in fetched:
                for n, process in self.processed_columns:
                    row[n] = process(row[n])
        make = self.row._make
        return [make(row) for row in fetched]


def _plannable(statement: ClauseElement, dialect: Dialect, keys: Sequence[str]) -> _Plan | None:
    # The keys name the columns an INSERT or UPDATE sets when its values are not its own (SQLAlchemy's rule); a
    # statement made of several (`_explicit`) names every value it sets, and a key of one of them may be a column's
    # name in another (a slot's `slot_period`, a request's column), which must not set it.
    column_keys = [] if statement in _EXPLICIT else list(keys)
    compiled: Any = statement.compile(dialect=_numbered(dialect), column_keys=column_keys)
    if compiled.insert_prefetch or compiled.update_prefetch or compiled.post_compile_params:
        return None  # values SQLAlchemy computes at each execution: its own path
    if compiled.escaped_bind_names:
        return None  # names the driver could not take as they are: SQLAlchemy's own path
    if not compiled.literal_execute_params:
        positional = compiled.positiontup if compiled.positional else None
        return None if "POSTCOMPILE" in compiled.string else _Plan(compiled, dialect, compiled.string, positional)
    if not all(_fixed(bind, keys) for bind in compiled.literal_execute_params):
        return None
    # A value written into the SQL that no execution can change (aggregate_strings' separator): SQLAlchemy
    # renders it at each execution; here once, as it would.
    expanded = compiled.construct_expanded_state(dict.fromkeys(keys))
    positional = expanded.positiontup if compiled.positional else None
    return _Plan(compiled, dialect, expanded.statement, positional)


def written_in(value: str) -> Any:
    """A constant written into the SQL rather than sent as a parameter, so that PostgreSQL sees it when it plans
    a prepared statement once for all executions (a generic plan): a partial index's predicate
    (`status IN ('pending', 'running')`) can only be proved from constants."""
    return literal(value, literal_execute=True)


def _fixed(bind: Any, keys: Sequence[str]) -> bool:
    return not bind.required and bind.callable is None and bind.key not in keys


_EXPLICIT: WeakSet[ClauseElement] = WeakSet()  # statements of several, each naming every value it sets


def _explicit(statement: Any) -> Any:
    _EXPLICIT.add(statement)
    return statement


_NOT_PLANNABLE = object()
_PLANS: WeakKeyDictionary[ClauseElement, dict[tuple[str, tuple[str, ...]], Any]] = WeakKeyDictionary()


def _numbered(dialect: Dialect) -> Dialect:
    """On PostgreSQL, the dialect compiling with PostgreSQL's own placeholders (`$1`, `$2`…, a value used twice
    sent once), as psycopg's raw cursors take them (`_cursor`); SQLite's `?` are already the driver's own."""
    if dialect.name != "postgresql":
        return dialect
    numbered = _NUMBERED.get(dialect)
    if numbered is None:
        numbered = copy.copy(dialect)
        numbered.paramstyle, numbered.positional = "numeric_dollar", True
        _NUMBERED[dialect] = numbered
    return numbered


_NUMBERED: WeakKeyDictionary[Dialect, Dialect] = WeakKeyDictionary()


def _plan(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
    by_shape = _PLANS.get(statement)
    if by_shape is None:
        by_shape = _PLANS[statement] = {}
    shape = (dialect.name, keys)
    plan = by_shape.get(shape)
    if plan is None:
        plan = by_shape[shape] = _plannable(statement, dialect, keys) or _NOT_PLANNABLE
    return plan if isinstance(plan, _Plan) else None


class Rows:
    """What a statement gave back, read at once: the part of SQLAlchemy's `Result` the repositories use."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return self._rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise (exc.NoResultFound if not self._rows else exc.MultipleResultsFound)(
                "one row was expected, " + str(len(self._rows)) + " came"
            )
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]


def _cursor(connection: Connection) -> tuple[Any, Any]:
    """The driver's cursor for compiled statements, kept with the pooled connection. On PostgreSQL a raw cursor
    (psycopg's `RawCursor`): the statement goes as it was compiled, `$1`, `$2`…, with its values in order, where
    psycopg's own cursor would convert `%(name)s` placeholders at each execution and, past 50 parameters or 4 096
    characters, parse the query again each time (its `MAX_CACHED_STATEMENT_PARAMS`)."""
    fairy: Any = connection.connection
    driver = fairy.dbapi_connection
    kept = fairy.info.get(_CURSOR)
    if kept is not None and kept[0] is driver:
        return driver, kept[1]
    if isinstance(driver, psycopg.Connection):
        cursor: Any = psycopg.RawCursor(driver)
    elif isinstance(driver, AsyncAdapt_psycopg_connection):
        cursor = _AsyncRawCursor(driver)
    else:
        cursor = driver.cursor()
    fairy.info[_CURSOR] = (driver, cursor)
    return driver, cursor


class _AsyncRawCursor(AsyncAdapt_psycopg_cursor):
    """SQLAlchemy's cursor of an asyncio connection (awaited on the loop), over psycopg's raw async cursor."""

    __slots__ = ()

    def _make_new_cursor(self, connection: Any) -> Any:
        return psycopg.AsyncRawCursor(connection)

    @property
    def pgresult(self) -> Any:
        """psycopg's result of the last statement, for `_gave_rows` (its description would be built at each look)."""
        cursor: Any = self._cursor
        return cursor.pgresult


def _tell_listeners(connection: Connection, cursor: Any, sql: str, parameters: Any, many: bool = False) -> None:
    for listener in connection.dispatch.before_cursor_execute:
        listener(connection, cursor, sql, parameters, None, many)


def run(connection: Connection, statement: Any, params: Mapping[str, Any] | None = None) -> Any:
    """`connection.execute(statement, params)`, for a statement built once (a module's constant or a cached
    one: plans are kept as long as their statement lives)."""
    keys = tuple(params) if params else ()
    plan = _plan(statement, connection.dialect, keys)
    if plan is None:
        return connection.execute(statement, dict(params) if params else None)
    return _execute(connection, plan, params or {})


# A multi-row INSERT is a statement of its own for each number of rows, prepared on each connection that runs it
# twice: past 50 values (a batch's hundreds of audit rows), the driver's executemany of the one-row INSERT,
# prepared once and sent in a pipeline, keeps the connection's 100 prepared statements for the hot paths.
_VALUES_IN_ONE_INSERT_AT_MOST = 50
# A command's appended rows and its Idempotency-Key (`insert_together`, `run_after_held`): 46 values for a
# migration and its key's 10, more for a confirmation. Sent on the raw cursor (`_cursor`), they are not parsed
# again at each execution whatever their number; this bounds the size of one statement that PostgreSQL plans.
_VALUES_TOGETHER_AT_MOST = 200
_MULTI_ROW: WeakKeyDictionary[ClauseElement, dict[tuple[tuple[str, ...], int], Any]] = WeakKeyDictionary()


def insert_rows(connection: Connection, statement: Insert, rows: Sequence[Mapping[str, Any]]) -> None:
    """`connection.execute(statement, rows)` for an INSERT built once: a few rows go as one
    `INSERT … VALUES (…), (…)` planned once per number of rows, more as the driver's executemany of the one-row
    INSERT; rows of different keys go as SQLAlchemy's executemany."""
    if not rows:
        return
    keys = tuple(rows[0])
    if len(rows) == 1:
        run(connection, statement, rows[0])
        return
    if any(tuple(row) != keys for row in rows):
        connection.execute(statement, list(rows))
        return
    if len(rows) * len(keys) > _VALUES_IN_ONE_INSERT_AT_MOST:
        run_many(connection, statement, rows)
        return
    multi = _multi_row(statement, keys, len(rows))
    run(connection, multi, {f"{key}__{n}": row[key] for n, row in enumerate(rows) for key in keys})


def insert_together(connection: Connection, parts: Sequence[tuple[Insert, Sequence[Mapping[str, Any]]]]) -> None:
    """The rows of several INSERTs built once, which nothing reads in the transaction that writes them (an audit
    row, a notice, a job, a record of what was done): on PostgreSQL in one statement, each INSERT but the last a
    data-modifying CTE of it (`WITH w0 AS (INSERT …), w1 AS (INSERT …) INSERT …`), planned once per shape; one
    round trip for what took one per table (bench/README.md, twelfth pass). Elsewhere (SQLite has no INSERT in a
    CTE), past `_VALUES_TOGETHER_AT_MOST` values, or for rows of different keys, each is `insert_rows`."""
    parts = [(statement, rows) for statement, rows in parts if rows]
    if len(parts) < 2 or not _together(connection, parts):
        for statement, rows in parts:
            insert_rows(connection, statement, rows)
        return
    _run_combined(connection, parts)


def _run_combined(connection: Connection, parts: Sequence[tuple[Insert, Sequence[Mapping[str, Any]]]]) -> Any:
    """The INSERTs of `parts` in one statement; what the last one returns."""
    shape = tuple((statement, tuple(rows[0]), len(rows)) for statement, rows in parts)
    combined = _TOGETHER.get(shape)
    if combined is None:
        combined = _TOGETHER[shape] = _explicit(_combined(shape))
    return run(connection, combined, _together_params(parts))


# In a pooled connection's `info`: the parts of `insert_together` held for the connection's next statement, the
# UPDATEs held with them (`hold_update`), the conditions held with them (`hold_condition`), and whether its unit of
# work holds them at all (`start_holding`).
_HELD = "bascule.held"
_HELD_UPDATES = "bascule.held_updates"
_HELD_CONDITIONS = "bascule.held_conditions"
_HOLDING = "bascule.holding"
_ALL_HELD = (_HELD, _HELD_UPDATES, _HELD_CONDITIONS)


def start_holding(connection: Connection) -> None:
    """From now on, in this unit of work, `hold_update` holds what it is given (PostgreSQL only)."""
    if connection.dialect.name == "postgresql":
        connection.info[_HOLDING] = True


def holding(connection: Connection) -> bool:
    return bool(connection.info.get(_HOLDING))


def hold_update(connection: Connection, statement: Any, params: Mapping[str, Any]) -> None:
    """`run(connection, statement, params)` for an UPDATE whose outcome nobody reads (a row saved by its id): when
    the unit holds (`start_holding`), it waits with the held rows and goes with them, as a data-modifying CTE of the
    statement that joins them (`run_after_held`), or before any other statement. A statement held already is
    written first: one statement may not change a row twice. Its parameters' names must be its own (no other
    statement held or joined may use them)."""
    if not holding(connection):
        run(connection, statement, params)
        return
    updates = connection.info.setdefault(_HELD_UPDATES, [])
    if any(held is statement for held, _ in updates):
        flush_held(connection)
        updates = connection.info.setdefault(_HELD_UPDATES, [])
    updates.append((statement, dict(params)))


def hold_condition(connection: Connection, statement: Any, params: Mapping[str, Any], refusal: Exception) -> None:
    """`statement`, a write that answers a row when it did its work (a month's slot taken up to its limit: `INSERT …
    ON CONFLICT DO UPDATE … WHERE used < limit RETURNING`), held as `hold_update` holds an UPDATE when the unit holds:
    it then goes with the statement that joins the held writes (`run_after_held`), or before any other. When it
    answers no row, `refusal` is raised where it was written, and the unit of work must roll back: the statement
    that carried it wrote the rest. Not holding, it runs at once. Its parameters' names must be its own."""
    if not holding(connection):
        if run(connection, statement, params).first() is None:
            raise refusal
        return
    conditions = connection.info.setdefault(_HELD_CONDITIONS, [])
    if any(held is statement for held, _, _ in conditions):
        flush_held(connection)
        conditions = connection.info.setdefault(_HELD_CONDITIONS, [])
    conditions.append((statement, dict(params), refusal))


def hold(connection: Connection, parts: Sequence[tuple[Insert, Sequence[Mapping[str, Any]]]]) -> None:
    """Rows of `insert_together` that may wait for the connection's next statement: written just before it
    (`flush_held`: each compiled statement and, through the engine's `before_execute`, every other; the unit of
    work at its commit), or with it when it is a one-row INSERT that joins them (`run_after_held`: a command's
    Idempotency-Key). On PostgreSQL only; a rollback drops them (`drop_held`)."""
    held = connection.info.setdefault(_HELD, [])
    for statement, rows in parts:
        if not rows:
            continue
        same = next((n for n, (kept, _) in enumerate(held) if kept is statement), None)
        if same is None:
            held.append((statement, list(rows)))
        else:
            held[same][1].extend(rows)


def flush_held(connection: Connection) -> None:
    """Write the conditions, UPDATEs and rows held on `connection`, if any."""
    info = connection.info
    conditions = info.pop(_HELD_CONDITIONS, None)
    updates = info.pop(_HELD_UPDATES, None)
    held = info.pop(_HELD, None)
    for statement, params, refusal in conditions or ():
        if run(connection, statement, params).first() is None:
            raise refusal
    for statement, params in updates or ():
        run(connection, statement, params)
    if held:
        insert_together(connection, held)


def flush_held_together(connection: Connection) -> None:
    """`flush_held` in one statement where they fit (`_together`), at a commit with no statement to join them (a
    command without an Idempotency-Key): `WITH c0 AS (a condition), u0 AS (an UPDATE), w0 AS (an INSERT) … SELECT 1,
    (SELECT count(*) FROM c0) …` (PostgreSQL runs every data-modifying CTE, read or not). A condition that did
    nothing raises its refusal there, and the unit of work must roll back: the statement wrote the rest."""
    info = connection.info
    conditions = info.get(_HELD_CONDITIONS) or []
    updates = info.get(_HELD_UPDATES) or []
    held = info.get(_HELD) or []
    if not conditions and not updates:  # rows alone: `insert_together` writes them in one statement already
        flush_held(connection)
        return
    extra = sum(len(values) for _, values in updates) + sum(len(values) for _, values, _ in conditions)
    if not _together(connection, held, extra=extra):
        flush_held(connection)
        return
    for held_key in _ALL_HELD:
        info.pop(held_key, None)
    shape = tuple((insert, tuple(rows[0]), len(rows)) for insert, rows in held)
    key = (shape, tuple(update for update, _ in updates), tuple(check for check, _, _ in conditions))
    combined = _ALL_HELD_AT_ONCE.get(key)
    if combined is None:
        combined = _ALL_HELD_AT_ONCE[key] = _explicit(_all_held(shape, updates, conditions))
    values = {name: value for _, update_params in updates for name, value in update_params.items()}
    values |= {name: value for _, check_params, _ in conditions for name, value in check_params.items()}
    counts = run(connection, combined, values | _together_params(held)).one()
    for (_, _, refusal), count in zip(conditions, counts[1:], strict=True):
        if not count:
            raise refusal


def held_before(connection: Connection, statement: Any, *_event: Any) -> None:
    """The engine's `before_execute` listener: what is held is written before any other statement, but for a rollback
    to a savepoint, which drops it: taking the savepoint wrote what was held before it, so what is held now came
    after it, and the rollback takes that back (a held condition is then neither written nor refused)."""
    if isinstance(statement, RollbackToSavepointClause):
        for key in _ALL_HELD:
            connection.info.pop(key, None)
        return
    flush_held(connection)


def drop_held(connection: Connection) -> None:
    """Forget what is held, and stop holding: the unit of work rolled back, or ended."""
    info = connection.info
    for key in (*_ALL_HELD, _HOLDING):
        info.pop(key, None)


def run_after_held(connection: Connection, statement: Any, params: Mapping[str, Any]) -> Any:
    """`run(connection, statement, params)`, with the conditions, UPDATEs and rows held on the connection written in
    the same statement, as data-modifying CTEs before it, when they fit (`_together`); what it returns. `statement`: a
    one-row INSERT … RETURNING (its values in `params`, as `run` takes them), or an UPDATE; either must read none of
    the held tables (a CTE's changes are not seen by the statement it precedes). A held condition's outcome comes
    back as a count in an INSERT's RETURNING, and its refusal is raised when the INSERT wrote its row and the
    condition found nothing to do; before an UPDATE, what is held is written first when a condition is among it
    (`flush_held`)."""
    info = connection.info
    if not isinstance(statement, Insert) and _HELD_CONDITIONS in info:
        flush_held(connection)
    held = info.get(_HELD) or []
    updates = info.get(_HELD_UPDATES) or []
    conditions = info.get(_HELD_CONDITIONS) or []
    if not held and not updates and not conditions:
        return run(connection, statement, params)
    parts = [*held, (statement, [params])] if isinstance(statement, Insert) else held
    extra = sum(len(values) for _, values in updates) + sum(len(values) for _, values, _ in conditions)
    if not _together(connection, parts, extra=extra):
        flush_held(connection)
        return run(connection, statement, params)
    for held_key in _ALL_HELD:
        info.pop(held_key, None)
    if isinstance(statement, Insert):
        shape = tuple((insert, tuple(rows[0]), len(rows)) for insert, rows in parts)
    else:
        shape = tuple((insert, tuple(rows[0]), len(rows)) for insert, rows in held)
    key = (statement, shape, tuple(update for update, _ in updates), tuple(check for check, _, _ in conditions))
    combined = _AFTER_HELD.get(key)
    if combined is None:
        combined = _AFTER_HELD[key] = _explicit(_after_held(statement, shape, updates, conditions))
    values = {name: value for _, update_params in updates for name, value in update_params.items()}
    values |= {name: value for _, check_params, _ in conditions for name, value in check_params.items()}
    if not isinstance(statement, Insert):
        return run(connection, combined, values | _together_params(held) | dict(params))
    rows = run(connection, combined, values | _together_params(parts))
    written = rows.first()
    if written is not None and conditions:
        counts = written[len(written) - len(conditions) :]
        for (_, _, refusal), count in zip(conditions, counts, strict=True):
            if not count:
                raise refusal
    return rows


def run_joining_conditions(connection: Connection, statement: Any, params: Mapping[str, Any]) -> Rows:
    """`run(connection, statement, params)` for an `UPDATE … RETURNING` of one row at most (by its key) that reads
    none of their tables, with the conditions held on the connection (`hold_condition`) in the same statement:
    `WITH c0 AS (…), m AS (the UPDATE) SELECT m.*, (SELECT count(*) FROM c0) … FROM (SELECT 1) LEFT OUTER JOIN m ON
    true`, so that each condition's outcome comes back whether the UPDATE changed a row or not. A condition that did
    nothing raises its refusal; held rows and UPDATEs are written first, apart."""
    info = connection.info
    conditions = info.get(_HELD_CONDITIONS)
    if not conditions:
        alone: Rows = run(connection, statement, params)
        return alone
    del info[_HELD_CONDITIONS]
    if _HELD in info or _HELD_UPDATES in info:
        flush_held(connection)
    key = (statement, tuple(check for check, _, _ in conditions))
    joined = _JOINING.get(key)
    if joined is None:
        joined = _JOINING[key] = _explicit(_joining(statement, [check for check, _, _ in conditions]))
    values = dict(params)
    values |= {name: value for _, check_params, _ in conditions for name, value in check_params.items()}
    row = run(connection, joined, values).one()
    counts = row[len(row) - len(conditions) :]
    for (_, _, refusal), count in zip(conditions, counts, strict=True):
        if not count:
            raise refusal
    return Rows([] if row.joined_present is None else [row], 0 if row.joined_present is None else 1)


_JOINING: dict[tuple[Any, tuple[Any, ...]], Any] = {}


def _joining(statement: Any, checks: Sequence[Any]) -> Any:
    checked = [check.cte(f"c{n}") for n, check in enumerate(checks)]
    main = statement.returning(literal_column("1").label("joined_present")).cte("m")
    one = select(literal_column("1").label("one")).subquery("one")
    counts = [select(func.count()).select_from(cte).scalar_subquery().label(f"c{n}") for n, cte in enumerate(checked)]
    return select(*main.c, *counts).select_from(one.outerjoin(main, true())).add_cte(*checked)


def _after_held(
    statement: Any,
    shape: tuple[tuple[Insert, tuple[str, ...], int], ...],
    updates: Sequence[Any],
    conditions: Sequence[Any],
) -> Any:
    inserts = _held_ctes(shape[:-1] if isinstance(statement, Insert) else shape)
    last = _with_values(*shape[-1], len(shape) - 1) if isinstance(statement, Insert) else statement
    updated = [update.cte(f"u{n}") for n, (update, _) in enumerate(updates)]
    checked = [check.cte(f"c{n}") for n, (check, _, _) in enumerate(conditions)]
    if checked:  # what each condition did, after what the INSERT returns of its own
        last = last.returning(
            *(select(func.count()).select_from(cte).scalar_subquery().label(f"c{n}") for n, cte in enumerate(checked))
        )
    return last.add_cte(*checked, *updated, *inserts)


_AFTER_HELD: dict[tuple[Any, Any, Any, Any], Any] = {}


def _all_held(
    shape: tuple[tuple[Insert, tuple[str, ...], int], ...], updates: Sequence[Any], conditions: Sequence[Any]
) -> Any:
    checked = [check.cte(f"c{n}") for n, (check, _, _) in enumerate(conditions)]
    updated = [update.cte(f"u{n}") for n, (update, _) in enumerate(updates)]
    counts = [select(func.count()).select_from(cte).scalar_subquery().label(f"c{n}") for n, cte in enumerate(checked)]
    return select(literal_column("1").label("written"), *counts).add_cte(*checked, *updated, *_held_ctes(shape))


_ALL_HELD_AT_ONCE: dict[tuple[Any, Any, Any], Any] = {}


def _together(
    connection: Connection, parts: Sequence[tuple[Insert, Sequence[Mapping[str, Any]]]], extra: int = 0
) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    values = extra
    for _, rows in parts:
        keys = tuple(rows[0])
        if any(tuple(row) != keys for row in rows):
            return False
        values += len(rows) * len(keys)
    return values <= _VALUES_TOGETHER_AT_MOST


_TOGETHER: dict[tuple[tuple[Insert, tuple[str, ...], int], ...], Any] = {}


def _combined(shape: tuple[tuple[Insert, tuple[str, ...], int], ...]) -> Any:
    *first, (last, keys, count) = shape
    return _with_values(last, keys, count, len(first)).add_cte(*_held_ctes(tuple(first)))


def _held_ctes(shape: tuple[tuple[Insert, tuple[str, ...], int], ...]) -> list[Any]:
    return [_with_values(insert, keys, count, n).cte(f"w{n}") for n, (insert, keys, count) in enumerate(shape)]


def _with_values(statement: Insert, keys: tuple[str, ...], count: int, n: int) -> Any:
    columns = statement.table.c
    return statement.values(
        [{key: bindparam(f"w{n}_{key}__{r}", type_=columns[key].type) for key in keys} for r in range(count)]
    )


def _together_params(parts: Sequence[tuple[Insert, Sequence[Mapping[str, Any]]]]) -> dict[str, Any]:
    return {
        f"w{n}_{key}__{r}": row[key] for n, (_, rows) in enumerate(parts) for r, row in enumerate(rows) for key in row
    }


def run_many(connection: Connection, statement: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """`connection.execute(statement, rows)` (rows of the same keys) as one executemany of the driver, for a
    statement built once; the rows it changed."""
    plan = _plan(statement, connection.dialect, tuple(rows[0]))
    if plan is None:
        return int(connection.execute(statement, list(rows)).rowcount)
    if len(rows) == 1:  # psycopg would open a pipeline for it: 30 µs more of the client's CPU than one execution
        return int(_execute(connection, plan, rows[0]).rowcount)
    if any(key in connection.info for key in _ALL_HELD):
        flush_held(connection)
    try:
        parameters = [plan.parameters(row) for row in rows]
    except (ValueError, TypeError, exc.InvalidRequestError) as error:
        raise exc.StatementError(str(error), plan.sql, list(rows), error) from error
    driver, cursor = _cursor(connection)
    if connection._has_events or connection.engine._has_events:
        _tell_listeners(connection, cursor, plan.sql, parameters, many=True)
    try:
        cursor.executemany(plan.sql, parameters)
    except connection.dialect.loaded_dbapi.Error as error:
        raise _translated(connection, driver, cursor, plan.sql, parameters, error) from error
    return int(cursor.rowcount)


def _multi_row(statement: Insert, keys: tuple[str, ...], count: int) -> Any:
    by_shape = _MULTI_ROW.get(statement)
    if by_shape is None:
        by_shape = _MULTI_ROW[statement] = {}
    multi = by_shape.get((keys, count))
    if multi is None:
        columns = statement.table.c
        rows = [{key: bindparam(f"{key}__{n}", type_=columns[key].type) for key in keys} for n in range(count)]
        multi = by_shape[(keys, count)] = statement.values(rows)
    return multi


def _execute(connection: Connection, plan: _Plan, params: Mapping[str, Any]) -> Rows:
    info = connection.info
    if _HELD in info or _HELD_UPDATES in info or _HELD_CONDITIONS in info:
        flush_held(connection)
    try:
        parameters = plan.parameters(params)
    except (ValueError, TypeError, exc.InvalidRequestError) as error:
        raise exc.StatementError(str(error), plan.sql, dict(params), error) from error
    driver, cursor = _cursor(connection)
    if connection._has_events or connection.engine._has_events:
        _tell_listeners(connection, cursor, plan.sql, parameters)
    try:
        cursor.execute(plan.sql, parameters)
        fetched = cursor.fetchall() if _gave_rows(cursor) else []
    except connection.dialect.loaded_dbapi.Error as error:
        raise _translated(connection, driver, cursor, plan.sql, parameters, error) from error
    return Rows(plan.rows(fetched) if plan.row is not None else fetched, cursor.rowcount)


def _gave_rows(cursor: Any) -> bool:
    """Whether the statement answered rows (a SELECT, a RETURNING), as `cursor.description is not None` tells,
    without building the description: psycopg makes a `Column` of every column at each look (3 % of a USSD
    screen's samples); sqlite3's description is a plain attribute."""
    result: Any = getattr(cursor, "pgresult", _NO_PGRESULT)
    if result is _NO_PGRESULT:
        return cursor.description is not None
    return result is not None and (result.nfields > 0 or result.status == _TUPLES_OK)


_NO_PGRESULT = object()
_TUPLES_OK = ExecStatus.TUPLES_OK


def _translated(
    connection: Connection, driver: Any, cursor: Any, sql: str, parameters: Any, error: Any
) -> exc.StatementError:
    dialect = connection.dialect
    lost = dialect.is_disconnect(error, driver, cursor)
    if lost:
        connection.invalidate(error)
    translated: exc.StatementError = exc.DBAPIError.instance(
        sql, parameters, error, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
    )
    return translated
