"""The model base: naming convention, mixins, time, and SQLite connection setup.

SQLite is configured the same way on every connection (WAL, busy timeout,
foreign keys, ``synchronous=NORMAL``). Transactions that will write start with
``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of
failing at once with "database is locked" when a read lock must be upgraded:
every request that is not GET/HEAD/OPTIONS is such a transaction, and code
outside a request (CLI, benchmarks) asks for it with :func:`write_intent`.

SQLite has one write lock for the whole database, held from ``BEGIN IMMEDIATE`` to
the commit. A hot write path whose checks and rendering take longer than its writes
can ask to read first (:func:`reads_first`, on a view or around a block): its reads
then run outside any transaction, each statement on its own like PostgreSQL's READ
COMMITTED, and the first statement that writes opens ``BEGIN IMMEDIATE``. No read
snapshot is held when the lock is requested, so the writer queues on the busy timeout
as before; the lock is only held from the first write to the commit.

Every ``BEGIN IMMEDIATE`` goes through :func:`take_write_lock`, which tries again every
half millisecond rather than letting SQLite's busy handler sleep ever longer.

Effects of a write that must not hold its transaction (notifications, mail) are queued
with :func:`after_commit` by the code that causes them, and run once the transaction has
committed, each in its own; a rollback drops them.
"""

from __future__ import annotations

import logging
import re
import select as select_module
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import current_app, has_request_context, request
from sqlalchemy import DateTime, Engine, MetaData, Select, event, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from werkzeug.routing import IntegerConverter

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

IMMEDIATE, READS_FIRST = "immediate", "reads-first"
#: How transactions begun in this context start on SQLite (the innermost block wins).
_begin_mode: ContextVar[str | None] = ContextVar("forum_begin_mode", default=None)
#: Statements that run outside a transaction in reads-first mode (BEGIN opens one).
_NOT_WRITES = ("SELECT", "PRAGMA", "BEGIN")


#: Ids are 32-bit ``integer`` columns on PostgreSQL: a larger number names no row (and
#: would make the database raise instead of finding nothing).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: numbers beyond :data:`MAX_ID` do not match (404)."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def upsert(session, model):
    """An INSERT on ``model`` with ``on_conflict_do_*`` for ``session``'s dialect."""
    if session.get_bind().dialect.name == "postgresql":
        # Imported here: a SQLite process does not load the PostgreSQL dialect.
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model)
    return sqlite_insert(model)


def claimable(due: Select, name: str) -> Select:
    """The ids of ``due`` (a select of one ``id`` column, ordered and limited) that this
    transaction locks, skipping those another holds, for ``UPDATE … WHERE id IN (…)``.

    On PostgreSQL the selection is a materialized CTE: written straight into ``IN (…)``,
    the planner may run it again for the same statement (a nested loop, or the recheck
    after a concurrent update), and the update then takes more rows than its limit,
    rows the caller never sees. SQLite has no ``FOR UPDATE`` (nothing is emitted) and
    needs none: its single write lock serves.
    """
    locked = due.with_for_update(skip_locked=True).cte(name)
    locked = locked.prefix_with("MATERIALIZED", dialect="postgresql")
    return select(locked.c.id)


def utcnow() -> datetime:
    """Now, in UTC, without tzinfo: how every timestamp is stored on both databases."""
    return datetime.now(UTC).replace(tzinfo=None)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


@contextmanager
def _mode(mode: str) -> Iterator[None]:
    token = _begin_mode.set(mode)
    try:
        yield
    finally:
        _begin_mode.reset(token)


def write_intent():
    """Make transactions begun inside this block ``BEGIN IMMEDIATE`` on SQLite."""
    return _mode(IMMEDIATE)


def reads_first(view: Callable | None = None):
    """Read outside the write lock until the first write (SQLite; nothing on PostgreSQL).

    As a decorator, for the whole request of a view whose service does its checks
    and rendering before its first write; as a context manager (``with
    reads_first():``), for the transactions begun inside the block. Reads are not
    isolated from each other (each sees the latest commit); everything from the
    first write to the commit is one ``BEGIN IMMEDIATE`` transaction.
    """
    if view is None:
        return _mode(READS_FIRST)
    view.forum_reads_first = True
    return view


def _begin_statement() -> str | None:
    """The statement that opens a transaction here, None to read outside one."""
    mode = _begin_mode.get()
    if mode is None and has_request_context() and request.method not in SAFE_METHODS:
        view = current_app.view_functions.get(request.endpoint)
        mode = READS_FIRST if getattr(view, "forum_reads_first", False) else IMMEDIATE
    if mode == READS_FIRST:
        return None
    return "BEGIN IMMEDIATE" if mode == IMMEDIATE else "BEGIN"


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Install the pragmas and the BEGIN handling on a SQLite engine."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below emit BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        statement = _begin_statement()
        if statement:
            connection.exec_driver_sql(statement)

    def _on_execute(cursor, statement, *_args) -> bool:
        if statement == "BEGIN IMMEDIATE":  # from _on_begin
            take_write_lock(cursor)
            return True  # done: SQLAlchemy does not run it again
        # Reads-first mode: the first statement that may write, with no transaction
        # open on the driver's connection, opens the write transaction. (Any other
        # transaction began with a BEGIN, so this never fires inside one.)
        if not cursor.connection.in_transaction and not statement.lstrip().upper().startswith(
            _NOT_WRITES
        ):
            take_write_lock(cursor)
        return False  # SQLAlchemy runs the statement itself

    for name in ("do_execute", "do_executemany", "do_execute_no_params"):
        event.listen(engine, name, _on_execute)


#: Between two tries for SQLite's write lock.
WRITE_LOCK_POLL_S = 0.0005


def take_write_lock(cursor) -> None:
    """``BEGIN IMMEDIATE``, tried again every half millisecond up to the busy timeout.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25… ms between tries: a
    worker waiting for another's 2 ms transaction would sleep 3 ms or more, idle. On
    timeout, raises "database is locked" as SQLite would.
    """
    timeout_ms = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
    deadline = time.monotonic() + timeout_ms / 1000
    cursor.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    raise
                if time.monotonic() >= deadline:
                    raise
            time.sleep(WRITE_LOCK_POLL_S)
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")


# -- after commit ---------------------------------------------------------------------------

#: ``session.info`` keys: callbacks of the open transaction, those due after its commit,
#: and the flag set while they run (their own commits queue, the running loop picks up).
_QUEUED, _DUE, _RUNNING = "forum_after_commit", "forum_after_commit_due", "forum_after_commit_run"
_logger = logging.getLogger("forum.after_commit")


def after_commit(fn: Callable, *args, **kwargs) -> None:
    """Call ``fn(*args, **kwargs)`` once the current transaction of ``db.session`` commits.

    For effects that must not run inside the transaction (its rows must be visible,
    its locks released first): notifications, mail. Callbacks run in the order queued,
    after the commit returns to the database and before ``commit()`` returns to the
    caller, each free to open and commit its own transaction. A rollback drops them;
    an error in one is logged, rolled back and does not reach the caller, whose
    transaction is already committed.
    """
    from forum.extensions import db  # the extensions import this module

    db.session.info.setdefault(_QUEUED, []).append((fn, args, kwargs))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the transaction is still open
    queued = session.info.pop(_QUEUED, None)
    if queued:
        session.info.setdefault(_DUE, []).extend(queued)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_QUEUED, None)


@event.listens_for(Session, "after_soft_rollback")
def _soft_rolled_back(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_QUEUED, None)


@event.listens_for(Session, "after_transaction_end")
def _run_due(session: Session, transaction) -> None:
    """Once the committed transaction is closed (a new one may begin), run what is due."""
    if transaction.parent is not None or session.info.get(_RUNNING):
        return
    session.info[_RUNNING] = True
    try:
        while session.info.get(_DUE):
            fn, args, kwargs = session.info[_DUE].pop(0)
            try:
                fn(*args, **kwargs)
            except Exception:
                _logger.exception("after-commit callback %r failed", fn)
                session.rollback()
    finally:
        session.info.pop(_RUNNING, None)


# -- PostgreSQL: connections checked without a round trip, prepared statements kept --------

#: ``Connection.info`` key: the open transaction ran a statement other than a SELECT.
_WROTE = "forum_wrote"
#: A connection back from the pool after this long idle is pinged (``SELECT 1``).
PING_AFTER_IDLE_S = 10.0
#: ``ConnectionRecord.info`` key: when the connection went back to the pool.
_RETURNED_AT = "forum_returned_at"


def configure_postgresql(engine: Engine) -> None:
    """Check pooled connections cheaply (:func:`_check_out`); note, per transaction,
    whether it ran anything but SELECTs (:func:`end_reads`)."""
    event.listen(engine.pool, "connect", _returned)
    event.listen(engine.pool, "checkin", _returned)
    event.listen(engine.pool, "checkout", _check_out)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.info[_WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(connection, _cursor, statement, *_args):
        if not connection.info.get(_WROTE) and _may_write(statement):
            connection.info[_WROTE] = True


#: In a WITH query, a part that writes (bound values are not in the statement's text).
_WRITING_PART = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


def _may_write(statement: str) -> bool:
    """Anything but a SELECT, or a WITH query (search's) with a part that writes."""
    head = statement.lstrip()[:6].upper()
    if head == "SELECT":
        return False
    return not head.startswith("WITH") or bool(_WRITING_PART.search(statement))


def _returned(_dbapi_connection, record) -> None:
    if record is not None:
        record.info[_RETURNED_AT] = time.monotonic()


def _server_spoke(dbapi_connection) -> bool:
    """Something to read on an idle connection's socket (no wait)."""
    poll = select_module.poll()
    poll.register(dbapi_connection.fileno(), select_module.POLLIN)
    return bool(poll.poll(0))


def _check_out(dbapi_connection, record, _proxy) -> None:
    """A connection taken from the pool is alive unless the server spoke while it sat
    there: PostgreSQL closes a connection it terminates (a restart, a failover,
    ``pg_terminate_backend``) with a last message, so its socket reads as ready.

    SQLAlchemy's ``pool_pre_ping`` pays a round trip to the server for this on every
    request, about a tenth of a millisecond of the web worker's CPU and of the server's.
    Here a poll of the socket with no wait costs a system call; a connection whose
    socket has something to read, or that sat idle longer than :data:`PING_AFTER_IDLE_S`
    (a server gone without a word: a machine lost, a network cut), is pinged, and a
    connection that fails the ping is replaced (the pool tries again with a new one).
    """
    idle = time.monotonic() - record.info.get(_RETURNED_AT, 0.0)
    if idle < PING_AFTER_IDLE_S and not _server_spoke(dbapi_connection):
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.commit()  # a rollback would make psycopg forget its prepared statements
    except Exception as exc:  # any failure: a new connection, as pre_ping would
        raise DisconnectionError(f"pooled connection failed its check: {exc}") from exc


def end_reads(exc: BaseException | None) -> None:
    """At the end of a request on PostgreSQL, a transaction that only read ends with a
    COMMIT rather than the ROLLBACK the session's removal would send.

    psycopg forgets its prepared statements at every ROLLBACK (``DEALLOCATE ALL``) and
    prepares a statement at its fifth run on a connection: ended by a ROLLBACK, no
    statement of a page was ever prepared, each parsed and planned again on every
    request. An error, a write (a statement other than a SELECT), changes pending in the
    session or callbacks waiting for a commit: the rollback, as before.
    """
    from forum.extensions import db  # the extensions import this module

    if exc is not None:
        return
    session = db.session()
    if not session.in_transaction() or session.info.get(_QUEUED):
        return
    if session.new or session.dirty or session.deleted:
        return
    if session.connection().info.get(_WROTE, True):  # unknown: as if it wrote
        return
    # Objects keep what they loaded, as the session's removal leaves them (something
    # held beyond the request, a page kept in memory, still reads them).
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    except Exception:
        logging.getLogger("forum.db").warning(
            "ending a read-only transaction failed", exc_info=True
        )
        session.rollback()
    finally:
        session.expire_on_commit = expire


#: PostgreSQL's code for a transaction it aborted to break a deadlock.
DEADLOCK = "40P01"


def retry_on_deadlock(service: Callable, *args, attempts: int = 3, **kwargs):
    """Call ``service`` (one transaction, committed by it); if PostgreSQL aborts it to
    break a deadlock with another writer, roll back and call it again (the standard
    answer: nothing of the aborted transaction was written, and the other one went on).

    Writes that touch hot rows in varying orders (a reply moves its theme's counters and
    its readers' unread counts) can wait on each other under load; a retry costs the
    loser a few milliseconds where it cost a 503. After ``attempts`` the error stands.
    """
    from sqlalchemy.exc import OperationalError

    from forum.extensions import db

    for attempt in range(1, attempts + 1):
        try:
            return service(*args, **kwargs)
        except OperationalError as exc:
            if attempt == attempts or getattr(exc.orig, "sqlstate", None) != DEADLOCK:
                raise
            db.session.rollback()
            logging.getLogger("forum.db").warning(
                "deadlock in %s: attempt %d of %d", service.__name__, attempt, attempts
            )
