"""Table-driven checks of residents_vote.domain.tally against DOMAIN.md section 3 and the
"Tally JSON" section of CONTRACT.md. Each case quotes the line it checks."""

from __future__ import annotations

import pytest

from residents_vote.domain.tally import (
    ANSWERS,
    FAVOUR_ORDER,
    RULES,
    Conflict,
    Electorate,
    QuestionCounts,
    Rule,
    Threshold,
    Totals,
    UnitVote,
    advisory_rules,
    count_units,
    evaluate,
    format_area,
    make_electorate,
    parse_area,
    percent,
    question_json,
    ratio_text,
    shortfall_text,
    threshold_json,
    zero_counts,
)

SEED = RULES["seed"]
MAJOR = RULES["civil-major"]
ORDINARY = RULES["civil-ordinary"]

TWO_THIRDS = Threshold("agree", "persons", "electorate", 2, 3, False)
THREE_QUARTERS = Threshold("agree", "persons", "participants", 3, 4, False)
MAJORITY = Threshold("agree", "persons", "participants", 1, 2, True)

# DOMAIN.md: "Real example for scale (Dongguan ...): 403 owners, 66,783.97 m²."
DONGGUAN = Electorate(households=403, persons=403, area=6678397)


def counts(**answers: tuple[int, int]) -> QuestionCounts:
    """QuestionCounts from answer=(persons, area) keywords; missing answers are zero."""
    return QuestionCounts(
        {a: Totals(*answers.get(a, (0, 0))) for a in ANSWERS}, ()
    )


def uniform_votes(*spec: tuple[int, str], area: int = 10000) -> list[UnitVote]:
    """Households each with its own owner and the same area: spec = (how many, answer)."""
    votes: list[UnitVote] = []
    for n, answer in spec:
        for _ in range(n):
            code = f"1-{len(votes) + 1}"
            votes.append(UnitVote(code, code, area, answer))
    return votes


def uniform_electorate(households: int, area: int = 10000) -> Electorate:
    return Electorate(households, households, households * area)


# --------------------------------------------------------------------------- rules as written


def test_rules_are_exactly_the_domain_table():
    """DOMAIN.md table: seed = agree >= 2/3 of total area and of total households; civil rules =
    participation >= 2/3 of total area and persons, then 3/4 (major) or more than half
    (ordinary) of participating area and persons."""
    assert list(RULES) == ["seed", "civil-major", "civil-ordinary"]
    assert SEED == Rule("seed", "household", (
        Threshold("agree", "area", "electorate", 2, 3, False),
        Threshold("agree", "persons", "electorate", 2, 3, False),
    ))
    for rule, num, den, strict in ((MAJOR, 3, 4, False), (ORDINARY, 1, 2, True)):
        assert rule.default_headcount == "owner"
        assert rule.thresholds == (
            Threshold("participation", "area", "electorate", 2, 3, False),
            Threshold("participation", "persons", "electorate", 2, 3, False),
            Threshold("agree", "area", "participants", num, den, strict),
            Threshold("agree", "persons", "participants", num, den, strict),
        )
    assert FAVOUR_ORDER == ("agree", "abstain", "invalid", "oppose")
    assert [r.id for r in advisory_rules(SEED)] == ["civil-major", "civil-ordinary"]
    assert [r.id for r in advisory_rules(MAJOR)] == ["seed", "civil-ordinary"]


@pytest.mark.parametrize(
    ("threshold", "base", "required"),
    [
        pytest.param(TWO_THIRDS, 403, 269, id="two thirds require 269 households"),
        pytest.param(TWO_THIRDS, 6678397, 4452265, id="two thirds require 44,522.65 m²"),
        pytest.param(MAJORITY, 5, 3, id="strict 1/2: 3 of 5 persons"),
        pytest.param(MAJORITY, 40000, 20001, id="strict 1/2: 200.01 of 400.00 m²"),
        pytest.param(MAJORITY, 4, 3, id="strict 1/2: exactly half (2 of 4) is not enough"),
        pytest.param(THREE_QUARTERS, 290, 218, id="civil-major: 205 < 217.5, so 218 of 290"),
        pytest.param(TWO_THIRDS, 300, 200, id="seed: 205 >= 200 of 300"),
        pytest.param(TWO_THIRDS, 0, 0, id="nothing to reach"),
        pytest.param(MAJORITY, 0, 1, id="more than half of nothing needs one"),
        pytest.param(TWO_THIRDS, 1, 1, id="one household"),
    ],
)
def test_required_is_the_smallest_integer_meeting_the_threshold(threshold, base, required):
    """DOMAIN.md: 'The "required" figure to publish is the smallest integer meeting the
    threshold: for 403 households and 66,783.97 m², two thirds require 269 households and
    44,522.65 m².'"""
    assert threshold.required(base) == required
    assert threshold.met(required, base)
    if required > 0:
        assert not threshold.met(required - 1, base)


@pytest.mark.parametrize(
    ("electorate", "agree", "passed"),
    [
        pytest.param(uniform_electorate(300), (200, 2000000), True,
                     id="exactly two thirds passes ('以上' includes the number itself)"),
        pytest.param(uniform_electorate(300), (200, 1999999), False,
                     id="one hundredth of a m² short fails"),
        pytest.param(uniform_electorate(300), (199, 2000000), False,
                     id="one household short fails"),
        pytest.param(DONGGUAN, (269, 4452265), True, id="403 households: 269 and 44,522.65 m²"),
        pytest.param(DONGGUAN, (269, 4452264), False, id="403 households: 44,522.64 m² fails"),
        pytest.param(DONGGUAN, (268, 4452265), False, id="403 households: 268 fails"),
    ],
)
def test_seed_is_inclusive_and_exact(electorate, agree, passed):
    """DOMAIN.md: 'Civil Code art. 1259: "以上" includes the number itself. Exactly two thirds
    passes. ... Never decide on a rounded percentage: compare integers'."""
    verdict = evaluate(SEED, electorate, counts(agree=agree))
    assert verdict.passed is passed


@pytest.mark.parametrize(
    ("participants", "agree", "passed"),
    [
        pytest.param((4, 40000), (2, 20001), False, id="persons at exactly half fails"),
        pytest.param((4, 40000), (3, 20000), False, id="area at exactly half fails"),
        pytest.param((4, 40000), (3, 20001), True, id="200.01 of 400.00 m² and 3 of 4 pass"),
        pytest.param((5, 40000), (3, 20001), True, id="3 of 5 persons pass"),
    ],
)
def test_civil_ordinary_majority_is_strict(participants, agree, passed):
    """DOMAIN.md: '"过半数" (more than half) is strict.'"""
    persons, area = participants
    electorate = Electorate(persons, persons, area)  # everyone took part
    c = counts(agree=agree, oppose=(persons - agree[0], area - agree[1]))
    assert evaluate(ORDINARY, electorate, c).passed is passed


# --------------------------------------------------------------------------- the two families


FAMILY_CASES = [
    pytest.param(
        uniform_votes((205, "agree"), (85, "oppose")),
        {"seed": True, "civil-major": False, "civil-ordinary": True},
        id="300 households, 290 vote, 205 agree -> seed passes, civil-major fails",
    ),
    pytest.param(
        uniform_votes((150, "agree"), (50, "oppose")),
        {"seed": False, "civil-major": True, "civil-ordinary": True},
        id="300 households, 200 vote, 150 agree -> seed fails, civil-major passes",
    ),
]


@pytest.mark.parametrize(("votes", "expected"), FAMILY_CASES)
def test_the_two_families_do_not_contain_each_other(votes, expected):
    """DOMAIN.md: 'The two families do not contain each other: 300 households, 290 vote, 205
    agree -> seed passes (205 >= 200), civil-major fails (205 < 217.5); 300 households, 200
    vote, 150 agree -> seed fails, civil-major passes.'"""
    for rule_id, passed in expected.items():
        rule = RULES[rule_id]
        electorate = Electorate(300, 300, 300 * 10000)
        c = count_units(votes, rule.default_headcount)
        assert evaluate(rule, electorate, c).passed is passed, rule_id


@pytest.mark.parametrize(("votes", "expected"), FAMILY_CASES)
@pytest.mark.parametrize("binding", ["seed", "civil-major", "civil-ordinary"])
def test_advisory_verdicts_beside_the_binding_one(votes, expected, binding):
    """DOMAIN.md: 'the tally shows the verdict under the other rules too, as advice, beside
    the binding one.' CONTRACT.md: 'the verdict under each rule other than the binding one'."""
    electorate = Electorate(300, 300, 300 * 10000)

    def for_rule(rule: Rule) -> tuple[Rule, Electorate, QuestionCounts]:
        return rule, electorate, count_units(votes, rule.default_headcount)

    rule = RULES[binding]
    # given in reverse order and including the binding rule: output is RULES order without it
    advisory = [for_rule(r) for r in reversed(RULES.values())]
    q = question_json(1, "q", rule, electorate, count_units(votes, rule.default_headcount),
                      advisory)
    assert q["passed"] is expected[binding]
    assert q["advisory"] == [
        {"rule": rid, "passed": passed} for rid, passed in expected.items() if rid != binding
    ]


# --------------------------------------------------------------------------- participation


@pytest.mark.parametrize(
    ("rule", "c", "passed"),
    [
        pytest.param(MAJOR, counts(agree=(150, 1500000), abstain=(25, 250000),
                                   invalid=(25, 250000)), True,
                     id="abstain and invalid count as participation (200 of 300)"),
        pytest.param(MAJOR, counts(agree=(150, 1500000), abstain=(51, 510000)), False,
                     id="abstentions are participants that do not agree (150 < 150.75)"),
        pytest.param(SEED, counts(abstain=(300, 3000000)), False,
                     id="abstain is never agreement (seed)"),
        pytest.param(SEED, counts(agree=(199, 1990000), invalid=(101, 1010000)), False,
                     id="invalid is never agreement (seed)"),
        pytest.param(MAJOR, counts(agree=(199, 1990000)), False,
                     id="non-voters are not participants: 199 of 300 took part"),
        pytest.param(ORDINARY, counts(agree=(199, 1990000)), False,
                     id="non-voters are not participants (ordinary)"),
        pytest.param(ORDINARY, counts(agree=(101, 1010000), oppose=(99, 990000)), True,
                     id="more than half of 200 participants, not of 300 households"),
    ],
)
def test_participation(rule, c, passed):
    """DOMAIN.md: 'Non-voters are not participants. Abstentions and invalid paper ballots are
    participants that do not agree.'"""
    assert evaluate(rule, uniform_electorate(300), c).passed is passed


def test_participation_sums_every_answer():
    """DOMAIN.md: 'Abstentions and invalid paper ballots are participants'."""
    c = counts(agree=(1, 100), oppose=(2, 200), abstain=(3, 300), invalid=(4, 400))
    assert c.participation == Totals(10, 1000)
    assert zero_counts().participation == Totals(0, 0)


# --------------------------------------------------------------------------- headcount


def test_owner_with_three_units_counts_once():
    """DOMAIN.md: 'Supreme Court interpretation art. 9: one buyer of several units counts
    once'."""
    votes = [UnitVote(f"1-10{i}", "OWNER-A", 8850, "agree") for i in (1, 2, 3)]
    votes.append(UnitVote("2-101", "OWNER-B", 9000, "oppose"))
    c = count_units(votes, "owner")
    assert c.answers["agree"] == Totals(1, 3 * 8850)
    assert c.answers["oppose"] == Totals(1, 9000)
    assert c.conflicts == ()
    assert count_units(votes, "household").answers["agree"] == Totals(3, 3 * 8850)


def test_developer_units_count_once():
    """DOMAIN.md: "a developer's units that are unsold, or sold but not yet delivered,
    together count once. The register carries an `owner_key` to group units.\""""
    register = [("DEVELOPER", 7000)] * 4 + [(f"o{i}", 9000) for i in range(6)]
    assert make_electorate(register, "owner") == Electorate(10, 7, 4 * 7000 + 6 * 9000)
    assert make_electorate(register, "household") == Electorate(10, 10, 4 * 7000 + 6 * 9000)
    votes = [UnitVote(f"9-{i}", "DEVELOPER", 7000, "agree") for i in range(4)]
    c = count_units(votes, "owner")
    assert c.answers["agree"] == Totals(1, 28000)
    assert c.participation == Totals(1, 28000)


@pytest.mark.parametrize(
    ("answers", "person_answer"),
    [
        pytest.param(("agree", "oppose"), "oppose", id="agree+oppose -> oppose"),
        pytest.param(("agree", "abstain"), "abstain", id="agree+abstain -> abstain"),
        pytest.param(("abstain", "invalid"), "invalid", id="abstain+invalid -> invalid"),
        pytest.param(("invalid", "oppose"), "oppose", id="invalid+oppose -> oppose"),
        pytest.param(("agree", "invalid", "agree"), "invalid", id="agree+invalid+agree"),
        pytest.param(("oppose", "abstain", "agree"), "oppose", id="all three"),
    ],
)
def test_conflicting_owner_counts_under_least_favourable_answer(answers, person_answer):
    """DOMAIN.md: 'When their units answered differently, the person is counted under the
    answer least favourable to the proposal (agree -> abstain -> invalid -> oppose: the person
    agrees only if every voted unit agreed), so support is never overstated; each unit's area
    still counts under that unit's own answer; the tally lists these owners as conflicts'."""
    votes = [UnitVote(f"1-{i}", "X", 1000 * (i + 1), a) for i, a in enumerate(answers)]
    votes.append(UnitVote("2-1", "Y", 5, "agree"))
    c = count_units(votes, "owner")
    for answer in ANSWERS:
        persons = (answer == person_answer) + (answer == "agree")
        area = sum(v.area for v in votes if v.answer == answer)
        assert c.answers[answer] == Totals(persons, area), answer
    assert c.conflicts == (Conflict("X", tuple(sorted(v.code for v in votes[:-1]))),)


def test_conflicts_sorted_by_owner_and_absent_in_household_mode():
    """CONTRACT.md: '`conflicts` lists those owners ... (the units that voted); it is always
    present, empty under `headcount: household`.'"""
    votes = [
        UnitVote("3-2", "zed", 100, "agree"),
        UnitVote("3-1", "zed", 100, "oppose"),
        UnitVote("1-1", "amy", 100, "abstain"),
        UnitVote("1-9", "amy", 100, "agree"),
        UnitVote("1-5", "amy", 100, "agree"),
        UnitVote("4-1", "solo", 100, "agree"),
        UnitVote("4-2", "same", 100, "oppose"),
        UnitVote("4-3", "same", 100, "oppose"),
    ]
    assert count_units(votes, "owner").conflicts == (
        Conflict("amy", ("1-1", "1-5", "1-9")),
        Conflict("zed", ("3-1", "3-2")),
    )
    assert count_units(votes, "household").conflicts == ()


def test_owner_with_one_of_two_units_voted():
    """DOMAIN.md: 'An owner counts once as a participant if any of their units voted, and the
    area counted is that of the units that voted.'"""
    electorate = make_electorate([("P", 8850), ("P", 12000), ("Q", 9000)], "owner")
    assert electorate == Electorate(3, 2, 29850)
    c = count_units([UnitVote("1-1", "P", 8850, "agree")], "owner")
    assert c.participation == Totals(1, 8850)
    assert c.answers["agree"] == Totals(1, 8850)
    assert c.conflicts == ()


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
@pytest.mark.parametrize(
    "electorate",
    [pytest.param(DONGGUAN, id="403 households"),
     pytest.param(Electorate(0, 0, 0), id="empty electorate")],
)
def test_zero_participants_never_pass(rule, electorate):
    """DOMAIN.md: 'Non-voters are not participants.' Nobody voting decides nothing, even where
    every threshold is vacuously met by an empty electorate."""
    c = count_units([], rule.default_headcount)
    assert c == zero_counts()
    verdict = evaluate(rule, electorate, c)
    assert verdict.passed is False
    assert len(verdict.results) == len(rule.thresholds)


@pytest.mark.parametrize(
    ("answer", "seed", "civil"),
    [
        pytest.param("agree", True, True, id="agree"),
        pytest.param("oppose", False, False, id="oppose"),
        pytest.param("abstain", False, False, id="abstain"),
        pytest.param("invalid", False, False, id="invalid"),
    ],
)
def test_one_household(answer, seed, civil):
    """DOMAIN.md: 'agreeing owners hold >= 2/3 of the total exclusive area and are >= 2/3 of
    the total households' with a register of one (88.50 m²)."""
    electorate = make_electorate([("1-101", 8850)], "household")
    assert electorate == Electorate(1, 1, 8850)
    votes = [UnitVote("1-101", "1-101", 8850, answer)]
    assert evaluate(SEED, electorate, count_units(votes, "household")).passed is seed
    for rule in (MAJOR, ORDINARY):
        assert evaluate(rule, electorate, count_units(votes, "owner")).passed is civil


@pytest.mark.parametrize(
    ("votes", "headcount", "message"),
    [
        pytest.param([UnitVote("1", "a", 1, "yes")], "owner", "unknown answer", id="answer"),
        pytest.param([UnitVote("1", "a", 1, "agree")] * 2, "household", "voted twice",
                     id="one household, one vote"),
        pytest.param([UnitVote("1", "a", -1, "agree")], "owner", "negative", id="area"),
        pytest.param([], "people", "unknown headcount", id="headcount"),
    ],
)
def test_count_units_refuses_bad_input(votes, headcount, message):
    """DOMAIN.md: 'one household, one vote per proposal'."""
    with pytest.raises(ValueError, match=message):
        count_units(votes, headcount)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(counts="oppose", measure="area", of="electorate", num=2, den=3, strict=False),
        dict(counts="agree", measure="m2", of="electorate", num=2, den=3, strict=False),
        dict(counts="agree", measure="area", of="everyone", num=2, den=3, strict=False),
        dict(counts="agree", measure="area", of="electorate", num=0, den=3, strict=False),
        dict(counts="agree", measure="area", of="electorate", num=4, den=3, strict=False),
    ],
)
def test_threshold_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        Threshold(**kwargs)


def test_question_counts_need_every_answer():
    """CONTRACT.md: every question lists agree, oppose, abstain and invalid."""
    with pytest.raises(ValueError):
        QuestionCounts({"agree": Totals(1, 1)}, ())


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("hundredths", "text"),
    [(6678397, "66783.97"), (0, "0.00"), (8850, "88.50"), (5, "0.05"), (100, "1.00"),
     (4452265, "44522.65"), (-150, "-1.50")],
)
def test_format_area(hundredths, text):
    """DOMAIN.md: 'Store floor area as integer hundredths of a square metre (66,783.97 m² ->
    6678397).' CONTRACT.md: 'Areas are strings with exactly two decimals'."""
    assert format_area(hundredths) == text


@pytest.mark.parametrize(
    ("text", "hundredths"),
    [("66783.97", 6678397), ("88.5", 8850), ("88", 8800), ("0.05", 5), (" 87.65 ", 8765),
     ("88.500", 8850), ("007.10", 710)],
)
def test_parse_area(text, hundredths):
    """DOMAIN.md: '66,783.97 m² -> 6678397'. CONTRACT.md: 'decimal m², at most 2 decimals'."""
    assert parse_area(text) == hundredths
    assert parse_area(format_area(hundredths)) == hundredths


@pytest.mark.parametrize(
    "text",
    ["", " ", "abc", "1.234", "88.501", "-1", "+1", "1e3", "1,000.00", "88.5.1", ".5", "88.",
     "NaN", "inf", "\u0663", "８８"],
)
def test_parse_area_rejects(text):
    """CONTRACT.md: 'decimal m², > 0, at most 2 decimals'."""
    with pytest.raises(ValueError):
        parse_area(text)


@pytest.mark.parametrize(
    ("numer", "denom", "favourable", "text"),
    [
        pytest.param(2, 3, True, "66.66", id="support rounds down"),
        pytest.param(2, 3, False, "66.67", id="opposition rounds up"),
        pytest.param(1, 3, True, "33.33", id="1/3 down"),
        pytest.param(1, 3, False, "33.34", id="1/3 up"),
        pytest.param(1, 8, True, "12.50", id="exact down"),
        pytest.param(1, 8, False, "12.50", id="exact up"),
        pytest.param(205, 290, True, "70.68", id="205 of 290 down"),
        pytest.param(205, 290, False, "70.69", id="205 of 290 up"),
        pytest.param(3, 3, True, "100.00", id="all"),
        pytest.param(0, 7, False, "0.00", id="none"),
        pytest.param(5, 0, True, "0.00", id="zero denominator"),
        pytest.param(4452265, 6678397, True, "66.66", id="required area is just over 2/3"),
    ],
)
def test_percent_never_overstates_support(numer, denom, favourable, text):
    """DOMAIN.md: 'Never decide on a rounded percentage' - shares are for display only."""
    assert percent(numer, denom, favourable=favourable) == text


@pytest.mark.parametrize(
    ("threshold", "text"), [(TWO_THIRDS, "2/3"), (THREE_QUARTERS, "3/4"), (MAJORITY, "1/2")]
)
def test_ratio_text(threshold, text):
    """CONTRACT.md: 'a strict majority is "ratio": "1/2", "strict": true'."""
    assert ratio_text(threshold) == text


@pytest.mark.parametrize(
    ("rule", "electorate", "c", "headcount", "text"),
    [
        pytest.param(SEED, DONGGUAN, counts(agree=(257, 4452265 - 93040)), "household",
                     "needs 12 more households and 930.40 m² agreeing", id="seed short"),
        pytest.param(SEED, DONGGUAN, counts(agree=(269, 4452265)), "household", "",
                     id="all met"),
        pytest.param(SEED, DONGGUAN, counts(agree=(268, 4452265)), "household",
                     "needs 1 more household agreeing", id="singular"),
        pytest.param(MAJOR, uniform_electorate(300), counts(agree=(149, 1490000),
                                                            oppose=(50, 500000)), "owner",
                     "needs 1 more owner and 100.00 m² participating; "
                     "needs 1 more owner and 25.00 m² agreeing",
                     id="civil-major short of both"),
    ],
)
def test_shortfall_text(rule, electorate, c, headcount, text):
    """DOMAIN.md: staff 'watch turnout, knock on doors of non-voters'; the summary says what
    the smallest integers meeting the thresholds still need."""
    assert shortfall_text(evaluate(rule, electorate, c).results, headcount=headcount) == text


# --------------------------------------------------------------------------- JSON


def test_question_json_matches_contract_example():
    """CONTRACT.md 'Tally JSON' example: 403 households, 66783.97 m², 280 agree."""
    c = counts(agree=(280, 4700000), oppose=(15, 250000), abstain=(5, 50000))
    q = question_json(1, "…", SEED, DONGGUAN, c, [])
    assert q == {
        "number": 1, "text": "…",
        "agree":   {"persons": 280, "area": "47000.00"},
        "oppose":  {"persons": 15,  "area": "2500.00"},
        "abstain": {"persons": 5,   "area": "500.00"},
        "invalid": {"persons": 0,   "area": "0.00"},
        "thresholds": [
            {"counts": "agree", "measure": "area", "of": "electorate", "ratio": "2/3",
             "strict": False, "required": "44522.65", "actual": "47000.00", "met": True},
            {"counts": "agree", "measure": "persons", "of": "electorate", "ratio": "2/3",
             "strict": False, "required": 269, "actual": 280, "met": True},
        ],
        "conflicts": [],
        "passed": True,
        "advisory": [],
    }


def test_question_json_civil_rule_lists_participation_and_conflicts():
    """CONTRACT.md: 'the civil rules' participation thresholds appear in each question';
    'a strict majority is "ratio": "1/2", "strict": true'; conflicts as
    {"owner_key": "…", "households": ["1-1-101", …]}."""
    votes = [
        UnitVote("1-1-101", "K", 8850, "agree"),
        UnitVote("1-1-102", "K", 8850, "oppose"),
        UnitVote("1-1-201", "L", 9000, "agree"),
    ]
    electorate = Electorate(4, 3, 8850 * 2 + 9000 + 9100)
    q = question_json(2, "fund-raising", ORDINARY, electorate, count_units(votes, "owner"), [])
    assert [(t["counts"], t["measure"], t["of"], t["ratio"], t["strict"])
            for t in q["thresholds"]] == [
        ("participation", "area", "electorate", "2/3", False),
        ("participation", "persons", "electorate", "2/3", False),
        ("agree", "area", "participants", "1/2", True),
        ("agree", "persons", "participants", "1/2", True),
    ]
    assert q["thresholds"][3] == {
        "counts": "agree", "measure": "persons", "of": "participants", "ratio": "1/2",
        "strict": True, "required": 2, "actual": 1, "met": False,
    }
    assert q["thresholds"][2]["required"] == "133.51"  # more than half of 267.00 m²
    assert q["conflicts"] == [{"owner_key": "K", "households": ["1-1-101", "1-1-102"]}]
    assert q["agree"] == {"persons": 1, "area": "178.50"}
    assert q["oppose"] == {"persons": 1, "area": "88.50"}
    assert q["passed"] is False


def test_threshold_json_types():
    """CONTRACT.md: 'Areas are strings with exactly two decimals; counts are integers.'"""
    verdict = evaluate(MAJOR, uniform_electorate(3), counts(agree=(2, 20000)))
    area, persons = threshold_json(verdict.results[0]), threshold_json(verdict.results[1])
    assert area["required"] == "200.00" and area["actual"] == "200.00"
    assert persons["required"] == 2 and persons["actual"] == 2
    assert type(persons["required"]) is int and type(persons["actual"]) is int
    assert list(area) == ["counts", "measure", "of", "ratio", "strict", "required", "actual",
                          "met"]
