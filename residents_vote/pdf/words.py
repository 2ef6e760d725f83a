"""The printed ballot's own words, through the translations.

Message ids are English with the context "paper ballot"; the Chinese is in
translations/zh_Hans_CN. The ballot is printed in Chinese: services/printing.py
renders it under `force_locale("zh_CN")`. Outside an application context (or in
another locale) the words come out as written here.
"""

from __future__ import annotations

from flask_babel import pgettext


def ballot_words() -> dict[str, str]:
    """Every fixed word of the ballot, in the current locale (called once per render)."""
    return {
        # header
        "ballot": pgettext("paper ballot", "Ballot"),
        "serial": pgettext("paper ballot", "Serial no.:"),
        "matter_of": pgettext("paper ballot", "Matter put to the vote: %(stage)s"),
        # household details
        "community": pgettext("paper ballot", "Community"),
        "building": pgettext("paper ballot", "Building"),
        "unit": pgettext("paper ballot", "Unit"),
        "room": pgettext("paper ballot", "Room"),
        "household": pgettext("paper ballot", "Household"),
        "area": pgettext("paper ballot", "Floor area"),
        "owner": pgettext("paper ballot", "Owner"),
        "share": pgettext("paper ballot", "Cost share"),
        "window": pgettext("paper ballot", "Voting period"),
        "window_span": pgettext("paper ballot", "%(opens)s to %(closes)s"),
        "rule": pgettext("paper ballot", "Decision rule"),
        # QR column
        "scan": pgettext("paper ballot", "Scan with a phone · vote online"),
        "type_link": pgettext(
            "paper ballot", "If you cannot scan, type this address (case-sensitive):"
        ),
        # answer table
        "instruction": pgettext(
            "paper ballot",
            "For each matter choose one of “Agree”, “Oppose” and “Abstain” and tick (“✓”) its box.",
        ),
        "number": pgettext("paper ballot", "No."),
        "matter": pgettext("paper ballot", "Matter"),
        "agree": pgettext("paper ballot", "Agree"),
        "oppose": pgettext("paper ballot", "Oppose"),
        "abstain": pgettext("paper ballot", "Abstain"),
        # how to fill in
        "how": pgettext("paper ballot", "How to fill in:"),
        "how_1": pgettext(
            "paper ballot",
            "Choose one answer per matter. A matter with no choice counts as “Abstain”; "
            "a matter with two or more choices is invalid.",
        ),
        "how_2": pgettext(
            "paper ballot",
            "The owner signs this ballot; a proxy signs it and attaches the written "
            "authorisation. A ballot without a signature is invalid.",
        ),
        "how_3": pgettext(
            "paper ballot",
            "One vote per household; online and paper votes are counted together. Once the "
            "household has confirmed its vote online, a paper ballot is not accepted. A "
            "confirmed vote cannot be changed.",
        ),
        "how_4": pgettext(
            "paper ballot",
            "A lost ballot can be reissued by the organiser; the old ballot and its QR code "
            "then no longer count.",
        ),
        # signatures
        "owner_sign": pgettext("paper ballot", "Owner's signature:"),
        "phone": pgettext("paper ballot", "Phone:"),
        "date": pgettext("paper ballot", "Date:"),
        "year": pgettext("paper ballot", "year"),
        "month": pgettext("paper ballot", "month"),
        "day": pgettext("paper ballot", "day"),
        "proxy": pgettext(
            "paper ballot", "Voting by proxy (leave empty when the owner votes in person)"
        ),
        "proxy_note": pgettext(
            "paper ballot",
            "The proxy attaches the written authorisation signed by the owner to this ballot.",
        ),
        "proxy_name": pgettext("paper ballot", "Proxy's name:"),
        "proxy_sign": pgettext("paper ballot", "Proxy's signature:"),
        "proxy_phone": pgettext("paper ballot", "Proxy's phone:"),
        # handing in
        "hand_in": pgettext(
            "paper ballot", "Hand in: bring this ballot to %(place)s before %(deadline)s"
        ),
        "organiser": pgettext(
            "paper ballot", "Organised by: %(organiser)s    Contact: %(contact)s"
        ),
        # stub
        "cut": pgettext(
            "paper ballot", "Cut along the dashed line; the owner keeps the lower part (receipt)"
        ),
        "stub": pgettext("paper ballot", "Ballot receipt (kept by the owner)"),
        "stub_household": pgettext("paper ballot", "Household:"),
        "keep": pgettext(
            "paper ballot",
            "The person receiving the ballot fills in the right-hand box. Keep this receipt: "
            "during the objection period its code shows your household's recorded vote.",
        ),
        "received": pgettext("paper ballot", "Receipt record (filled in by staff)"),
        "received_by": pgettext("paper ballot", "Received by:"),
        "received_on": pgettext("paper ballot", "Date received:"),
        "receipt_code": pgettext("paper ballot", "Receipt code:"),
    }
