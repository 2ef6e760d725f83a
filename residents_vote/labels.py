"""Translated labels for stored codes (status, stage, role, ...), used by pages and PDFs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS = {
    "draft": _l("Draft"),
    "voting": _l("Voting"),
    "counting": _l("Counting (voting closed, result not yet posted)"),
    "hearing": _l("Hearing announced"),
    "publicity": _l("Result posted (objection period)"),
    "final": _l("Final"),
    "confirmed": _l("Confirmed"),
    "submitted": _l("Submitted to the district"),
    "filed": _l("Filed"),
    "cancelled": _l("Cancelled"),
}
STAGE = {
    "application": _l("Renovation application"),
    "design": _l("Renovation design plan"),
    "other": _l("Other matter"),
}
ROLE = {
    "admin": _l("Administrator"),
    "staff": _l("Community staff"),
    "committee": _l("Committee member"),
    "district": _l("District renovation office"),
    "city": _l("City renovation office"),
}
SIGNATORY = {
    "owner-committee": _l("Owner committee"),
    "self-governance": _l("Residents' self-governance group"),
    "neighborhood-committee": _l("Neighborhood committee"),
}
ANSWER = {
    "agree": _l("Agree"),
    "oppose": _l("Oppose"),
    "abstain": _l("Abstain"),
    "invalid": _l("Invalid"),
}
CHANNEL = {"online": _l("Online"), "paper": _l("Paper"), "proxy": _l("Proxy")}
RULE = {
    "seed": _l(
        "Double two-thirds: owners holding at least 2/3 of the total exclusive area and at least 2/3 of all households agree"
    ),
    "civil-major": _l(
        "Civil Code art. 278 (major matters): at least 2/3 of area and owners take part; at least 3/4 of the participating area and owners agree"
    ),
    "civil-ordinary": _l(
        "Civil Code art. 278 (ordinary matters): at least 2/3 of area and owners take part; more than half of the participating area and owners agree"
    ),
}
OBJECTION = {
    "open": _l("Awaiting an answer"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
}
HEADCOUNT = {"household": _l("households"), "owner": _l("owners")}


def _label(table: dict):
    def lookup(code: str) -> str:
        value = table.get(code)
        return str(value) if value is not None else code

    return lookup


status_label = _label(STATUS)
stage_label = _label(STAGE)
role_label = _label(ROLE)
signatory_label = _label(SIGNATORY)
answer_label = _label(ANSWER)
channel_label = _label(CHANNEL)
rule_label = _label(RULE)
headcount_label = _label(HEADCOUNT)
objection_status = _label(OBJECTION)
# The hearing route: the common opinion reached (DOMAIN.md "The hearing route").
OUTCOME = {
    "agreed": _l("Agreed: the residents agree to apply for renovation"),
    "not-agreed": _l("Not agreed: the residents do not agree to apply for renovation"),
}
ROUTE = {"vote": _l("Decided by a vote"), "hearing": _l("Decided at a hearing")}
hearing_outcome = _label(OUTCOME)
route_label = _label(ROUTE)

TEMPLATE_GLOBALS = {
    name: globals()[name]
    for name in (
        "status_label",
        "stage_label",
        "role_label",
        "signatory_label",
        "answer_label",
        "channel_label",
        "rule_label",
        "headcount_label",
        "hearing_outcome",
        "route_label",
    )
}
