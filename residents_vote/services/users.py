"""Staff, committee and admin accounts."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import ROLES, Community, User
from . import audit
from .errors import N_, Conflict, Invalid, NotFound

# Compared against when the username is unknown, so a miss costs as much as a hit.
_DUMMY_HASH: dict[str, str] = {}


def _method() -> str:
    return current_app.config.get("PASSWORD_HASH", "scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_method())


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    community_slugs: list[str],
    *,
    full_name: str = "",
    actor: str = "cli",
) -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise Invalid(N_("Username must be 1 to 64 characters"))
    if role not in ROLES:
        raise Invalid(N_("Unknown role %(role)s"), role=role)
    if len(password) < 8:
        raise Invalid(N_("Password must be at least 8 characters"))
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(N_("User %(username)s already exists"), username=username)
    communities = [_community(session, slug) for slug in community_slugs]
    user = User(
        username=username,
        full_name=full_name.strip() or username,
        password_hash=hash_password(password),
        role=role,
        active=True,
    )
    user.communities = communities
    session.add(user)
    session.flush()
    for community in communities or [None]:
        audit.record(
            session,
            "user.create",
            actor=actor,
            community_id=community.id if community else None,
            subject=username,
            data={"role": role},
        )
    return user


def _community(session: Session, slug: str) -> Community:
    community = session.scalar(select(Community).where(Community.slug == slug))
    if community is None:
        raise NotFound(N_("Unknown community %(slug)s"), slug=slug)
    return community


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        if _method() not in _DUMMY_HASH:
            _DUMMY_HASH[_method()] = hash_password("not-a-password")
        check_password_hash(_DUMMY_HASH[_method()], password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def check_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def set_active(session: Session, user: User, active: bool, *, actor: str) -> None:
    user.active = active
    audit.record(
        session,
        "user.activate" if active else "user.deactivate",
        actor=actor,
        subject=user.username,
    )


def reset_password(session: Session, user: User, password: str, *, actor: str) -> None:
    if len(password) < 8:
        raise Invalid(N_("Password must be at least 8 characters"))
    user.password_hash = hash_password(password)
    audit.record(session, "user.password_reset", actor=actor, subject=user.username)


def set_communities(session: Session, user: User, slugs: list[str], *, actor: str) -> None:
    user.communities = [_community(session, slug) for slug in slugs]
    audit.record(
        session, "user.assign", actor=actor, subject=user.username, data={"communities": slugs}
    )


def visible_communities(session: Session, user: User) -> list[Community]:
    if user.role == "admin":
        return list(session.scalars(select(Community).order_by(Community.name)))
    return sorted(user.communities, key=lambda c: c.name)


def can_see(user: User, community: Community) -> bool:
    return user.role == "admin" or any(c.id == community.id for c in user.communities)
