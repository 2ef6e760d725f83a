"""Consistent copies of a live SQLite database (sqlite3's online backup API).

The copy is taken in one backup step, which reads a single snapshot of the database:
in WAL mode writers carry on meanwhile and none of their half-finished transactions
reach the copy. The copy is written to a temporary file next to the target, checked
with `PRAGMA integrity_check`, switched to a self-contained rollback journal and only
then moved into place, so a failed backup never leaves a half-written file behind.
PostgreSQL is backed up with its own tools (pg_dump).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from .errors import N_, Invalid


@dataclass(frozen=True)
class BackupReport:
    source: Path
    target: Path
    size: int
    sha256: str
    tables: dict[str, int]  # row counts of a few tables, for the operator's log
    integrity: str


def sqlite_file(database_url: str) -> Path:
    """The database file of a SQLite URL; refuse other databases with a useful message."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise Invalid(
            N_(
                "backup copies SQLite databases only; this install uses %(backend)s: use its "
                "own tools (for PostgreSQL: pg_dump --format=custom --file=FILE DBNAME)"
            ),
            backend=url.get_backend_name(),
        )
    if not url.database or url.database == ":memory:":
        raise Invalid(N_("an in-memory SQLite database cannot be backed up"))
    path = Path(url.database)
    if not path.is_file():
        raise Invalid(N_("database file %(path)s does not exist"), path=str(path))
    return path


COUNTED = ("community", "household", "proposal", "vote", "audit_event")


def backup_sqlite(source: Path, target: Path, *, overwrite: bool = False) -> BackupReport:
    target = Path(target)
    if target.exists() and not overwrite:
        raise Invalid(
            N_("%(path)s already exists (use --overwrite to replace it)"), path=str(target)
        )
    if target.resolve() == Path(source).resolve():
        raise Invalid(N_("the backup cannot replace the database itself"))
    if not target.parent.is_dir():
        raise Invalid(N_("directory %(path)s does not exist"), path=str(target.parent))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst, pages=-1)  # one step: one consistent snapshot
                dst.execute("PRAGMA journal_mode = DELETE")
                integrity = dst.execute("PRAGMA integrity_check").fetchone()[0]
                tables = {}
                for name in COUNTED:
                    with contextlib.suppress(sqlite3.Error):
                        tables[name] = dst.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                dst.commit()
            finally:
                dst.close()
        finally:
            src.close()
        if integrity != "ok":
            raise Invalid(N_("the copy failed its integrity check: %(why)s"), why=integrity)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    data = target.read_bytes()
    return BackupReport(
        source=Path(source),
        target=target,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        tables=tables,
        integrity=integrity,
    )
