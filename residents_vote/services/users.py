"""Staff, committee and admin accounts."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import settings
from ..models import ROLES, Community, Proposal, User
from . import audit, failures, passwords
from .communities import find as find_community
from .errors import N_, Conflict, Invalid, NotFound

if TYPE_CHECKING:
    from .unit import Store

# Compared against when the username is unknown, so a miss costs as much as a hit.
_DUMMY_HASH: dict[str, str] = {}


def _method() -> str:
    return settings.of().password_hash


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
    district: str | None = None,
) -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise Invalid(N_("Username must be 1 to 64 characters"))
    if role not in ROLES:
        raise Invalid(N_("Unknown role %(role)s"), role=role)
    _check_policy(password, username)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(N_("User %(username)s already exists"), username=username)
    communities = [_community(session, slug) for slug in community_slugs]
    district_id = _district_of(session, role, district, community_slugs)
    user = User(
        username=username,
        full_name=full_name.strip() or username,
        password_hash=hash_password(password),
        role=role,
        active=True,
        district_id=district_id,
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
            data={"role": role, "district": district} if district else {"role": role},
        )
    return user


def _district_of(
    session: Session, role: str, district: str | None, community_slugs: list[str]
) -> int | None:
    """Role `district` follows exactly one district; role `city` every district; no other
    role has one. District and city users are not assigned to communities."""
    from .districts import get_by_slug as district_by_slug

    if role in ("district", "city") and community_slugs:
        raise Invalid(N_("A %(role)s user is not assigned to communities"), role=role)
    if role == "district":
        if not district:
            raise Invalid(N_("A district user needs --district"))
        return district_by_slug(session, district).id
    if district:
        raise Invalid(N_("Only a district user belongs to a district"))
    return None


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
    if not active:
        end_sessions(user)  # and they stay ended if the account is activated again
    audit.record(
        session,
        "user.activate" if active else "user.deactivate",
        actor=actor,
        subject=user.username,
    )


def reset_password(session: Session, user: User, password: str, *, actor: str) -> None:
    _check_policy(password, user.username)
    user.password_hash = hash_password(password)
    end_sessions(user)
    audit.record(session, "user.password_reset", actor=actor, subject=user.username)


def set_communities(session: Session, user: User, slugs: list[str], *, actor: str) -> None:
    communities = [_community(session, slug) for slug in slugs]
    if {c.id for c in user.communities} - {c.id for c in communities}:
        end_sessions(user)  # a community was taken away
    user.communities = communities
    audit.record(
        session, "user.assign", actor=actor, subject=user.username, data={"communities": slugs}
    )


def visible_communities(session: Session, user: User) -> list[Community]:
    if user.role == "admin":
        return list(session.scalars(select(Community).order_by(Community.name)))
    return sorted(user.communities, key=lambda c: c.name)


def can_see(user: User, community: Community) -> bool:
    return user.role == "admin" or any(c.id == community.id for c in user.communities)


# --- password policy, failed logins and sessions (issue 12 item 9) ----------------------


def _check_policy(password: str, username: str) -> None:
    problem = passwords.problem(password, username)
    if problem is not None:
        raise Invalid(problem)


def end_sessions(user: User) -> None:
    """End every existing session of the user at its next request: a session carries the
    version it was signed in with (User.get_id) and the user loader refuses any other."""
    user.session_version = (user.session_version or 0) + 1


def logout(session: Session, user: User) -> None:
    """Logging out ends every session of the user, including copies of this cookie."""
    end_sessions(user)


def set_role(session: Session, user: User, role: str, *, actor: str) -> None:
    if role not in ROLES:
        raise Invalid(N_("Unknown role %(role)s"), role=role)
    if role == user.role:
        return
    old = user.role
    user.role = role
    end_sessions(user)  # the old role is removed
    audit.record(
        session, "user.role", actor=actor, subject=user.username, data={"from": old, "to": role}
    )


def change_password(session: Session, user: User, new: str) -> None:
    """The user's own change, once the current password was checked (attempt_login)."""
    _check_policy(new, user.username)
    user.password_hash = hash_password(new)
    end_sessions(user)
    audit.record(session, "user.password_change", actor=user.username, subject=user.username)


@dataclass(frozen=True)
class LoginAttempt:
    user: User | None  # the account when the password was right
    retry_at: dt.datetime | None = None  # set when the account is refused for now (429)


LOGIN_FAILURES = "login"


def _account_key(username: str) -> str:
    """The failure-counter target of a typed user name: keyed hash, never the name itself
    (a mistyped name may be a password), the same for known and unknown names."""
    secret = settings.of().secret_key
    return hmac.new(secret, username.encode(), hashlib.sha256).hexdigest()


def attempt_login(
    session: Session, username: str, password: str, *, now: dt.datetime, limited: bool = True
) -> LoginAttempt:
    """Check a login; failures are counted per account name (at most 10 per 15 minutes,
    then refused even with the right password) and audited, inside the caller's
    transaction. A name that matches no account is never written to the audit log."""
    name = username.strip()
    key = _account_key(name)
    if limited:
        failures.lock(session, LOGIN_FAILURES, key)
        retry_at = failures.blocked_until(session, LOGIN_FAILURES, key, now=now)
        if retry_at is not None:
            return LoginAttempt(None, retry_at)
    user = authenticate(session, name, password)
    if user is not None:
        return LoginAttempt(user)
    if limited:
        failures.record(session, LOGIN_FAILURES, key, now=now)
    known = session.scalar(select(User.id).where(User.username == name)) is not None
    audit.record(session, "login.failed", actor=name[:64] if known else "?", subject="login")
    return LoginAttempt(None)


def password_blocked_until(
    session: Session, username: str, *, now: dt.datetime
) -> dt.datetime | None:
    """For a password re-entered by a signed-in user (sign-off): the account's login limit."""
    key = _account_key(username.strip())
    failures.lock(session, LOGIN_FAILURES, key)
    return failures.blocked_until(session, LOGIN_FAILURES, key, now=now)


def record_password_failure(session: Session, username: str, *, now: dt.datetime) -> None:
    """A wrong re-entered password counts like a failed login of the account."""
    failures.record(session, LOGIN_FAILURES, _account_key(username.strip()), now=now)


def acting_user(session: Session, username: str) -> User:
    """An active account by its user name (who acts in a use case); Invalid otherwise."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise Invalid(N_("Unknown user %(user)s"), user=username)
    return user


# --- Reads for the pages (the request's session) ------------------------------------------


def by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def community_for(session: Session, user: User, slug: str) -> Community | None:
    """The community if this user may see it (assigned, or admin); None otherwise."""
    community = find_community(session, slug)
    if community is None or not can_see(user, community):
        return None
    return community


def proposal_for(session: Session, user: User, proposal_id: int) -> Proposal | None:
    """The proposal if this user may see its community; None otherwise."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or not can_see(user, proposal.community):
        return None
    return proposal


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


@dataclass(frozen=True)
class NewUser:
    user_id: int
    username: str
    role: str


def register_user(
    store: Store,
    username: str,
    password: str,
    role: str,
    community_slugs: list[str],
    *,
    full_name: str = "",
    actor: str = "cli",
    district: str | None = None,
) -> NewUser:
    """A new account (CLI `user create`, admin page)."""
    with store.write() as s:
        user = create_user(
            s,
            username,
            password,
            role,
            community_slugs,
            full_name=full_name,
            actor=actor,
            district=district,
        )
        return NewUser(user.id, user.username, user.role)


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("Unknown user %(user)s"), user=user_id)
    return user


def update_user(
    store: Store,
    user_id: int,
    *,
    active: bool | None = None,
    password: str | None = None,
    communities: list[str] | None = None,
    role: str | None = None,
    actor: str,
) -> None:
    """An admin's change to an account: whichever of active, password, communities and
    role is given (None: unchanged), in one transaction."""
    with store.write() as s:
        user = _user(s, user_id)
        if active is not None:
            set_active(s, user, active, actor=actor)
        if password is not None:
            reset_password(s, user, password, actor=actor)
        if communities is not None:
            set_communities(s, user, communities, actor=actor)
        if role is not None:
            set_role(s, user, role, actor=actor)


@dataclass(frozen=True)
class Login:
    user_id: int | None  # the account when the password was right
    retry_at: dt.datetime | None = None  # set when the account is refused for now (429)


def log_in(
    store: Store, username: str, password: str, *, now: dt.datetime, limited: bool = True
) -> Login:
    """Check a login (attempt_login); a failure is counted and audited, committed."""
    with store.write() as s:
        attempt = attempt_login(s, username, password, now=now, limited=limited)
        return Login(attempt.user.id if attempt.user else None, attempt.retry_at)


def log_out(store: Store, user_id: int) -> None:
    """Every session of the user ends, copies of this cookie too."""
    with store.write() as s:
        user = s.get(User, user_id)
        if user is not None:
            logout(s, user)


@dataclass(frozen=True)
class PasswordChange:
    changed: bool  # False: the current password was wrong (counted as a failed login)
    retry_at: dt.datetime | None = None  # the account is refused for now (429)


def change_own_password(
    store: Store,
    username: str,
    current: str,
    new: str,
    *,
    now: dt.datetime,
    limited: bool = True,
) -> PasswordChange:
    """The signed-in user's own change: the current password is checked like a login
    (a wrong one is counted and committed); a new password against the policy raises
    Invalid and nothing is written."""
    with store.write() as s:
        attempt = attempt_login(s, username, current, now=now, limited=limited)
        if attempt.retry_at is not None:
            return PasswordChange(False, attempt.retry_at)
        if attempt.user is None:
            return PasswordChange(False)
        change_password(s, attempt.user, new)
        return PasswordChange(True)
