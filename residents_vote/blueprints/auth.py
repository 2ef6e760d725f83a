"""Login and logout for staff, committee members and admins."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .. import extensions
from ..services import users
from ..web import local_time

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never send a user to another origin after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if request.method == "POST" and extensions.over_failure_limit("login"):
        abort(429)
    if form.validate_on_submit():
        now = extensions.now()
        attempt = users.log_in(
            extensions.store(), form.username.data, form.password.data, now=now,
            limited=extensions.limits_enabled(),
        )
        if attempt.retry_at is not None:
            wait = max(1, math.ceil((attempt.retry_at - now).total_seconds()))
            error = _(
                "Too many failed logins for this account. Please try again after %(time)s.",
                time=local_time(attempt.retry_at),
            )
            page = render_template("auth/login.html", form=form, error=error)
            return page, 429, {"Retry-After": str(wait)}
        if attempt.user_id is not None:
            session.clear()  # a fresh session identifier at login
            login_user(users.by_id(extensions.session(), attempt.user_id))
            target = _safe_next(request.args.get("next")) or url_for("index")
            return redirect(target, code=303)
        extensions.record_failure("login")
        error = _("Wrong username or password.")
    elif request.method == "POST":
        error = _("Please enter your username and password.")
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Every session of this user ends, copies of this cookie too.
    users.log_out(extensions.store(), current_user.id)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"), code=303)
