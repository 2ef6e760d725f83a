"""The household register: import (all-or-nothing), export, search, totals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from ..domain.register import RegisterRow, parse_register
from ..models import Community, ElectorateEntry, Household, Proposal, Vote, utcnow
from . import audit, communities, register_io
from .errors import Problems

if TYPE_CHECKING:
    from .unit import Store

FIELDS = ("building", "unit", "room", "area", "owner_name", "owner_key", "phone")


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    removed: int | None  # None unless --remove-missing
    dry_run: bool

    def line(self) -> str:
        text = f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}"
        if self.removed is not None:
            text += f", removed {self.removed}"
        return ("dry run: " if self.dry_run else "") + text


def check_file_size(size: int) -> None:
    """Refuse a register file over the size limit before reading it (Problems, one line)."""
    try:
        register_io.check_size(size)
    except register_io.RegisterFileError as exc:
        raise Problems([str(exc)]) from exc


def parse_file(filename: str, data: bytes) -> list[RegisterRow]:
    """Read and check a register file; raise Problems naming every bad row."""
    try:
        header, rows = register_io.read_table(filename, data)
    except register_io.RegisterFileError as exc:
        raise Problems([str(exc)]) from exc
    parsed, errors = parse_register(header, rows)
    if errors:
        raise Problems([str(e) for e in errors])
    return parsed


def import_rows(
    session: Session,
    community: Community,
    rows: list[RegisterRow],
    *,
    dry_run: bool = False,
    remove_missing: bool = False,
    actor: str = "cli",
) -> ImportReport:
    """Apply parsed rows; the caller's transaction makes it all-or-nothing."""
    existing = {
        h.code: h
        for h in session.scalars(select(Household).where(Household.community_id == community.id))
    }
    added = updated = unchanged = 0
    now = utcnow()
    seen: set[str] = set()
    new_rows: list[dict] = []
    for row in rows:
        seen.add(row.code)
        household = existing.get(row.code)
        if household is None:
            added += 1
            new_rows.append(
                {
                    "community_id": community.id,
                    "code": row.code,
                    "created_at": now,
                    "updated_at": now,
                    "removed_at": None,
                }
                | {f: getattr(row, f) for f in FIELDS}
            )
            continue
        if household.removed_at is not None:
            added += 1
            if not dry_run:
                household.removed_at = None
                _assign(household, row)
                household.updated_at = now
            continue
        if all(getattr(household, f) == getattr(row, f) for f in FIELDS):
            unchanged += 1
            continue
        updated += 1
        if not dry_run:
            _assign(household, row)
            household.updated_at = now
    removed = None
    if remove_missing:
        gone = [h for code, h in existing.items() if code not in seen and h.removed_at is None]
        removed = len(gone)
        if not dry_run:
            for household in gone:
                household.removed_at = now
    report = ImportReport(added, updated, unchanged, removed, dry_run)
    if not dry_run:
        if new_rows:
            # One multi-row INSERT instead of an ORM object per household.
            session.execute(insert(Household), new_rows)
        session.flush()
        audit.record(
            session,
            "households.import",
            actor=actor,
            community_id=community.id,
            subject=community.slug,
            data={"added": added, "updated": updated, "unchanged": unchanged, "removed": removed},
        )
    return report


def _assign(household: Household, row: RegisterRow) -> None:
    for field in FIELDS:
        setattr(household, field, getattr(row, field))


def active(session: Session, community: Community) -> list[Household]:
    return list(
        session.scalars(
            select(Household)
            .where(Household.community_id == community.id, Household.removed_at.is_(None))
            .order_by(Household.building, Household.unit, Household.room)
        )
    )


def export(session: Session, community: Community, filename: str, *, actor: str = "cli") -> bytes:
    """The register as CSV or XLSX (by suffix). The export holds owner names and phones:
    who took it, when and in which format is audited (never the data itself)."""
    households = active(session, community)
    xlsx = filename.lower().endswith(".xlsx")
    data = register_io.write_xlsx(households) if xlsx else register_io.write_csv(households)
    audit.record(
        session,
        "households.export",
        actor=actor,
        community_id=community.id,
        subject=community.slug,
        data={"format": "xlsx" if xlsx else "csv", "households": len(households)},
    )
    return data


@dataclass(frozen=True)
class RegisterTotals:
    households: int
    owners: int
    area: int


def totals(session: Session, community: Community) -> RegisterTotals:
    households, owners, area = session.execute(
        select(
            func.count(Household.id),
            func.count(func.distinct(Household.owner_key)),
            func.coalesce(func.sum(Household.area), 0),
        ).where(Household.community_id == community.id, Household.removed_at.is_(None))
    ).one()
    return RegisterTotals(households, owners, int(area))


def search(session: Session, community: Community, query: str, limit: int = 200) -> list[Household]:
    stmt = select(Household).where(
        Household.community_id == community.id, Household.removed_at.is_(None)
    )
    query = query.strip()
    if query:
        like = f"%{query}%"
        stmt = stmt.where(
            or_(Household.code.like(like), Household.building == query, Household.room == query)
        )
    stmt = stmt.order_by(Household.building, Household.unit, Household.room).limit(limit)
    return list(session.scalars(stmt))


def electorate(
    session: Session, proposal: Proposal, *, unvoted: bool = False
) -> list[ElectorateEntry]:
    """The frozen electorate of a proposal (its households as they were at opening), in
    the order it was frozen; with `unvoted`, only the households that have not voted."""
    stmt = select(ElectorateEntry).where(ElectorateEntry.proposal_id == proposal.id)
    if unvoted:
        voted = select(Vote.household_id).where(Vote.proposal_id == proposal.id)
        stmt = stmt.where(ElectorateEntry.household_id.not_in(voted))
    return list(session.scalars(stmt.order_by(ElectorateEntry.id)))


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def import_register(
    store: Store,
    slug: str,
    filename: str,
    data: bytes,
    *,
    dry_run: bool = False,
    remove_missing: bool = False,
    actor: str = "cli",
) -> ImportReport:
    """Import a register file (CSV or XLSX), all or nothing: every bad row raises
    Problems and nothing is written; a dry run writes nothing either."""
    with store.write() as s:
        community = communities.get_by_slug(s, slug)
        rows = parse_file(filename, data)
        return import_rows(
            s, community, rows, dry_run=dry_run, remove_missing=remove_missing, actor=actor
        )


@dataclass(frozen=True)
class ImportPreview:
    report: ImportReport  # what importing would do (a dry run)
    rows: int
    checked_csv: bytes  # the checked rows as our own CSV, for the confirm step


def preview_import(
    store: Store, slug: str, filename: str, data: bytes, *, remove_missing: bool = False
) -> ImportPreview:
    """Check an uploaded register and say what importing it would do; nothing is written.
    Bad rows raise Problems."""
    rows = parse_file(filename, data)
    with store.read() as s:
        community = communities.get_by_slug(s, slug)
        report = import_rows(s, community, rows, dry_run=True, remove_missing=remove_missing)
    # The confirm step re-reads a small, fast format instead of the original (maybe XLSX).
    return ImportPreview(report, len(rows), register_io.write_csv(rows))


def export_register(
    store: Store,
    slug: str,
    filename: str,
    *,
    actor: str = "cli",
    save: Callable[[bytes], object] | None = None,
) -> bytes:
    """The register as CSV or XLSX (by suffix), its export audited. `save` (the command
    line's file write) runs inside the transaction: a file that cannot be written is not
    audited as exported."""
    with store.write() as s:
        community = communities.get_by_slug(s, slug)
        data = export(s, community, filename, actor=actor)
        if save is not None:
            save(data)
        return data
