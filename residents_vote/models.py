"""The data model of the whole product (SQLAlchemy 2, typed).

Rules that must never break are database constraints, not just code: one vote per
household per proposal, one live ballot per household per proposal, a unique household
code per community, positive areas, one audit sequence number per chain.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


SIGNATORIES = ("owner-committee", "self-governance", "neighborhood-committee")
ROLES = ("admin", "staff", "committee", "district", "city")
STAGES = ("application", "design", "other")
STATUSES = (
    "draft",
    "voting",
    "counting",
    "hearing",
    "publicity",
    "final",
    "confirmed",
    "submitted",
    "filed",
    "cancelled",
)
RULE_IDS = ("seed", "civil-major", "civil-ordinary")
HEADCOUNTS = ("household", "owner")
VERIFY_MODES = ("none", "phone4", "sms")
ROUTES = ("vote", "hearing")  # how a proposal is decided (DOMAIN.md "The hearing route")
OUTCOMES = ("agreed", "not-agreed")
BALLOT_STATUSES = ("live", "revoked", "used")
CHANNELS = ("online", "paper", "proxy")
ANSWERS = ("agree", "oppose", "abstain", "invalid")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Community(Base):
    __tablename__ = "community"
    __table_args__ = (
        CheckConstraint(_in("signatory", SIGNATORIES), name="signatory"),
        CheckConstraint("signing_members IS NULL OR signing_members > 0", name="members"),
        CheckConstraint("signoff_required IS NULL OR signoff_required > 0", name="required"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    signatory: Mapped[str] = mapped_column(String(32), default="owner-committee")
    signing_members: Mapped[int | None] = mapped_column(Integer)
    signoff_required: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(300), default="")
    office: Mapped[str] = mapped_column(String(300), default="")  # where paper ballots go
    contact: Mapped[str] = mapped_column(String(200), default="")
    # The district (城区) whose renovation office receives the community's filings.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)
    personal_data_purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    households: Mapped[list[Household]] = relationship(back_populates="community")
    proposals: Mapped[list[Proposal]] = relationship(back_populates="community")


class Household(Base):
    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("community_id", "code"),
        CheckConstraint("area > 0", name="area_positive"),
        Index("ix_household_community_building", "community_id", "building", "unit", "room"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32), default="")
    room: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(100))
    area: Mapped[int] = mapped_column(Integer)  # hundredths of a square metre
    owner_name: Mapped[str] = mapped_column(String(200), default="")
    owner_key: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(50), default="")
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship(back_populates="households")


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised whenever every existing session of the user must end (logout, password change
    # or reset, deactivation, removal of a role or community): a session carries the value
    # it was signed in with (get_id) and the user loader refuses any other.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Role `district`: the one district the user follows (role `city` sees every district).
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))

    communities: Mapped[list[Community]] = relationship(secondary="user_community")

    # The user protocol Flask-Login expects, without importing it into the model.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # Stored in the session at login; web's user loader refuses an outdated version.
        return f"{self.id}:{self.session_version or 0}"


class UserCommunity(Base):
    __tablename__ = "user_community"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), primary_key=True)


class Proposal(Base):
    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint(_in("stage", STAGES), name="stage"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("rule", RULE_IDS), name="rule"),
        CheckConstraint(_in("headcount", HEADCOUNTS), name="headcount"),
        CheckConstraint(_in("verify", VERIFY_MODES), name="verify"),
        CheckConstraint("objection_days >= 1", name="objection_days"),
        CheckConstraint(_in("route", ROUTES), name="route"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str] = mapped_column(String(32), default="seed")
    headcount: Mapped[str] = mapped_column(String(16), default="household")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    scope: Mapped[str] = mapped_column(Text, default="")  # comma-separated buildings; "" = all
    verify: Mapped[str] = mapped_column(String(16), default="none")
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    objection_days: Mapped[int] = mapped_column(Integer, default=7)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    objection_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finalized_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    filed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    notice_revision: Mapped[int] = mapped_column(Integer, default=0)
    result_revision: Mapped[int] = mapped_column(Integer, default=0)
    # Totals of the electorate frozen at opening (CONTRACT "electorate").
    frozen_households: Mapped[int | None] = mapped_column(Integer)
    frozen_owners: Mapped[int | None] = mapped_column(Integer)
    frozen_area: Mapped[int | None] = mapped_column(Integer)
    budget_note: Mapped[str] = mapped_column(Text, default="")
    # The audit chain head (seq, hash) printed on the current voting notice and on the
    # final notice: the chain as it stood right after the event publishing each of them.
    notice_head_seq: Mapped[int | None] = mapped_column(Integer)
    notice_head_hash: Mapped[str | None] = mapped_column(String(64))
    final_head_seq: Mapped[int | None] = mapped_column(Integer)
    final_head_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The hearing route (DOMAIN.md "The hearing route"): a hearing instead of a vote.
    route: Mapped[str] = mapped_column(String(16), default="vote", server_default="vote")
    hearing_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(300), default="", server_default="")
    agenda: Mapped[str] = mapped_column(Text, default="", server_default="")
    organiser: Mapped[str] = mapped_column(String(200), default="", server_default="")
    outcome: Mapped[str | None] = mapped_column(String(16))  # agreed | not-agreed, once concluded
    minutes_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    concluded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship(back_populates="proposals")
    questions: Mapped[list[Question]] = relationship(
        back_populates="proposal", order_by="Question.number", cascade="all, delete-orphan"
    )
    plan_items: Mapped[list[PlanItem]] = relationship(
        back_populates="proposal", order_by="PlanItem.id", cascade="all, delete-orphan"
    )

    @property
    def scope_buildings(self) -> list[str]:
        return [b for b in self.scope.split(",") if b]


class Question(Base):
    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    proposal: Mapped[Proposal] = relationship(back_populates="questions")


class PlanItem(Base):
    """A line of a design plan's budget, from the Liuzhou catalog (DOMAIN.md section 7)."""

    __tablename__ = "plan_item"
    __table_args__ = (CheckConstraint("budget >= 0", name="budget"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    catalog_id: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[int] = mapped_column(BigInteger)  # fen (hundredths of a yuan)
    resident_paid: Mapped[int] = mapped_column(BigInteger, default=0)  # fen paid by residents
    building: Mapped[str] = mapped_column(String(32), default="")  # building-only items (elevator)
    # DOMAIN.md section 7: the pipeline company's (or cable operators') part of a group 1
    # item, and a subsidy the plan has been granted for an elevator (fen).
    pipeline_paid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    granted_subsidy: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    proposal: Mapped[Proposal] = relationship(back_populates="plan_items")


class ElectorateEntry(Base):
    """A household as it stood when the proposal opened; never changed afterwards."""

    __tablename__ = "electorate_entry"
    __table_args__ = (
        UniqueConstraint("proposal_id", "household_id"),
        UniqueConstraint("proposal_id", "code"),
        CheckConstraint("area > 0", name="area_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    code: Mapped[str] = mapped_column(String(100))
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32), default="")
    room: Mapped[str] = mapped_column(String(32))
    area: Mapped[int] = mapped_column(Integer)
    owner_key: Mapped[str] = mapped_column(String(100))
    share: Mapped[int | None] = mapped_column(BigInteger)  # fen of the plan, fixed at opening
    # the part of `share` for the household's own building's elevator (fen)
    building_share: Mapped[int | None] = mapped_column(BigInteger)


class Ballot(Base):
    __tablename__ = "ballot"
    __table_args__ = (
        CheckConstraint(_in("status", BALLOT_STATUSES), name="status"),
        UniqueConstraint("proposal_id", "serial"),
        Index(
            "uq_ballot_one_live",
            "proposal_id",
            "household_id",
            unique=True,
            sqlite_where=text("status != 'revoked'"),
            postgresql_where=text("status != 'revoked'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    serial: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token sealed with the install's secret key (services/ballots.seal_token), so a
    # ballot link can be sent by text message later; NULL for ballots issued before.
    link_seal: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="live")
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Vote(Base):
    __tablename__ = "vote"
    __table_args__ = (
        UniqueConstraint("proposal_id", "household_id"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballot.id"))
    channel: Mapped[str] = mapped_column(String(16))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    proxy_name: Mapped[str] = mapped_column(String(100), default="")
    receipt_code: Mapped[str] = mapped_column(String(32), unique=True)
    cast_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the ballot reached the organiser: the cast time online; for a paper or proxy
    # ballot entered while counting, the time it was handed in (before the close).
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    corrected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    answers: Mapped[list[VoteAnswer]] = relationship(
        back_populates="vote", cascade="all, delete-orphan", order_by="VoteAnswer.question_number"
    )


class VoteAnswer(Base):
    __tablename__ = "vote_answer"
    __table_args__ = (CheckConstraint(_in("answer", ANSWERS), name="answer"),)

    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    question_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    answer: Mapped[str] = mapped_column(String(16))

    vote: Mapped[Vote] = relationship(back_populates="answers")


class ResultRevision(Base):
    """A published tally (preliminary or corrected), kept verbatim as it was posted."""

    __tablename__ = "result_revision"
    __table_args__ = (UniqueConstraint("proposal_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"))
    revision: Mapped[int] = mapped_column(Integer)
    tally_json: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    # The audit chain head printed on this revision's posting (after its publication event).
    head_seq: Mapped[int | None] = mapped_column(Integer)
    head_hash: Mapped[str | None] = mapped_column(String(64))


class NoticePosting(Base):
    """Evidence that a notice was physically posted: where, when, photo."""

    __tablename__ = "notice_posting"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # notice | results | final
    place: Mapped[str] = mapped_column(String(300))
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(Base):
    """Files kept as evidence or shown to voters: plan PDF, ballot scans, proxy forms, photos."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), index=True)
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("vote.id"))
    # The scan of an entry that was voided stays in the evidence, linked to that entry.
    voided_vote_id: Mapped[int | None] = mapped_column(ForeignKey("voided_vote.id"))
    posting_id: Mapped[int | None] = mapped_column(ForeignKey("notice_posting.id"))
    kind: Mapped[str] = mapped_column(String(32))  # plan | ballot_scan | proxy_auth | notice_photo
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Objection(Base):
    __tablename__ = "objection"
    __table_args__ = (CheckConstraint("status IN ('open', 'accepted', 'rejected')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    household_code: Mapped[str] = mapped_column(String(100), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16), default="online")
    status: Mapped[str] = mapped_column(String(16), default="open")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Signature(Base):
    __tablename__ = "signature"
    __table_args__ = (
        UniqueConstraint("proposal_id", "user_id"),
        CheckConstraint("decision IN ('sign', 'decline')", name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    role: Mapped[str] = mapped_column(String(16))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditHead(Base):
    """The head of one audit chain, row-locked while an event is appended."""

    __tablename__ = "audit_head"

    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """Append-only, hash-chained. No code path updates or deletes these rows."""

    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AttemptFailure(Base):
    """One failed attempt (wrong owner check, failed login…) at a target, for limits that
    every worker and every app server must see alike (services.failures)."""

    __tablename__ = "attempt_failure"
    __table_args__ = (Index("ix_attempt_failure_kind_target_at", "kind", "target", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # owner-check | login | sms …
    target: Mapped[str] = mapped_column(String(128))  # a ballot id, a hashed user name …
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)

class VoidedVote(Base):
    """A paper or proxy entry voided because it was made under the wrong household.

    Moved out of `vote` (so the one-vote-per-household constraint and every count stay as
    they are) and kept as evidence with its answers, who voided it, when and why; its scans
    point here (Attachment.voided_vote_id). Never changed after it is written.
    """

    __tablename__ = "voided_vote"
    __table_args__ = (CheckConstraint(_in("channel", CHANNELS), name="channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    vote_id: Mapped[int] = mapped_column(Integer)  # the id it had in `vote` (audit events name it)
    channel: Mapped[str] = mapped_column(String(16))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    proxy_name: Mapped[str] = mapped_column(String(100), default="")
    receipt_code: Mapped[str] = mapped_column(String(32), unique=True)
    answers: Mapped[str] = mapped_column(Text)  # JSON {"1": "agree", ...}
    cast_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    corrected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)


SCAN_STATUSES = ("ok", "review")
SCAN_DECISIONS = ("pending", "recorded", "rejected")
SCAN_BATCH_STATES = ("reading", "ready", "failed")


class ScanBatch(Base):
    """One upload of returned paper ballots (a multi-page PDF or several photos).

    The same upload (same SHA-256) for the same proposal is one batch: uploading it
    again returns this batch and records nothing twice."""

    __tablename__ = "scan_batch"
    __table_args__ = (
        UniqueConstraint("proposal_id", "sha256"),
        CheckConstraint(_in("state", SCAN_BATCH_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # reading: pages being read in the background (the batch page refreshes itself)
    state: Mapped[str] = mapped_column(String(16), default="ready", server_default="ready")
    pages_expected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    pages: Mapped[list[ScanPage]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="ScanPage.number"
    )


class ScanPage(Base):
    """One page of a batch as read (CONTRACT's JSON fields) and what staff decided.

    `vote_id` is a plain number, not a foreign key: a recorded entry may later be voided
    (moved out of `vote`), and this page still says which entry it became."""

    __tablename__ = "scan_page"
    __table_args__ = (
        UniqueConstraint("batch_id", "number"),
        CheckConstraint(_in("status", SCAN_STATUSES), name="status"),
        CheckConstraint(_in("decision", SCAN_DECISIONS), name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("scan_batch.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1.. across the batch's files
    file: Mapped[str] = mapped_column(String(200), default="")
    file_page: Mapped[int] = mapped_column(Integer, default=1)
    ballot_id: Mapped[int | None] = mapped_column(Integer)
    household: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[str] = mapped_column(Text, default="{}")  # JSON {"1": "agree", ...}
    signed: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON ["unsigned", ...]
    decision: Mapped[str] = mapped_column(String(16), default="pending")
    vote_id: Mapped[int | None] = mapped_column(Integer)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    image: Mapped[bytes | None] = mapped_column(LargeBinary)  # PNG, downscaled page
    crops: Mapped[str] = mapped_column(Text, default="{}")  # JSON {"q2": base64 PNG, ...}

    batch: Mapped[ScanBatch] = relationship(back_populates="pages")


class HearingAttendance(Base):
    """A household present at a hearing (in person or by a proxy with written
    authorisation): at most once per hearing. No names but the proxy's, never published."""

    __tablename__ = "hearing_attendance"
    __table_args__ = (UniqueConstraint("proposal_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    proxy_name: Mapped[str] = mapped_column(String(100), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


MESSAGE_KINDS = ("ballot-link", "reminder", "code")
MESSAGE_STATUSES = ("queued", "sending", "sent", "failed")


class Message(Base):
    """One text message in the outbox (residents_vote/messages), queued in the same
    transaction as its cause and delivered by the `messages send` worker.

    `phone` is the full number, kept only for the sending; pages and lists show it
    masked. `text` and `params` are blanked once the message is sent or failed (a link
    or a one-time code is not kept longer than it is needed)."""

    __tablename__ = "message"
    __table_args__ = (
        CheckConstraint(_in("kind", MESSAGE_KINDS), name="kind"),
        CheckConstraint(_in("status", MESSAGE_STATUSES), name="status"),
        Index("ix_message_status_next_try_at", "status", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballot.id"), index=True)
    phone: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the template parameters
    status: Mapped[str] = mapped_column(String(16), default="queued")
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SmsCode(Base):
    """A one-time code sent for a ballot (`--verify sms`), stored only as a hash."""

    __tablename__ = "sms_code"
    __table_args__ = (Index("ix_sms_code_ballot_id_created_at", "ballot_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Reminder(Base):
    """The day staff chose for a proposal's reminder, and when it was queued."""

    __tablename__ = "reminder"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
class District(Base):
    """A district (城区) renovation office: its communities, its campaign's target dates
    (the day by which each stage should be confirmed) and its filing inbox."""

    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Campaign targets: the application confirmed (signed) by, the design plan confirmed by.
    application_by: Mapped[dt.date | None] = mapped_column(Date)
    design_by: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


SUBMISSION_STATUSES = ("waiting", "accepted", "returned")


class FilingSubmission(Base):
    """A confirmed proposal's filing package sent to its district's inbox: kept as sent
    (the ZIP and its SHA-256), then accepted (the proposal is filed) or returned with a
    reason (the proposal is confirmed again and may be submitted anew: a new row)."""

    __tablename__ = "filing_submission"
    __table_args__ = (CheckConstraint(_in("status", SUBMISSION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    filename: Mapped[str] = mapped_column(String(200))
    package: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
