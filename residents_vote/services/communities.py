"""Communities and who may see them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import SIGNATORIES, Community
from . import audit
from .errors import N_, Conflict, Invalid, NotFound

if TYPE_CHECKING:
    from .unit import Store

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def create_community(
    session: Session,
    slug: str,
    name: str,
    *,
    signatory: str = "owner-committee",
    signing_members: int | None = None,
    signoff_required: int | None = None,
    address: str = "",
    office: str = "",
    contact: str = "",
    actor: str = "cli",
    district: str | None = None,
) -> Community:
    problems = []
    if not SLUG.match(slug):
        problems.append(N_("Slug must be lowercase letters, digits, '-' or '_' (max 64)"))
    if not name.strip() or len(name) > 200:
        problems.append(N_("Name must be 1 to 200 characters"))
    if signatory not in SIGNATORIES:
        problems.append(N_("Unknown signatory"))
    if signing_members is not None and signing_members < 1:
        problems.append(N_("The signing body needs at least one member"))
    if signoff_required is not None and signoff_required < 1:
        problems.append(N_("At least one signature must be required"))
    if (
        signing_members is not None
        and signoff_required is not None
        and signoff_required > signing_members
    ):
        problems.append(N_("More signatures required than members"))
    if problems:
        raise Invalid(problems[0])
    if session.scalar(select(Community.id).where(Community.slug == slug)) is not None:
        raise Conflict(N_("Community %(slug)s already exists"), slug=slug)
    district_id = None
    if district:
        from .districts import get_by_slug as district_by_slug

        district_id = district_by_slug(session, district).id
    community = Community(
        slug=slug,
        name=name.strip(),
        signatory=signatory,
        signing_members=signing_members,
        signoff_required=signoff_required,
        address=address,
        office=office,
        contact=contact,
        district_id=district_id,
    )
    session.add(community)
    session.flush()
    data: dict[str, object] = {
        "signatory": signatory,
        "members": signing_members,
        "required": signoff_required,
    }
    if district:
        data["district"] = district
    audit.record(
        session,
        "community.create",
        actor=actor,
        community_id=community.id,
        subject=slug,
        data=data,
    )
    return community


def get_by_slug(session: Session, slug: str) -> Community:
    community = session.scalar(select(Community).where(Community.slug == slug))
    if community is None:
        raise NotFound(N_("Unknown community %(slug)s"), slug=slug)
    return community


def find(session: Session, slug: str) -> Community | None:
    return session.scalar(select(Community).where(Community.slug == slug))


def by_name(session: Session) -> list[Community]:
    """Every community, by name (admin pages)."""
    return list(session.scalars(select(Community).order_by(Community.name)))


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


@dataclass(frozen=True)
class NewCommunity:
    community_id: int
    slug: str
    name: str


def add_community(
    store: Store,
    slug: str,
    name: str,
    *,
    signatory: str = "owner-committee",
    signing_members: int | None = None,
    signoff_required: int | None = None,
    office: str = "",
    contact: str = "",
    actor: str = "cli",
    district: str | None = None,
) -> NewCommunity:
    """A new community (CLI `community create`, admin page)."""
    with store.write() as s:
        community = create_community(
            s,
            slug,
            name,
            signatory=signatory,
            signing_members=signing_members,
            signoff_required=signoff_required,
            office=office,
            contact=contact,
            actor=actor,
            district=district,
        )
        return NewCommunity(community.id, community.slug, community.name)
