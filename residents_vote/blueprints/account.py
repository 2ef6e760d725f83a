"""The signed-in user's own account: their password (any role; web.ACCESS)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import Length

from .. import extensions
from ..services import users
from ..services.errors import ServiceError
from ..web import translate_error

bp = Blueprint("account", __name__, url_prefix="/account")


class PasswordForm(FlaskForm):
    current_password = PasswordField("current_password", validators=[Length(max=200)])
    new_password = PasswordField("new_password", validators=[Length(max=200)])


@bp.route("/password", methods=["GET", "POST"])
def password():
    """The signed-in user's own password change: ends their other sessions, keeps this one."""
    form = PasswordForm()
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if extensions.over_failure_limit("login"):
            abort(429)
        # The current password is checked like a login: counted per account and address.
        try:
            change = users.change_own_password(
                extensions.store(),
                current_user.username,
                form.current_password.data or "",
                form.new_password.data or "",
                now=extensions.now(),
                limited=extensions.limits_enabled(),
            )
        except ServiceError as exc:  # the new password is refused: the page says why (422)
            error = translate_error(exc)
        else:
            if change.retry_at is not None:
                abort(429)
            if not change.changed:
                extensions.record_failure("login")
                error = _("The current password is not correct.")
            else:
                user = users.by_id(extensions.fresh_session(), current_user.id)
                session.clear()
                login_user(user)  # this session goes on under the new version
                flash(_("Your password was changed. Your other sessions have ended."), "ok")
                return redirect(url_for("index"), code=303)
    page = render_template("account/password.html", form=form, error=error)
    return page, (422 if error else 200)
