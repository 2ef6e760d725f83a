"""The SQL tally service (services/tally.py) against the pure reference (domain/tally.py).

DOMAIN.md section 3 and CONTRACT.md "Tally JSON". Data goes in through the services
(community, register import, proposal, opening) and votes through voting.record_paper
or, for speed, as Vote/VoteAnswer rows inserted directly. Runs on SQLite, and on
PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text

from residents_vote.domain import tally as rules
from residents_vote.domain.register import RegisterRow, household_code
from residents_vote.domain.tally import ANSWERS, RULES, UnitVote
from residents_vote.models import Proposal, User
from residents_vote.services import communities, households, proposals, tally, users, voting
from tests.factories import insert_votes
from tests.helpers import PASSWORD, assert_contract_shape, engine, read, sample, write

_serial = itertools.count(1)


# --------------------------------------------------------------------------- builders


def unit_rows(units: list[tuple[str, int]]) -> list[RegisterRow]:
    """Register rows for (owner_key, area) pairs; buildings 1, 2 and 10, some without unit."""
    rows = []
    for i, (owner_key, area) in enumerate(units):
        building = ("1", "2", "10")[i % 3]
        unit = "" if i % 4 == 3 else str(1 + i % 2)
        room = str(101 + i)
        rows.append(
            RegisterRow(
                row=i + 2,
                building=building,
                unit=unit,
                room=room,
                code=household_code(building, unit, room),
                area=area,
                owner_name=f"业主{i}",
                owner_key=owner_key,
                phone="",
            )
        )
    return rows


def make_register(app, rows: list[RegisterRow], slug: str | None = None) -> str:
    slug = slug or f"c{next(_serial)}"
    with write(app) as s:
        community = communities.create_community(s, slug, f"小区 {slug}", actor="test")
        households.import_rows(s, community, rows, actor="test")
    return slug


def make_proposal(
    app,
    slug: str,
    *,
    questions: int = 1,
    rule: str = "seed",
    headcount: str | None = None,
    scope: list[str] | None = None,
    open_vote: bool = True,
) -> int:
    with write(app) as s:
        community = communities.get_by_slug(s, slug)
        draft = proposals.Draft(
            title="老旧小区改造方案",
            stage="design",
            questions=[f"问题 {n}：是否同意？" for n in range(1, questions + 1)],
            rule=rule,
            headcount=headcount,
            scope=scope,
        )
        proposal = proposals.create(s, community, draft, actor="test")
        if open_vote:
            proposals.open_vote(s, proposal, actor="test")
        return proposal.id


def staff_user(app, slug: str) -> str:
    name = f"staff-{slug}"
    with write(app) as s:
        users.create_user(s, name, PASSWORD, "staff", [slug], actor="test")
    return name


def record_paper(app, proposal_id: int, username: str, answers: dict[str, tuple[str, ...]]):
    """Votes through the real paper-ballot path (window check, electorate lookup, audit)."""
    with write(app) as s:
        proposal = proposals.lock(s, proposal_id)
        user = s.scalar(select(User).where(User.username == username))
        for code, given_answers in answers.items():
            voting.record_paper(
                s,
                proposal,
                code,
                dict(enumerate(given_answers, 1)),
                channel="paper",
                by=user,
            )


def computed(app, proposal_id: int) -> tuple[dict, tally.Tally]:
    with app.app_context(), read(app) as s:
        proposal = s.get(Proposal, proposal_id)
        return tally.aggregate(s, proposal), tally.compute(s, proposal)


def reference_votes(
    rows: list[RegisterRow], answers: dict[str, tuple[str, ...]], number: int
) -> list[UnitVote]:
    by_code = {r.code: r for r in rows}
    return [
        UnitVote(code, by_code[code].owner_key, by_code[code].area, given[number - 1])
        for code, given in answers.items()
    ]


def expected_json_questions(
    rows: list[RegisterRow],
    answers: dict[str, tuple[str, ...]],
    questions: list[str],
    rule_id: str,
    headcount: str,
) -> list[dict]:
    """The questions list as the pure module alone computes it."""
    pairs = [(r.owner_key, r.area) for r in rows]
    rule = RULES[rule_id]
    out = []
    for number, text_ in enumerate(questions, 1):
        votes = reference_votes(rows, answers, number)
        advisory = [
            (
                other,
                rules.make_electorate(pairs, other.default_headcount),
                rules.count_units(votes, other.default_headcount),
            )
            for other in rules.advisory_rules(rule)
        ]
        out.append(
            rules.question_json(
                number,
                text_,
                rule,
                rules.make_electorate(pairs, headcount),
                rules.count_units(votes, headcount),
                advisory,
            )
        )
    return out


# --------------------------------------------------------------------------- property


# Mixed case, digits and Chinese: keys whose order differs between Python and a
# database collation (ICU, zh_CN) would show up in the conflicts list order.
OWNER_KEYS = ("P0040", "p0040", "DEVELOPER", "dev", "B", "a", "张三", "李四", "Z9")

registers = st.lists(
    st.tuples(st.sampled_from(OWNER_KEYS), st.integers(min_value=1, max_value=999_999)),
    min_size=1,
    max_size=30,
)


@st.composite
def ballots(draw):
    units = draw(registers)
    n_questions = draw(st.integers(min_value=1, max_value=3))
    answer_sets = st.one_of(
        st.none(),
        st.tuples(*[st.sampled_from(ANSWERS)] * n_questions),
    )
    given_answers = draw(st.lists(answer_sets, min_size=len(units), max_size=len(units)))
    rule_id = draw(st.sampled_from(list(RULES)))
    headcount = draw(st.sampled_from(rules.HEADCOUNTS))
    return units, n_questions, given_answers, rule_id, headcount


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=ballots())
def test_sql_aggregate_agrees_with_pure_reference(app, case):
    units, n_questions, given_answers, rule_id, headcount = case
    rows = unit_rows(units)
    slug = make_register(app, rows)
    pid = make_proposal(app, slug, questions=n_questions, rule=rule_id, headcount=headcount)
    answers = {
        row.code: given for row, given in zip(rows, given_answers, strict=True) if given is not None
    }
    insert_votes(app, pid, answers)

    counts, result = computed(app, pid)

    for mode in rules.HEADCOUNTS:
        assert len(counts[mode]) == n_questions
        for number in range(1, n_questions + 1):
            expected = rules.count_units(reference_votes(rows, answers, number), mode)
            got = counts[mode][number - 1]
            assert got.answers == expected.answers, (mode, number)
            assert got.conflicts == expected.conflicts, (mode, number)

    data = result.json
    assert_contract_shape(data)
    pairs = [(r.owner_key, r.area) for r in rows]
    electorate = rules.make_electorate(pairs, headcount)
    assert data["electorate"] == {
        "households": len(rows),
        "persons": electorate.persons,
        "area": rules.format_area(electorate.area),
    }
    questions = [f"问题 {n}：是否同意？" for n in range(1, n_questions + 1)]
    assert data["questions"] == expected_json_questions(
        rows, answers, questions, rule_id, headcount
    )
    first = rules.count_units(reference_votes(rows, answers, 1), headcount)
    assert data["participation"] == rules.totals_json(first.participation)
    assert result.passed == all(q["passed"] for q in data["questions"])
    assert [v.passed for v in result.verdicts] == [q["passed"] for q in data["questions"]]


def test_conflict_order_does_not_depend_on_the_database_collation(app):
    """Conflicts are listed in the reference's order (Python string order) even where
    the database sorts text by a linguistic collation (ICU, zh_CN on PostgreSQL)."""
    if engine(app).dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL collations")
    with engine(app).begin() as conn:
        if conn.scalar(text("SELECT count(*) FROM pg_collation WHERE collname = 'und-x-icu'")):
            collation = "und-x-icu"
        else:
            pytest.skip("PostgreSQL built without ICU")
        for column in ("owner_key", "code"):
            conn.execute(
                text(
                    f"ALTER TABLE electorate_entry ALTER COLUMN {column} "
                    f'TYPE varchar(100) COLLATE "{collation}"'
                )
            )
    units = [("a", 100), ("a", 200), ("B", 300), ("B", 400), ("b", 500), ("b", 600)]
    rows = unit_rows(units)
    slug = make_register(app, rows)
    pid = make_proposal(app, slug, rule="civil-major")
    answers = {r.code: ("agree",) if i % 2 == 0 else ("oppose",) for i, r in enumerate(rows)}
    insert_votes(app, pid, answers)
    counts, result = computed(app, pid)
    expected = rules.count_units(reference_votes(rows, answers, 1), "owner").conflicts
    assert [c.owner_key for c in expected] == ["B", "a", "b"]
    assert counts["owner"][0].conflicts == expected
    assert [c["owner_key"] for c in result.json["questions"][0]["conflicts"]] == ["B", "a", "b"]


# --------------------------------------------------------------------------- edge cases


def test_no_votes_yet(app):
    rows = unit_rows([("A", 8850), ("B", 9000)])
    pid = make_proposal(app, make_register(app, rows), questions=2, rule="civil-major")
    counts, result = computed(app, pid)
    assert counts["owner"] == [rules.zero_counts(), rules.zero_counts()]
    assert counts["household"] == [rules.zero_counts(), rules.zero_counts()]
    data = result.json
    assert_contract_shape(data)
    assert data["participation"] == {"persons": 0, "area": "0.00"}
    assert [q["passed"] for q in data["questions"]] == [False, False]
    assert not result.passed


def test_questions_are_counted_separately(app):
    rows = unit_rows([("A", 10000), ("B", 20000), ("C", 30000)])
    pid = make_proposal(app, make_register(app, rows), questions=2)
    codes = [r.code for r in rows]
    insert_votes(
        app,
        pid,
        {
            codes[0]: ("agree", "oppose"),
            codes[1]: ("agree", "abstain"),
            codes[2]: ("agree", "invalid"),
        },
    )
    _, result = computed(app, pid)
    q1, q2 = result.json["questions"]
    assert q1["agree"] == {"persons": 3, "area": "600.00"} and q1["passed"] is True
    assert q2["agree"] == {"persons": 0, "area": "0.00"} and q2["passed"] is False
    assert (q2["oppose"]["area"], q2["abstain"]["area"], q2["invalid"]["area"]) == (
        "100.00",
        "200.00",
        "300.00",
    )
    assert not result.passed  # every question must pass


def test_scope_limits_the_electorate_and_is_listed(app):
    rows = unit_rows([("A", 10000), ("B", 20000), ("C", 30000), ("D", 40000)])
    # buildings cycle 1, 2, 10, 1
    pid = make_proposal(app, make_register(app, rows), scope=["1"])
    insert_votes(app, pid, {rows[0].code: ("agree",), rows[3].code: ("oppose",)})
    _, result = computed(app, pid)
    data = result.json
    assert data["proposal"]["scope"] == ["1"]
    assert data["electorate"] == {"households": 2, "persons": 2, "area": "500.00"}
    assert data["participation"] == {"persons": 2, "area": "500.00"}
    with app.app_context(), read(app) as s:
        units = tally.participating_units(s, s.get(Proposal, pid))
    # building, then unit ("" first), then room
    assert units == [
        {"code": rows[3].code, "area": "400.00"},
        {"code": rows[0].code, "area": "100.00"},
    ]


def test_register_edits_after_opening_do_not_change_the_tally(app):
    rows = unit_rows([("A", 10000), ("B", 20000)])
    slug = make_register(app, rows)
    pid = make_proposal(app, slug, rule="civil-ordinary")
    insert_votes(app, pid, {rows[0].code: ("agree",), rows[1].code: ("agree",)})
    _, before = computed(app, pid)
    changed = [
        RegisterRow(r.row, r.building, r.unit, r.room, r.code, r.area * 3, "x", "SAME", "")
        for r in rows
    ]
    with write(app) as s:
        households.import_rows(s, communities.get_by_slug(s, slug), changed, actor="test")
    _, after = computed(app, pid)
    assert after.json == before.json
    assert before.json["electorate"] == {"households": 2, "persons": 2, "area": "300.00"}


# --------------------------------------------------------------------------- 403 sample


@pytest.fixture
def sample403(app) -> Iterator[tuple[str, list[RegisterRow]]]:
    path = sample("register-403-utf8.csv")
    rows = households.parse_file(path.name, path.read_bytes())
    assert len(rows) == 403
    yield make_register(app, rows, slug="sample403"), rows


def codes_of(rows: list[RegisterRow], owner_key: str) -> list[str]:
    return [r.code for r in rows if r.owner_key == owner_key]


def area_of(rows: list[RegisterRow], codes) -> str:
    by_code = {r.code: r.area for r in rows}
    return rules.format_area(sum(by_code[c] for c in codes))


def test_sample_register_electorate_and_seed_thresholds(app, sample403):
    slug, rows = sample403
    pid = make_proposal(app, slug)
    _, result = computed(app, pid)
    data = result.json
    assert data["proposal"]["rule"] == "seed" and data["proposal"]["headcount"] == "household"
    assert data["proposal"]["scope"] == []
    assert data["electorate"] == {"households": 403, "persons": 403, "area": "66783.97"}
    (q,) = data["questions"]
    required = {(t["counts"], t["measure"]): t["required"] for t in q["thresholds"]}
    assert required == {("agree", "area"): "44522.65", ("agree", "persons"): 269}

    owner_pid = make_proposal(app, slug, rule="civil-major")
    _, owner_result = computed(app, owner_pid)
    assert owner_result.json["proposal"]["headcount"] == "owner"
    assert owner_result.json["electorate"] == {
        "households": 403,
        "persons": 396,
        "area": "66783.97",
    }
    (oq,) = owner_result.json["questions"]
    participation = {
        t["measure"]: t["required"] for t in oq["thresholds"] if t["of"] == "electorate"
    }
    assert participation == {"area": "44522.65", "persons": 264}


def test_sample_register_owner_rules(app, sample403):
    """P0040 (3 units) and DEVELOPER (4 units) count once; P0010 answers agree and oppose
    on its two units (a conflict, counted as oppose); P0200 votes with one of two units."""
    slug, rows = sample403
    pid = make_proposal(app, slug, rule="civil-major")
    staff = staff_user(app, slug)
    p0040, developer = codes_of(rows, "P0040"), codes_of(rows, "DEVELOPER")
    p0010, p0200 = codes_of(rows, "P0010"), codes_of(rows, "P0200")
    assert (len(p0040), len(developer), len(p0010), len(p0200)) == (3, 4, 2, 2)
    singles = [r.code for r in rows if r.owner_key.startswith("P") and r.owner_key[1:].isdigit()]
    singles = [c for c in singles if c not in p0040 + p0010 + p0200][:13]
    answers: dict[str, tuple[str, ...]] = {}
    answers.update(dict.fromkeys(p0040, ("agree",)))
    answers.update(dict.fromkeys(developer, ("agree",)))
    answers[p0010[0]] = ("agree",)
    answers[p0010[1]] = ("oppose",)
    answers[p0200[0]] = ("agree",)
    answers.update(dict.fromkeys(singles[:10], ("agree",)))
    answers.update(dict.fromkeys(singles[10:12], ("abstain",)))
    answers[singles[12]] = ("invalid",)
    record_paper(app, pid, staff, answers)

    counts, result = computed(app, pid)
    (q,) = result.json["questions"]
    agree_units = p0040 + developer + [p0010[0], p0200[0]] + singles[:10]
    # persons: P0040, DEVELOPER, P0200 and ten single owners; P0010 under oppose
    assert q["agree"] == {"persons": 13, "area": area_of(rows, agree_units)}
    assert q["oppose"] == {"persons": 1, "area": area_of(rows, [p0010[1]])}
    assert q["abstain"] == {"persons": 2, "area": area_of(rows, singles[10:12])}
    assert q["invalid"] == {"persons": 1, "area": area_of(rows, [singles[12]])}
    assert q["conflicts"] == [{"owner_key": "P0010", "households": sorted(p0010)}]
    assert result.json["participation"] == {
        "persons": 17,
        "area": area_of(rows, list(answers)),
    }
    assert result.json["electorate"]["persons"] == 396
    # P0200 participates with only the unit that voted
    assert p0200[1] not in {u["code"] for u in units_of(app, pid)}
    # The household count (the seed rule's advice) counts every unit: 23 units voted.
    household = counts["household"][0]
    assert household.participation.persons == len(answers) == 23
    assert household.answers["agree"].persons == len(agree_units) == 19
    assert household.conflicts == ()
    seed = next(a for a in q["advisory"] if a["rule"] == "seed")
    assert seed["passed"] is False
    # The reference count agrees number for number.
    assert counts["owner"][0] == rules.count_units(reference_votes(rows, answers, 1), "owner")


def units_of(app, pid: int) -> list[dict]:
    with app.app_context(), read(app) as s:
        return tally.participating_units(s, s.get(Proposal, pid))


def test_sample_register_seed_boundary_269_households(app, sample403):
    """'以上' is inclusive: 269 of 403 households agreeing (with enough area) passes, 268
    does not (DOMAIN.md: two thirds of 403 require 269)."""
    slug, rows = sample403
    biggest = sorted(rows, key=lambda r: r.area, reverse=True)
    passing = make_proposal(app, slug)
    failing = make_proposal(app, slug)
    insert_votes(app, passing, {r.code: ("agree",) for r in biggest[:269]})
    insert_votes(
        app,
        failing,
        {r.code: ("agree",) if i < 268 else ("oppose",) for i, r in enumerate(biggest[:269])},
    )
    _, ok = computed(app, passing)
    _, short = computed(app, failing)
    (q_ok,) = ok.json["questions"]
    (q_short,) = short.json["questions"]
    persons = [t for t in q_ok["thresholds"] if t["measure"] == "persons"][0]
    assert (persons["required"], persons["actual"], persons["met"]) == (269, 269, True)
    assert q_ok["passed"] is True and ok.passed
    assert q_short["passed"] is False and not short.passed
    short_persons = [t for t in q_short["thresholds"] if t["measure"] == "persons"][0]
    assert (short_persons["actual"], short_persons["met"]) == (268, False)


# --------------------------------------------------------------------------- query count


def count_statements(app, pid: int) -> tuple[int, dict]:
    statements: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        statements.append(statement)

    eng = engine(app)
    with app.app_context(), read(app) as s:
        proposal = s.get(Proposal, pid)
        event.listen(eng, "before_cursor_execute", on_execute)
        try:
            data = tally.compute(s, proposal).json
        finally:
            event.remove(eng, "before_cursor_execute", on_execute)
    return len(statements), data


def test_compute_issues_a_constant_number_of_statements(app):
    """Aggregates, never one query per vote: 10 or 200 votes, with or without conflicts,
    cost the same number of statements."""
    figures = []
    for n_units, conflicts in ((10, True), (200, True), (200, False), (10, False)):
        owners = [f"K{i // 2}" if conflicts else f"K{i}" for i in range(n_units)]
        rows = unit_rows([(owner, 5000 + i) for i, owner in enumerate(owners)])
        pid = make_proposal(app, make_register(app, rows), questions=3, rule="civil-major")
        insert_votes(app, pid, {r.code: (ANSWERS[i % 4],) * 3 for i, r in enumerate(rows)})
        n, data = count_statements(app, pid)
        assert data["participation"]["persons"] == len(set(owners))
        assert bool(data["questions"][0]["conflicts"]) is conflicts
        figures.append(n)
    assert len(set(figures)) == 1, figures
    assert figures[0] <= 6, figures


def test_statuses_after_voting_are_reported(app):
    rows = unit_rows([("A", 10000)])
    pid = make_proposal(app, make_register(app, rows))
    with write(app) as s:
        proposals.cancel(s, proposals.lock(s, pid), "重新表决", actor="test")
    _, result = computed(app, pid)
    assert result.json["proposal"]["status"] == "cancelled"
    assert_contract_shape(result.json)
    assert Counter(q["passed"] for q in result.json["questions"]) == Counter({False: 1})
