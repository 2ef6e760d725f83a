"""The tally service: aggregate SQL in, the counting module's verdicts out.

Votes are never loaded as objects: three statements, whatever the number of votes, give
per question the units and area under each answer, each owner's combined answer, and the
voted units of owners whose units disagree; the pure module `domain.tally` decides.
Every page, PDF and export that shows a count gets it here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..domain import tally as rules
from ..domain.register import part_key
from ..domain.tally import ANSWERS, Conflict, Electorate, QuestionCounts, Totals
from ..models import ElectorateEntry, HearingAttendance, Proposal, Vote, VoteAnswer

# Least favourable answer wins for an owner whose units disagree (DOMAIN.md section 3).
_RANK = {answer: i for i, answer in enumerate(rules.FAVOUR_ORDER)}


@dataclass
class Tally:
    """Everything a page needs: the CONTRACT JSON and the binding verdicts."""

    json: dict
    electorate: Electorate
    participation: Totals
    verdicts: list[rules.Verdict] = field(default_factory=list)
    counts: list[QuestionCounts] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.verdicts) and all(v.passed for v in self.verdicts)


def electorate(proposal: Proposal, headcount: str) -> Electorate:
    households = proposal.frozen_households or 0
    persons = households if headcount == "household" else (proposal.frozen_owners or 0)
    return Electorate(households=households, persons=persons, area=proposal.frozen_area or 0)


def _joined():
    return (
        select()
        .select_from(VoteAnswer)
        .join(Vote, Vote.id == VoteAnswer.vote_id)
        .join(
            ElectorateEntry,
            (ElectorateEntry.proposal_id == Vote.proposal_id)
            & (ElectorateEntry.household_id == Vote.household_id),
        )
    )


def aggregate(session: Session, proposal: Proposal) -> dict[str, list[QuestionCounts]]:
    """Counts per question under both headcounts: {"household": [...], "owner": [...]}."""
    n_questions = len(proposal.questions)
    units: dict[int, dict[str, Totals]] = defaultdict(dict)
    for number, answer, count, area in session.execute(
        _joined()
        .add_columns(
            VoteAnswer.question_number,
            VoteAnswer.answer,
            func.count(),
            func.sum(ElectorateEntry.area),
        )
        .where(VoteAnswer.proposal_id == proposal.id)
        .group_by(VoteAnswer.question_number, VoteAnswer.answer)
    ):
        units[number][answer] = Totals(int(count), int(area or 0))

    rank = case(*((VoteAnswer.answer == a, r) for a, r in _RANK.items()), else_=len(_RANK))
    per_owner = (
        _joined()
        .add_columns(
            VoteAnswer.question_number.label("q"),
            ElectorateEntry.owner_key.label("owner_key"),
            func.max(rank).label("worst"),
            func.min(rank).label("best"),
        )
        .where(VoteAnswer.proposal_id == proposal.id)
        .group_by(VoteAnswer.question_number, ElectorateEntry.owner_key)
        .subquery()
    )
    owners: dict[int, dict[int, int]] = defaultdict(dict)
    for number, worst, count in session.execute(
        select(per_owner.c.q, per_owner.c.worst, func.count()).group_by(
            per_owner.c.q, per_owner.c.worst
        )
    ):
        owners[number][int(worst)] = int(count)

    # Owners whose voted units answered differently, with those units, in one pass: a
    # window over (question, owner) instead of a second query with an IN list of keys.
    owner_window = {"partition_by": (VoteAnswer.question_number, ElectorateEntry.owner_key)}
    per_unit = (
        _joined()
        .add_columns(
            VoteAnswer.question_number.label("q"),
            ElectorateEntry.owner_key.label("owner_key"),
            ElectorateEntry.code.label("code"),
            func.max(rank).over(**owner_window).label("worst"),
            func.min(rank).over(**owner_window).label("best"),
        )
        .where(VoteAnswer.proposal_id == proposal.id)
        .subquery()
    )
    conflicted: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for number, owner_key, code in session.execute(
        select(per_unit.c.q, per_unit.c.owner_key, per_unit.c.code).where(
            per_unit.c.worst != per_unit.c.best
        )
    ):
        conflicted[number][owner_key].append(code)

    zero = Totals(0, 0)
    by_household: list[QuestionCounts] = []
    by_owner: list[QuestionCounts] = []
    for number in range(1, n_questions + 1):
        unit_totals = {a: units[number].get(a, zero) for a in ANSWERS}
        by_household.append(QuestionCounts(unit_totals, ()))
        owner_totals = {
            a: Totals(owners[number].get(_RANK[a], 0), unit_totals[a].area) for a in ANSWERS
        }
        # Sorted here, not in SQL: a database collation (ICU, zh_CN) orders text differently
        # from the reference count, and the published JSON must not depend on the database.
        conflicts = tuple(
            Conflict(key, tuple(sorted(codes)))
            for key, codes in sorted(conflicted.get(number, {}).items())
        )
        by_owner.append(QuestionCounts(owner_totals, conflicts))
    return {"household": by_household, "owner": by_owner}


def entries_with(session: Session, proposal: Proposal, joined, *extra) -> list:  # noqa: ANN001
    """The electorate entries (code, area, building, unit, room, then `extra` columns) of
    the households that have a row in `joined` (Vote, HearingAttendance: a table keyed by
    proposal and household) for this proposal."""
    return list(
        session.execute(
            select(
                ElectorateEntry.code,
                ElectorateEntry.area,
                ElectorateEntry.building,
                ElectorateEntry.unit,
                ElectorateEntry.room,
                *extra,
            )
            .join(
                joined,
                (joined.proposal_id == ElectorateEntry.proposal_id)
                & (joined.household_id == ElectorateEntry.household_id),
            )
            .where(ElectorateEntry.proposal_id == proposal.id)
        )
    )


def in_register_order(rows: list) -> list:
    """Rows with building, unit and room, in natural register order."""
    return sorted(rows, key=lambda r: (part_key(r.building), part_key(r.unit), part_key(r.room)))


def participating_units(session: Session, proposal: Proposal) -> list[dict]:
    """The units that voted, or attended a hearing (room + area only: no names, no answers)."""
    rows = _attending(session, proposal) if proposal.route == "hearing" else entries_with(
        session, proposal, Vote
    )
    return [{"code": r.code, "area": rules.format_area(r.area)} for r in in_register_order(rows)]


def _attending(session: Session, proposal: Proposal) -> list:
    """The electorate entries of the households recorded as present at the hearing."""
    return entries_with(session, proposal, HearingAttendance)


def compute(session: Session, proposal: Proposal) -> Tally:
    """The live tally of a proposal, shaped as CONTRACT.md's tally JSON."""
    if proposal.route == "hearing":
        return build_hearing(proposal, [r.area for r in _attending(session, proposal)])
    return build(proposal, aggregate(session, proposal))


def build_hearing(proposal: Proposal, areas: list[int]) -> Tally:
    """The tally JSON of a hearing from the areas of the households that attended, counted
    by the pure module (`audit verify` recounts a published hearing result the same way)."""
    households = electorate(proposal, "household")
    attended = rules.count_attendance(areas)
    data = {
        "proposal": _proposal_json(proposal),
        "electorate": {
            "households": households.households,
            "persons": households.persons,
            "area": rules.format_area(households.area),
        },
        "participation": rules.totals_json(attended),
        **rules.hearing_json(households, attended, proposal.outcome),
    }
    return Tally(data, households, attended)


def _proposal_json(proposal: Proposal) -> dict:
    return {
        "id": proposal.id,
        "public_id": proposal.public_id,
        "title": proposal.title,
        "stage": proposal.stage,
        "status": proposal.status,
        "rule": proposal.rule,
        "headcount": proposal.headcount,
        "scope": proposal.scope_buildings,
    }


def recount(proposal: Proposal, votes: list[tuple[str, str, int, dict[int, str]]]) -> Tally:
    """The tally from votes given one by one as (code, owner_key, area, answers), counted
    with the reference count (`audit verify` recounts published results this way)."""
    counts: dict[str, list[QuestionCounts]] = {}
    for headcount in rules.HEADCOUNTS:
        counts[headcount] = [
            rules.count_units(
                (
                    rules.UnitVote(code, owner_key, area, answers.get(q.number, ""))
                    for code, owner_key, area, answers in votes
                ),
                headcount,
            )
            for q in proposal.questions
        ]
    return build(proposal, counts)


def build(proposal: Proposal, counts: dict[str, list[QuestionCounts]]) -> Tally:
    """The tally JSON and verdicts from counts per question under both headcounts."""
    rule = rules.RULES[proposal.rule]
    binding_counts = counts[proposal.headcount]
    binding_electorate = electorate(proposal, proposal.headcount)
    questions = []
    verdicts = []
    for question, qcounts in zip(proposal.questions, binding_counts, strict=True):
        advisory = [
            (
                other,
                electorate(proposal, other.default_headcount),
                counts[other.default_headcount][question.number - 1],
            )
            for other in rules.advisory_rules(rule)
        ]
        questions.append(
            rules.question_json(
                question.number, question.text, rule, binding_electorate, qcounts, advisory
            )
        )
        verdicts.append(rules.evaluate(rule, binding_electorate, qcounts))
    participation = binding_counts[0].participation if binding_counts else Totals(0, 0)
    data = {
        "route": "vote",
        "proposal": _proposal_json(proposal),
        "electorate": {
            "households": binding_electorate.households,
            "persons": binding_electorate.persons,
            "area": rules.format_area(binding_electorate.area),
        },
        "participation": rules.totals_json(participation),
        "questions": questions,
    }
    return Tally(data, binding_electorate, participation, verdicts, binding_counts)
