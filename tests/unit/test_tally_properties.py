"""Hypothesis properties of residents_vote.domain.tally: monotonicity, agreement with a
brute-force Fraction evaluation, and the owner-mode sums (DOMAIN.md section 3)."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from residents_vote.domain.tally import (
    ANSWERS,
    FAVOUR_ORDER,
    HEADCOUNTS,
    RULES,
    Electorate,
    QuestionCounts,
    Rule,
    Threshold,
    Totals,
    UnitVote,
    count_units,
    evaluate,
    make_electorate,
)

# Per test, not a global profile: other modules share the Hypothesis settings.
cheap = settings(deadline=None, max_examples=100)

# A register: (owner_key, area) per unit; few owner keys so owners often hold several units.
units_st = st.lists(
    st.tuples(st.sampled_from("ABCDEFGH"), st.integers(min_value=1, max_value=200000)),
    min_size=1,
    max_size=25,
)
answer_or_none = st.one_of(st.none(), st.sampled_from(ANSWERS))


@st.composite
def ballots(draw):
    """A register and each unit's answer (None: did not vote)."""
    units = draw(units_st)
    answers = draw(st.lists(answer_or_none, min_size=len(units), max_size=len(units)))
    return units, answers


def tally(units, answers, headcount: str) -> tuple[Electorate, QuestionCounts]:
    votes = [
        UnitVote(f"u{i}", owner, area, answer)
        for i, ((owner, area), answer) in enumerate(zip(units, answers, strict=True))
        if answer is not None
    ]
    return make_electorate(units, headcount), count_units(votes, headcount)


def verdicts(units, answers) -> dict[tuple[str, str], bool]:
    """Verdict of every rule under both headcounts."""
    out = {}
    for headcount in HEADCOUNTS:
        electorate, counts = tally(units, answers, headcount)
        for rule in RULES.values():
            out[rule.id, headcount] = evaluate(rule, electorate, counts).passed
    return out


@cheap
@given(ballots(), st.data())
def test_a_new_agreeing_voter_never_turns_a_pass_into_a_fail(ballot, data):
    """Seed: more agreement can only help. Civil rules: the new voter also raises the
    participant base, but 1 >= 3/4 (and 1 > 1/2), so an agreeing newcomer cannot hurt."""
    units, answers = ballot
    silent = [i for i, a in enumerate(answers) if a is None]
    assume(silent)
    i = data.draw(st.sampled_from(silent))
    after = list(answers)
    after[i] = "agree"
    before_v, after_v = verdicts(units, answers), verdicts(units, after)
    for key, passed in before_v.items():
        assert not passed or after_v[key], key


@cheap
@given(ballots(), st.data())
def test_changing_an_answer_to_agree_never_turns_a_pass_into_a_fail(ballot, data):
    """Participation is unchanged and agreement can only grow (owner mode too)."""
    units, answers = ballot
    others = [i for i, a in enumerate(answers) if a not in (None, "agree")]
    assume(others)
    i = data.draw(st.sampled_from(others))
    after = list(answers)
    after[i] = "agree"
    before_v, after_v = verdicts(units, answers), verdicts(units, after)
    for key, passed in before_v.items():
        assert not passed or after_v[key], key


@cheap
@given(ballots(), st.data())
def test_moving_a_vote_from_agree_to_oppose_never_turns_a_fail_into_a_pass(ballot, data):
    units, answers = ballot
    agreeing = [i for i, a in enumerate(answers) if a == "agree"]
    assume(agreeing)
    i = data.draw(st.sampled_from(agreeing))
    after = list(answers)
    after[i] = "oppose"
    before_v, after_v = verdicts(units, answers), verdicts(units, after)
    for key, passed in before_v.items():
        assert passed or not after_v[key], key


# --------------------------------------------------------------------------- brute force


def brute_met(t: Threshold, actual: int, base: int) -> bool:
    """The threshold read as a statement about fractions, not cross-multiplication."""
    ratio = Fraction(t.num, t.den)
    if base == 0:
        return actual > 0 if t.strict else True
    share = Fraction(actual, base)
    return share > ratio if t.strict else share >= ratio


def brute_required(t: Threshold, base: int) -> int:
    exact = Fraction(t.num, t.den) * base
    return math.floor(exact) + 1 if t.strict else math.ceil(exact)


thresholds_st = st.builds(
    lambda counts, measure, of, den, num, strict: Threshold(
        counts, measure, of, min(num, den), den, strict
    ),
    st.sampled_from(("participation", "agree")),
    st.sampled_from(("area", "persons")),
    st.sampled_from(("electorate", "participants")),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=12),
    st.booleans(),
)
rules_st = st.one_of(
    st.sampled_from(list(RULES.values())),
    st.builds(lambda ts: Rule("local", "household", tuple(ts)),
              st.lists(thresholds_st, min_size=1, max_size=4)),
)
small = st.integers(min_value=0, max_value=400)
big = st.integers(min_value=0, max_value=10**8)
counts_st = st.builds(
    lambda pairs: QuestionCounts({a: Totals(p, ar) for a, (p, ar) in zip(ANSWERS, pairs,
                                                                         strict=True)}, ()),
    st.lists(st.tuples(small, big), min_size=4, max_size=4),
)
electorates_st = st.builds(Electorate, small, small, big)


@cheap
@given(rules_st, electorates_st, counts_st)
def test_evaluate_equals_brute_force(rule, electorate, counts):
    participants = Totals(
        sum(counts.answers[a].persons for a in ANSWERS),
        sum(counts.answers[a].area for a in ANSWERS),
    )
    verdict = evaluate(rule, electorate, counts)
    assert verdict.rule == rule
    assert len(verdict.results) == len(rule.thresholds)
    for t, r in zip(rule.thresholds, verdict.results, strict=True):
        source = electorate if t.of == "electorate" else participants
        base = getattr(source, t.measure)
        measured = participants if t.counts == "participation" else counts.answers["agree"]
        actual = getattr(measured, t.measure)
        assert r.threshold == t
        assert (r.base, r.actual) == (base, actual)
        assert r.required == brute_required(t, base)
        assert r.met == brute_met(t, actual, base)
        assert r.shortfall == max(0, r.required - actual)
    assert verdict.passed == (participants.persons > 0 and all(r.met for r in verdict.results))


@cheap
@given(thresholds_st, st.integers(min_value=0, max_value=10**12))
def test_required_meets_and_one_less_does_not(t, base):
    required = t.required(base)
    assert t.met(required, base)
    assert required >= 0
    if required > 0:
        assert not t.met(required - 1, base)
    assert required == brute_required(t, base)


@cheap
@given(thresholds_st, st.integers(min_value=0, max_value=60))
def test_required_by_search(t, base):
    """The smallest integer meeting the threshold, found by counting up."""
    x = 0
    while not brute_met(t, x, base):
        x += 1
    assert t.required(base) == x


# --------------------------------------------------------------------------- owner sums


@cheap
@given(ballots())
def test_owner_mode_sums(ballot):
    """DOMAIN.md: 'An owner counts once as a participant if any of their units voted, and the
    area counted is that of the units that voted ... each unit's area still counts under that
    unit's own answer'."""
    units, answers = ballot
    voted = [(owner, area, a) for (owner, area), a in zip(units, answers, strict=True)
             if a is not None]
    owners = {owner for owner, _, _ in voted}
    _, counts = tally(units, answers, "owner")
    assert counts.participation == Totals(len(owners), sum(area for _, area, _ in voted))
    for answer in ANSWERS:
        assert counts.answers[answer].area == sum(ar for _, ar, a in voted if a == answer)
    # persons: each owner under the least favourable answer of their voted units
    for answer in ANSWERS:
        expected = sum(
            1 for o in owners
            if max((a for ow, _, a in voted if ow == o), key=FAVOUR_ORDER.index) == answer
        )
        assert counts.answers[answer].persons == expected
    conflicted = sorted(o for o in owners if len({a for ow, _, a in voted if ow == o}) > 1)
    assert [c.owner_key for c in counts.conflicts] == conflicted
    for c in counts.conflicts:
        n_voted = sum(1 for ow, _, _ in voted if ow == c.owner_key)
        assert len(c.households) == n_voted and list(c.households) == sorted(c.households)


@cheap
@given(ballots())
def test_household_mode_counts_each_unit(ballot):
    units, answers = ballot
    electorate, counts = tally(units, answers, "household")
    assert electorate.persons == electorate.households == len(units)
    assert counts.conflicts == ()
    for answer in ANSWERS:
        assert counts.answers[answer].persons == answers.count(answer)
    owner_electorate, _ = tally(units, answers, "owner")
    assert owner_electorate.persons == len({o for o, _ in units})
    assert owner_electorate.area == electorate.area == sum(a for _, a in units)
