"""The resident's ballot page /b/<token>: no login, no JavaScript (CONTRACT.md)."""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_context
from markupsafe import escape

from .. import extensions
from ..messages import codes
from ..services import hearing_cards, proposals, scans, voting
from ..services.errors import N_
from ..web import template_catalog
from . import public
from .common import close_if_due, on_refusal

bp = Blueprint("ballot", __name__)

T = TypeVar("T")


@bp.before_request
def _anonymous_without_cookies() -> None:
    """A resident's request without a session or remember cookie holds no signed-in
    user (the app has no request or header loader): the page gets Flask-Login's
    anonymous user at once, without its per-request loading. A request with either
    cookie (say, staff opening a ballot while signed in) loads its user as anywhere."""
    cookies = request.cookies
    app = current_app
    if app.session_interface.get_cookie_name(app) in cookies:
        return
    if app.config.get("REMEMBER_COOKIE_NAME", REMEMBER_COOKIE) in cookies:
        return
    g._login_user = extensions.login_manager.anonymous_user()


def _counting_failures(call: Callable[[], T]) -> T:
    """Run a use case given the ballot token; an unknown or replaced token counts toward
    the client's failure limit (a valid ballot is never limited)."""
    try:
        return call()
    except voting.BallotRefused:
        if extensions.over_failure_limit("token"):
            abort(429)
        extensions.record_failure("token")
        raise


@bp.route("/b/<token>", methods=["GET"])
def show(token: str):
    page = _counting_failures(
        lambda: voting.ballot_page(extensions.store(), token)
    )
    if page.proposal.route == "hearing":
        return _hearing_card(token)
    ctx = page.context()
    ctx["staff_entry"] = _staff_entry(token)
    ctx["sms"] = _sms_state(page, token)
    ctx["code_sent"] = request.args.get("code") == "sent"
    if page.vote is not None:
        return render_template("ballot/voted.html", token=token, **ctx)
    if page.phase != "open":
        return render_template("ballot/closed.html", token=token, **ctx), 403
    return _open_ballot(token, page, ctx)


# The open ballot form as a household first sees it is the same for every household of
# a proposal but for a few values (token, household code and area, its share, the CSRF
# token): rendering it is about a third of a vote's CPU (bench/vote_load.py --profile).
# So it is rendered once per proposal, community text and language, with markers in
# those places, and the household's values go in per request, escaped as Jinja would.
# Only the plain case takes this path (anonymous, no query string, no flashed message,
# a token of URL-safe characters, an owner check that shows nothing of the household:
# none or phone4); test_i13_ballot_cache.py checks it is byte-identical.
_MARK = "rv" + secrets.token_hex(8)
_TOKEN = _MARK + "t"
_CODE = _MARK + "c"
_SHARE = _MARK + "s"
_CSRF = _MARK + "x"
_AREA_TEXT = _MARK + "a"
_AREA = -987654321987  # hundredths of m²: no household's area
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,200}")
_OPEN_PAGES: dict[tuple, str] = {}
_OPEN_PAGES_MAX = 64


def _open_ballot(token: str, page: voting.BallotPage, ctx: dict):
    if (
        request.args
        or page.proposal.verify not in ("none", "phone4")
        or not _PLAIN_TOKEN.fullmatch(token)
        or "_flashes" in session
        or current_user.is_authenticated
    ):
        return render_template("ballot/ballot.html", token=token, answers={}, errors=[], **ctx)
    env = current_app.jinja_env
    key = (
        page.proposal,
        page.community,
        page.plan,
        page.objection_end,
        bool(page.share),
        str(get_locale()),
        env.globals["current_lang"](),
        request.script_root,
    )
    html = _OPEN_PAGES.get(key)
    if html is None:
        marked = dict(ctx)
        marked["entry"] = dataclasses.replace(page.entry, code=_CODE, area=_AREA)
        marked["share"] = _SHARE if page.share else ""
        html = render_template(
            "ballot/ballot.html",
            token=_TOKEN,
            answers={},
            errors=[],
            csrf_token=lambda: _CSRF,
            **{k: v for k, v in marked.items() if k != "token"},
        )
        # request.path (the language link) holds this request's real token
        html = html.replace(token, _TOKEN).replace(env.filters["area"](_AREA), _AREA_TEXT)
        if len(_OPEN_PAGES) >= _OPEN_PAGES_MAX:
            _OPEN_PAGES.clear()
        _OPEN_PAGES[key] = html
    return (
        html.replace(_TOKEN, token)
        .replace(_CODE, str(escape(page.entry.code)))
        .replace(_AREA_TEXT, str(escape(env.filters["area"](page.entry.area))))
        .replace(_SHARE, str(escape(page.share)))
        .replace(_CSRF, str(escape(generate_csrf())))
    )



def _signed_in() -> str | None:
    return current_user.username if current_user.is_authenticated else None


def _hearing_card(token: str):
    """A hearing's invitation card: the household's hearing notice; staff of the
    community also see the banner that records the household present. Never through
    the open ballot's page cache above."""
    card = hearing_cards.card_page(extensions.store(), token, _signed_in())
    return render_template(
        "ballot/hearing.html", token=token, card=card, community={"name": card.community}
    )


@bp.route("/b/<token>/attend", methods=["POST"])
def attend(token: str):
    """Staff (signed in, of the card's community) record the card's household present at
    the hearing; 404 for anyone else, as if there were nothing here."""
    if not hearing_cards.may_record(extensions.store(), token, _signed_in()):
        abort(404)
    return _record_attendance(token)


@on_refusal(lambda token: url_for("ballot.show", token=token))
def _record_attendance(token: str):
    done = hearing_cards.attend_by_card(
        extensions.store(),
        token,
        proxy_name=request.form.get("proxy_name", ""),
        username=current_user.username,
        now=extensions.now(),
    )
    if done.outcome == hearing_cards.RECORDED:
        flash(_("Household %(code)s is recorded as present.", code=done.household), "ok")
    else:
        flash(_("Household %(code)s was already recorded as present.", code=done.household), "ok")
    return redirect(url_for("ballot.show", token=token), code=303)


def _sms_state(page: voting.BallotPage, token: str) -> codes.SmsState | None:
    """`--verify sms` only: whether the household has a phone (else: vote on paper)."""
    if page.proposal.verify != "sms" or page.vote is not None or page.phase != "open":
        return None
    return codes.sms_state(extensions.store(), token)


@bp.route("/b/<token>/code", methods=["POST"])
def send_code(token: str):
    """`--verify sms`: send a one-time code to the household's registered phone."""
    done = _counting_failures(
        lambda: codes.request_code(extensions.store(), token, now=extensions.now())
    )
    if done.outcome in (codes.TOO_MANY, codes.LOCKED):
        page = voting.ballot_page(extensions.store(), token, now=extensions.now())
        wait = max(1, int((done.retry_at - extensions.now()).total_seconds()) + 1)
        html = render_template(
            "ballot/locked.html", token=token, retry_at=done.retry_at,
            too_many_codes=done.outcome == codes.TOO_MANY, **page.context(),
        )
        return html, 429, {"Retry-After": str(wait)}
    if done.outcome == codes.NO_PHONE:
        return redirect(url_for("ballot.show", token=token), code=303)
    return redirect(url_for("ballot.show", token=token, code="sent"), code=303)


def _staff_entry(token: str) -> scans.PaperEntry | None:
    """The staff banner ("record this paper ballot") for a signed-in staff user or admin
    of the ballot's community; None for everyone else. A request without cookies holds
    the anonymous user already (see above): no user is loaded for residents."""
    if not current_user.is_authenticated:
        return None
    return scans.paper_entry_for(extensions.store(), token, current_user.username)


@bp.route("/b/<token>", methods=["POST"])
def submit(token: str):
    done = _counting_failures(
        lambda: voting.submit_ballot(
            extensions.store(),
            token,
            request.form,
            limited=extensions.limits_enabled(),
            checked_at=extensions.now(),
        )
    )
    outcome = done.outcome
    if outcome == voting.RECORDED:
        return redirect(url_for("ballot.show", token=token), code=303)
    if done.page is not None and done.page.proposal.route == "hearing":
        abort(403)  # a hearing's card carries no vote

    def page(template: str, status: int = 200, **extra):
        return render_template(template, token=token, **extra, **done.page.context()), status

    if outcome == voting.ALREADY_VOTED:
        return page("ballot/voted.html", 409, already=True)
    if outcome == voting.CLOSED:
        return page("ballot/closed.html", 403)
    if outcome == voting.UNANSWERED:
        return page("ballot/ballot.html", 422, answers=done.answers, errors=list(done.errors))
    if outcome == voting.EDIT:
        return page("ballot/ballot.html", answers=done.answers, errors=[])
    if outcome == voting.LOCKED:
        html, status = page("ballot/locked.html", 429, retry_at=done.retry_at)
        return html, status, {"Retry-After": str(done.retry_after)}
    if outcome == voting.WRONG_PHONE:
        return page(
            "ballot/ballot.html", 422, answers=done.answers, errors=[], phone_error=True,
            sms=_sms_state(done.page, token),
        )
    return page(
        "ballot/confirm.html", answers=done.answers, phone4=done.phone4, sms_code=done.sms_code
    )


@bp.route("/b/<token>/objections", methods=["POST"])
def objection(token: str):
    """An objection from the household of this ballot (voted or not), CONTRACT.md."""
    db = extensions.session()
    ballot = _counting_failures(lambda: voting.find_ballot(db, token))
    proposal = close_if_due(proposals.get(db, ballot.proposal_id))
    return public.file_objection(proposal, ballot_id=ballot.id)


# The answer names, marked for the catalog; translated one at a time where shown.
CHOICE_LABELS = {
    "agree": N_("Agree"),
    "oppose": N_("Oppose"),
    "abstain": N_("Abstain"),
    "invalid": N_("Invalid"),
}


@bp.app_template_global()
@pass_context
def choice_label(context, value: str) -> str:
    label = CHOICE_LABELS.get(value)
    return template_catalog(context).ugettext(label) if label is not None else value
