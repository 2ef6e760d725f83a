"""Cross-cutting web concerns: access rules, security headers, errors, template helpers."""

from __future__ import annotations

import datetime as dt
import logging

from flask import Flask, Request, abort, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from . import labels, logmask
from .domain.costs import format_yuan
from .domain.register import mask_phone
from .domain.tally import format_area
from .extensions import login_manager, session, settings
from .models import User
from .services.errors import Problems, ServiceError

# Who may use each blueprint. Every blueprint must be listed: a new one without a rule
# makes the app refuse to start, and the route-walk test covers every endpoint.
ACCESS: dict[str, frozenset[str] | None] = {
    "auth": None,  # public
    "ballot": None,
    "public": None,
    "staff": frozenset({"admin", "staff"}),
    "admin": frozenset({"admin"}),
    "committee": frozenset({"admin", "staff", "committee"}),
    "district": frozenset({"admin", "city", "district"}),
    "account": frozenset({"admin", "staff", "committee", "district", "city"}),
}
PUBLIC_ENDPOINTS = frozenset({"static", "index", "health"})


# The largest id the database holds: primary keys are INTEGER, 32-bit on PostgreSQL.
MAX_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in every route: an id beyond what the database holds matches no route
    (404) instead of reaching a query that overflows (PostgreSQL, SQLite: 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002, ANN001
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class TokenMaskingFilter(logging.Filter):
    """Keep ballot tokens and receipt codes out of access logs: a log line must not be a
    working ballot, nor show how a household voted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_tokens(record.msg)
        if record.args:
            record.args = tuple(
                mask_tokens(a) if isinstance(a, str) else a
                for a in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        return True


def mask_tokens(text: str) -> str:
    """Ballot tokens and receipt codes masked, plain or percent-encoded (logmask)."""
    return logmask.mask(text)


def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return settings().format_local(value, fmt)


# Routes that take a larger upload than MAX_CONTENT_LENGTH: the returned paper ballots
# from a sheet-feeding scanner (SCAN_UPLOAD_MAX_MB; README "Paper ballots from scans").
LARGE_UPLOADS = frozenset({"staff.scans_upload"})


class AppRequest(Request):
    """Flask's request with a per-route body limit: the URL is matched before the body
    is parsed (CSRF check included), so the scan upload may take a scanner's batch."""

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        if self.endpoint in LARGE_UPLOADS:
            return settings().scan_upload_max_bytes
        return super().max_content_length


def upload_limit_mb() -> int:
    """The body limit of the current request in MB (for the 413 page)."""
    return (request.max_content_length or 0) // (1024 * 1024)


def register_web(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    app.request_class = AppRequest
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        # "id:session_version" (User.get_id): a session signed in before the user's
        # sessions were ended (logout, password change, deactivation…) no longer loads.
        ident, _, version = user_id.partition(":")
        if not (ident.isdigit() and version.isdigit() and len(ident) < 19):
            return None
        user = session().get(User, int(ident))
        if user is None or not user.active or int(version) != (user.session_version or 0):
            return None
        return user

    @app.before_request
    def _enforce_access():
        endpoint = request.endpoint
        if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
            return None
        blueprint = request.blueprint
        if blueprint not in ACCESS:
            abort(404)
        roles = ACCESS[blueprint]
        if roles is None:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if current_user.role not in roles:
            abort(404)  # do not reveal that the page exists
        return None

    @app.before_request
    def _refuse_nul_bytes():
        # No form or link a person uses carries a NUL character, and PostgreSQL text cannot
        # hold one: refuse such a request as malformed (400) instead of failing later (500).
        if _has_nul(request):
            abort(400)
        return None

    @app.after_request
    def _headers(response):
        h = response.headers
        present = {key.lower() for key in h.keys()}
        for key, lowered, value in SECURITY_HEADERS:
            if lowered not in present:  # a view may set its own (setdefault, in one pass)
                h.add(key, value)
        private = request.blueprint in (
            "ballot",
            "staff",
            "admin",
            "committee",
            "district",
            "auth",
        ) or (
            request.endpoint == "public.receipt"
        )
        if private:
            h["Cache-Control"] = "no-store"
        lang = request.args.get("lang")
        if lang in ("zh_CN", "en"):
            response.set_cookie(
                "lang",
                lang,
                max_age=365 * 86400,
                samesite="Lax",
                httponly=True,
                secure=app.config.get("SESSION_COOKIE_SECURE", False),
            )
        return response

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        messages = exc.problems if isinstance(exc, Problems) else [translate_error(exc)]
        return render_template("error.html", status=exc.status, messages=messages), exc.status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        msg = gettext("The form expired or was not sent from this site. Please reload and retry.")
        return render_template("error.html", status=400, messages=[msg]), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        messages = [ERROR_TEXT.get(exc.code, lambda: exc.name)()]
        if exc.code == 413:
            messages.append(
                gettext(
                    "An upload here may be at most %(mb)s MB. Go back and send a smaller "
                    "file (for scanned ballots: the stack in several batches, or scanned "
                    "at 200 dpi in grayscale).",
                    mb=upload_limit_mb(),
                )
            )
        if getattr(exc, "description", None) and isinstance(exc.description, Markup):
            messages.append(exc.description)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if exc.code == 429 else {}
        page = render_template("error.html", status=exc.code, messages=messages)
        return page, exc.code, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s", mask_tokens(request.path))
        msg = gettext("Something went wrong on our side. Nothing was recorded; please retry.")
        return render_template("error.html", status=500, messages=[msg]), 500

    @app.route("/")
    def index():
        if current_user.is_authenticated:
            if current_user.role == "committee":
                return redirect(url_for("committee.home"))
            if current_user.role in ("district", "city"):
                return redirect(url_for("district.home"))
            return redirect(url_for("staff.home"))
        return render_template("index.html")

    @app.route("/healthz")
    def health():
        return {"ok": True}

    app.jinja_env.filters["area"] = format_area
    app.jinja_env.filters["masked_phone"] = mask_phone
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.globals["current_lang"] = _current_lang
    app.jinja_env.globals.update(labels.TEMPLATE_GLOBALS)
    app.jinja_env.globals["yuan"] = lambda fen: format_yuan(fen) + " " + gettext("yuan")
    app.jinja_env.globals["threshold_label"] = _threshold_label
    app.jinja_env.globals["advisory_text"] = _advisory_text
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    _install_template_gettext(app)


# Added to every response unless the view set the header itself.
SECURITY_HEADERS = tuple(
    (key, key.lower(), value)
    for key, value in (
        (
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'",
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    )
)


def _has_nul(req) -> bool:
    """True when the path, the query, a form field or an upload's file name holds a NUL."""
    texts = [req.path]
    texts += [t for key, value in req.args.items(multi=True) for t in (key, value)]
    if req.method in ("POST", "PUT", "PATCH") and req.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        texts += [t for key, value in req.form.items(multi=True) for t in (key, value)]
        texts += [f.filename or "" for _, f in req.files.items(multi=True)]
    return any("\x00" in t for t in texts)


_CATALOG = "_rv_catalog"


def _install_template_gettext(app: Flask) -> None:
    """Templates translate through the catalog of the request's locale, looked up once
    per page instead of three context look-ups per message (a ballot page shows about
    twenty): the vote path's share of translation time (bench/vote_load.py --profile).
    Same result as Flask-Babel's callables: `_("…", name=value)`, markup-safe."""
    from jinja2 import pass_context

    @pass_context
    def template_gettext(context, string: str, **variables) -> str:
        catalog = template_catalog(context)
        autoescape = context.eval_ctx.autoescape
        if not variables:  # the same text every time: formatted once per catalog
            cache = _plain_texts(catalog)
            rv = cache.get((string, autoescape))
            if rv is None:
                rv = cache[(string, autoescape)] = _translated(catalog, string, autoescape, {})
            return rv
        return _translated(catalog, string, autoescape, variables)

    app.jinja_env.globals["gettext"] = template_gettext
    app.jinja_env.globals["_"] = template_gettext


def _translated(catalog, string: str, autoescape: bool, variables: dict) -> str:
    rv = catalog.ugettext(string)
    if autoescape:
        rv = Markup(rv)
    return rv % variables


def _plain_texts(catalog) -> dict:
    """The catalog's messages without variables, as templates show them."""
    cache = getattr(catalog, "_rv_plain", None)
    if cache is None:
        cache = catalog._rv_plain = {}
    return cache


def template_catalog(context):
    """The translations of the page being rendered (a Jinja context), looked up once."""
    catalog = context.get(_CATALOG)
    if catalog is None:
        from flask_babel import get_translations

        catalog = context.vars[_CATALOG] = get_translations()
    return catalog


def _current_lang() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang")
    return lang if lang in ("zh_CN", "en") else "zh_CN"


def translate_error(exc: ServiceError) -> str:
    text = gettext(exc.template)
    return text % exc.params if exc.params else text


# A failure-limited client may try again after this (the shortest window is a minute).
RETRY_AFTER_SECONDS = 60

ERROR_TEXT = {
    400: lambda: gettext("The request could not be understood."),
    403: lambda: gettext("This is not allowed now."),
    404: lambda: gettext("Page not found."),
    405: lambda: gettext("This action is not allowed here."),
    409: lambda: gettext("This was already done."),
    410: lambda: gettext("This link is no longer valid."),
    413: lambda: gettext("The file is too large."),
    422: lambda: gettext("Please check what you entered."),
    429: lambda: gettext("Too many failed attempts. Please wait a few minutes and try again."),
}


def check_blueprints(app: Flask) -> None:
    """Fail at start-up if a blueprint has no access rule (called after registration)."""
    missing = set(app.blueprints) - set(ACCESS)
    if missing:
        raise RuntimeError(f"blueprints without an access rule: {sorted(missing)}")


def _threshold_label(t: dict, headcount: str) -> str:
    from .services.notices import threshold_text

    return threshold_text(t, headcount)


def _advisory_text(advisory: list[dict]) -> str:
    from .services.notices import advisory_text

    return advisory_text(advisory)
