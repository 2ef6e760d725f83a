"""Pure vote counting for "double two-thirds" consent votes (DOMAIN.md section 3).

Standard library only: the web layer, the database layer, the CLI and the tests all
decide with these functions, so the arithmetic lives in exactly one place. Every
decision is integer cross-multiplication; floor areas are integer hundredths of m²;
nothing here ever rounds before deciding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ANSWERS",
    "FAVOUR_ORDER",
    "HEADCOUNTS",
    "RULES",
    "Conflict",
    "Electorate",
    "QuestionCounts",
    "Rule",
    "Threshold",
    "ThresholdResult",
    "Totals",
    "UnitVote",
    "Verdict",
    "advisory_rules",
    "count_units",
    "evaluate",
    "format_area",
    "make_electorate",
    "parse_area",
    "percent",
    "question_json",
    "ratio_text",
    "shortfall_text",
    "threshold_json",
    "totals_json",
    "zero_counts",
]

ANSWERS: tuple[str, ...] = ("agree", "oppose", "abstain", "invalid")
# Most to least favourable to the proposal. An owner whose units answered differently
# counts under the last of their answers in this order, so support is never overstated.
FAVOUR_ORDER: tuple[str, ...] = ("agree", "abstain", "invalid", "oppose")
HEADCOUNTS: tuple[str, ...] = ("household", "owner")

_COUNTS = ("participation", "agree")
_MEASURES = ("area", "persons")
_OFS = ("electorate", "participants")


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Threshold:
    """One condition of a rule: ``counts`` of ``measure`` must reach num/den of ``of``.

    ``strict`` is for "过半数" (more than); otherwise "以上" is inclusive (Civil Code
    art. 1259), so exactly two thirds passes.
    """

    counts: str
    measure: str
    of: str
    num: int
    den: int
    strict: bool = False

    def __post_init__(self) -> None:
        if self.counts not in _COUNTS:
            raise ValueError(f"unknown threshold counts {self.counts!r}")
        if self.measure not in _MEASURES:
            raise ValueError(f"unknown threshold measure {self.measure!r}")
        if self.of not in _OFS:
            raise ValueError(f"unknown threshold base {self.of!r}")
        if not (0 < self.num <= self.den):
            raise ValueError(f"threshold ratio {self.num}/{self.den} must be in (0, 1]")

    def required(self, base: int) -> int:
        """Smallest integer that meets the threshold: the figure published as "required"."""
        if base < 0:
            raise ValueError("base must not be negative")
        if self.strict:
            return self.num * base // self.den + 1
        return -(-self.num * base // self.den)

    def met(self, actual: int, base: int) -> bool:
        """Decide by cross-multiplication, never on a rounded percentage."""
        if self.strict:
            return actual * self.den > self.num * base
        return actual * self.den >= self.num * base


@dataclass(frozen=True)
class Rule:
    """A decision rule: all thresholds must be met, counted under ``default_headcount``."""

    id: str
    default_headcount: str
    thresholds: tuple[Threshold, ...]

    def __post_init__(self) -> None:
        if self.default_headcount not in HEADCOUNTS:
            raise ValueError(f"unknown headcount {self.default_headcount!r}")
        if not self.thresholds:
            raise ValueError("a rule needs at least one threshold")


def _civil(rule_id: str, num: int, den: int, strict: bool) -> Rule:
    """Civil Code art. 278: 2/3 participation, then a share of the participants agreeing."""
    return Rule(
        id=rule_id,
        default_headcount="owner",
        thresholds=(
            Threshold("participation", "area", "electorate", 2, 3, False),
            Threshold("participation", "persons", "electorate", 2, 3, False),
            Threshold("agree", "area", "participants", num, den, strict),
            Threshold("agree", "persons", "participants", num, den, strict),
        ),
    )


# Insertion order is the order advisory verdicts are listed in. A local rule is one entry.
RULES: dict[str, Rule] = {
    "seed": Rule(
        id="seed",
        default_headcount="household",
        thresholds=(
            Threshold("agree", "area", "electorate", 2, 3, False),
            Threshold("agree", "persons", "electorate", 2, 3, False),
        ),
    ),
    "civil-major": _civil("civil-major", 3, 4, False),
    "civil-ordinary": _civil("civil-ordinary", 1, 2, True),
}


def advisory_rules(binding: Rule) -> tuple[Rule, ...]:
    """The rules shown as advice beside the binding one, in RULES order."""
    return tuple(r for r in RULES.values() if r.id != binding.id)


# --------------------------------------------------------------------------- counts


@dataclass(frozen=True)
class Totals:
    """Persons and area (hundredths of m²) counted under one heading."""

    persons: int
    area: int

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.persons + other.persons, self.area + other.area)


@dataclass(frozen=True)
class Electorate:
    """Totals frozen when the voting notice is published.

    ``persons`` equals ``households`` under the household headcount and the number of
    distinct owner keys under the owner headcount.
    """

    households: int
    persons: int
    area: int

    def __post_init__(self) -> None:
        if min(self.households, self.persons, self.area) < 0:
            raise ValueError("electorate totals must not be negative")


def make_electorate(units: Iterable[tuple[str, int]], headcount: str) -> Electorate:
    """Electorate from the frozen register's (owner_key, area) pairs, one pair per unit."""
    _check_headcount(headcount)
    households = 0
    area = 0
    owners: set[str] = set()
    for owner_key, unit_area in units:
        households += 1
        area += unit_area
        owners.add(owner_key)
    persons = households if headcount == "household" else len(owners)
    return Electorate(households=households, persons=persons, area=area)


@dataclass(frozen=True)
class UnitVote:
    """One voting household's answer to one question."""

    code: str
    owner_key: str
    area: int
    answer: str


@dataclass(frozen=True)
class Conflict:
    """An owner whose voted units answered differently; staff should talk to them."""

    owner_key: str
    households: tuple[str, ...]


@dataclass(frozen=True)
class QuestionCounts:
    """Per-answer totals for one question under one headcount mode."""

    answers: dict[str, Totals]
    conflicts: tuple[Conflict, ...] = ()

    def __post_init__(self) -> None:
        # A missing key would silently count as zero participants: refuse it instead.
        if set(self.answers) != set(ANSWERS):
            raise ValueError(f"answers must have exactly the keys {ANSWERS}")

    @property
    def participation(self) -> Totals:
        """Everyone who voted participates, whatever they answered."""
        total = Totals(0, 0)
        for answer in ANSWERS:
            total = total + self.answers[answer]
        return total


def zero_counts() -> QuestionCounts:
    """Counts of a question nobody has answered yet."""
    return QuestionCounts({a: Totals(0, 0) for a in ANSWERS}, ())


def _check_headcount(headcount: str) -> None:
    if headcount not in HEADCOUNTS:
        raise ValueError(f"unknown headcount {headcount!r}")


def count_units(votes: Iterable[UnitVote], headcount: str) -> QuestionCounts:
    """Reference count from unit-level votes (the database aggregate must agree with it).

    household: each unit is a person. owner: one person per owner_key, under the least
    favourable answer of their voted units; each unit's area under its own answer.
    """
    _check_headcount(headcount)
    persons = dict.fromkeys(ANSWERS, 0)
    areas = dict.fromkeys(ANSWERS, 0)
    by_owner: dict[str, list[UnitVote]] = {}
    seen: set[str] = set()
    for vote in votes:
        if vote.answer not in ANSWERS:
            raise ValueError(f"unknown answer {vote.answer!r} for {vote.code}")
        if vote.code in seen:
            raise ValueError(f"household {vote.code} voted twice")
        if vote.area < 0:
            raise ValueError(f"household {vote.code} has a negative area")
        seen.add(vote.code)
        areas[vote.answer] += vote.area
        if headcount == "household":
            persons[vote.answer] += 1
        else:
            by_owner.setdefault(vote.owner_key, []).append(vote)

    conflicts: list[Conflict] = []
    for owner_key in sorted(by_owner):
        units = by_owner[owner_key]
        given = {u.answer for u in units}
        persons[max(given, key=FAVOUR_ORDER.index)] += 1
        if len(given) > 1:
            conflicts.append(Conflict(owner_key, tuple(sorted(u.code for u in units))))

    return QuestionCounts(
        answers={a: Totals(persons[a], areas[a]) for a in ANSWERS},
        conflicts=tuple(conflicts),
    )


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class ThresholdResult:
    """One threshold applied to one question: the figures the notices publish."""

    threshold: Threshold
    base: int
    required: int
    actual: int
    met: bool

    @property
    def shortfall(self) -> int:
        return max(0, self.required - self.actual)


@dataclass(frozen=True)
class Verdict:
    rule: Rule
    results: tuple[ThresholdResult, ...]
    passed: bool


def _pick(totals: Totals | Electorate, measure: str) -> int:
    return totals.area if measure == "area" else totals.persons


def evaluate(rule: Rule, electorate: Electorate, counts: QuestionCounts) -> Verdict:
    """Apply every threshold of ``rule``; the proposal passes when all are met.

    A question nobody took part in never passes, even where every threshold is
    vacuously met (an empty electorate): a vote of no one decides nothing.
    """
    participation = counts.participation
    results = []
    for t in rule.thresholds:
        base = _pick(electorate if t.of == "electorate" else participation, t.measure)
        actual = _pick(
            participation if t.counts == "participation" else counts.answers["agree"], t.measure
        )
        results.append(ThresholdResult(t, base, t.required(base), actual, t.met(actual, base)))
    passed = participation.persons > 0 and all(r.met for r in results)
    return Verdict(rule=rule, results=tuple(results), passed=passed)


def participation_needed(rule: Rule, electorate: Electorate, participation: Totals) -> int:
    """Persons (households under the household headcount) who must still vote before the
    rule's threshold on the electorate's persons can be met: its two thirds taking part
    (Civil Code rules) or agreeing (the seed rule; nobody agrees without voting). 0 when
    reached or the rule has no such threshold. E.g. 210 of 403 households voted: 269
    are required, 59 are still needed. Turnout only: it says nothing of the outcome."""
    missing = [
        t.required(electorate.persons) - participation.persons
        for t in rule.thresholds
        if t.measure == "persons" and t.of == "electorate"
    ]
    return max([0, *missing])


# --------------------------------------------------------------------------- text


def format_area(hundredths: int) -> str:
    """Hundredths of m² as text with exactly two decimals: 6678397 -> "66783.97"."""
    sign = "-" if hundredths < 0 else ""
    whole, frac = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{frac:02d}"


_AREA_RE = re.compile(r"([0-9]+)(?:\.([0-9]+))?")


def parse_area(text: str) -> int:
    """Decimal m² text to hundredths, exactly: "88.5" -> 8850.

    Raises ValueError on anything that is not a plain non-negative decimal or that
    carries precision beyond hundredths (trailing zeros such as "88.500" are exact
    and accepted).
    """
    if not isinstance(text, str):
        raise ValueError(f"area must be text, not {type(text).__name__}")
    match = _AREA_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a decimal area: {text!r}")
    whole, frac = match.group(1), match.group(2) or ""
    if len(frac) > 2:
        if frac[2:].strip("0"):
            raise ValueError(f"area has more than 2 decimals: {text!r}")
        frac = frac[:2]
    return int(whole) * 100 + int(frac.ljust(2, "0"))


def percent(numer: int, denom: int, *, favourable: bool) -> str:
    """Exact share as "66.66" (no % sign).

    A favourable share (support, participation) is rounded down and an unfavourable
    one up, so a published percentage never overstates support. 0 when denom is 0.
    """
    if numer < 0 or denom < 0:
        raise ValueError("percent of negative numbers")
    if denom == 0:
        return "0.00"
    scaled = numer * 10000
    hundredths = scaled // denom if favourable else -(-scaled // denom)
    return format_area(hundredths)


def ratio_text(t: Threshold) -> str:
    return f"{t.num}/{t.den}"


def _plural(n: int, word: str) -> str:
    return f"{n} more {word}" if n == 1 else f"{n} more {word}s"


def shortfalls(results: Sequence[ThresholdResult]) -> list[tuple[str, int, int]]:
    """What is still missing, as (counts, persons, area) for "participation" then "agree";
    groups with nothing missing are left out. Used by every language's wording."""
    out = []
    for counts in ("participation", "agree"):
        missing = {
            measure: max(
                (
                    r.shortfall
                    for r in results
                    if r.threshold.counts == counts and r.threshold.measure == measure
                ),
                default=0,
            )
            for measure in ("persons", "area")
        }
        if missing["persons"] or missing["area"]:
            out.append((counts, missing["persons"], missing["area"]))
    return out


def shortfall_text(results: Sequence[ThresholdResult], *, headcount: str = "household") -> str:
    """English staff summary of what is missing, e.g.
    "needs 12 more households and 930.40 m² agreeing"; "" when every threshold is met.
    """
    _check_headcount(headcount)
    parts = []
    for counts, persons, area in shortfalls(results):
        pieces = []
        if persons:
            pieces.append(_plural(persons, headcount))
        if area:
            pieces.append(f"{format_area(area)} m²")
        verb = "participating" if counts == "participation" else "agreeing"
        parts.append(f"needs {' and '.join(pieces)} {verb}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- JSON


def _figure(measure: str, value: int) -> int | str:
    return format_area(value) if measure == "area" else value


def totals_json(t: Totals) -> dict:
    """{"persons": int, "area": "x.xx"} as in CONTRACT.md's tally JSON."""
    return {"persons": t.persons, "area": format_area(t.area)}


def threshold_json(r: ThresholdResult) -> dict:
    """One entry of a question's "thresholds" list (CONTRACT.md, Tally JSON)."""
    t = r.threshold
    return {
        "counts": t.counts,
        "measure": t.measure,
        "of": t.of,
        "ratio": ratio_text(t),
        "strict": t.strict,
        "required": _figure(t.measure, r.required),
        "actual": _figure(t.measure, r.actual),
        "met": r.met,
    }


def question_json(
    number: int,
    text: str,
    rule: Rule,
    electorate: Electorate,
    counts: QuestionCounts,
    advisory: Iterable[tuple[Rule, Electorate, QuestionCounts]],
) -> dict:
    """One entry of the tally JSON's "questions" list.

    ``advisory`` carries, for each other rule, the electorate and counts under that
    rule's default headcount; entries are listed in RULES order, the binding rule left out.
    """
    verdict = evaluate(rule, electorate, counts)
    order = list(RULES)

    def rank(item: tuple[int, tuple[Rule, Electorate, QuestionCounts]]) -> tuple[int, int]:
        pos, (r, _, _) = item
        return (order.index(r.id) if r.id in order else len(order), pos)

    advice = []
    seen: set[str] = set()
    for _, (a_rule, a_electorate, a_counts) in sorted(enumerate(advisory), key=rank):
        if a_rule.id == rule.id or a_rule.id in seen:
            continue
        seen.add(a_rule.id)
        advice.append(
            {"rule": a_rule.id, "passed": evaluate(a_rule, a_electorate, a_counts).passed}
        )

    out: dict = {"number": number, "text": text}
    for answer in ANSWERS:
        out[answer] = totals_json(counts.answers[answer])
    out["thresholds"] = [threshold_json(r) for r in verdict.results]
    out["conflicts"] = [
        {"owner_key": c.owner_key, "households": list(c.households)} for c in counts.conflicts
    ]
    out["passed"] = verdict.passed
    out["advisory"] = advice
    return out


# --------------------------------------------------------------------------- hearings
# DOMAIN.md "The hearing route": no threshold is written in the seed; the attendance is
# published (households and area, as shares of the total) so that readers can judge it,
# and staff are warned when fewer than half the households attended.

HEARING_OUTCOMES = ("agreed", "not-agreed")


def count_attendance(units: Iterable[int]) -> Totals:
    """Households present at a hearing and their area, from each one's area (hundredths)."""
    households = area = 0
    for unit_area in units:
        if unit_area < 0:
            raise ValueError("a negative area")
        households += 1
        area += unit_area
    return Totals(households, area)


def few_attended(attended: Totals, electorate: Electorate) -> bool:
    """Fewer than half the households attended (a warning to staff, never a refusal)."""
    return 2 * attended.persons < electorate.households


def hearing_json(electorate: Electorate, attended: Totals, outcome: str | None) -> dict:
    """The hearing-specific part of the tally JSON (CONTRACT.md "Hearing route"): the
    attendance with its exact shares of the total as fractions, and the outcome."""
    if outcome is not None and outcome not in HEARING_OUTCOMES:
        raise ValueError(f"unknown hearing outcome {outcome!r}")
    return {
        "route": "hearing",
        "attendance": {
            "households": attended.persons,
            "area": format_area(attended.area),
            "share": {
                "households": f"{attended.persons}/{electorate.households}",
                "area": f"{attended.area}/{electorate.area}",
            },
        },
        "outcome": outcome,
        "questions": [],
    }
