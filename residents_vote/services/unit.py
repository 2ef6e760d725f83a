"""The unit of work: how a use case gets its one transaction.

A `Store` is handed to every use case by the web layer and the command line. A use case
opens exactly one write transaction with `store.write()` (BEGIN IMMEDIATE on SQLite,
committed when the block ends, rolled back on any exception) and returns a plain result
or raises a `ServiceError`. Handlers never see a commit or a query.

Pages read through `store.read()` (or the request's session the web layer keeps for the
templates); a read never writes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .. import db as dbmod
from ..settings import DEFAULT, Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session, sessionmaker


class Store:
    """The database of one install, as the use cases see it."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings = DEFAULT) -> None:
        self.factory = factory
        self.settings = settings
        # Values that never change once the vote is open (a proposal's questions), kept
        # per install by the resident's vote path (services/vote_path.py).
        self.frozen: dict[object, object] = {}

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block succeeds, else rolled back."""
        with dbmod.write_session(self.factory) as session:
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session, closed (and its snapshot released) when the block ends."""
        session = self.factory()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    # The resident's vote path (services/vote_path.py) runs Core statements on a plain
    # connection: no ORM session to build per request. Like a session, the connection
    # carries the install's settings (`settings.of(connection)`).

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection for reads; its snapshot is released when the block ends."""
        with self.factory.kw["bind"].connect() as conn:
            conn.info["settings"] = self.settings
            yield conn

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """One write transaction on a Core connection (BEGIN IMMEDIATE on SQLite),
        committed when the block succeeds, else rolled back."""
        token = dbmod.set_write_intent(True)
        try:
            with self.factory.kw["bind"].begin() as conn:
                conn.info["settings"] = self.settings
                yield conn
        finally:
            dbmod.reset_write_intent(token)
