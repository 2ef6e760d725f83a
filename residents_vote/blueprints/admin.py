"""User and community administration (admins only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from .. import extensions
from ..services import communities, users
from ..services.errors import ServiceError
from ..web import translate_error
from .common import actor, on_refusal

bp = Blueprint("admin", __name__, url_prefix="/admin")


class UserForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=64)])
    full_name = StringField("full_name", validators=[Length(max=100)])
    # The policy (length, not the user name, not common) is checked by services.users.
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])
    role = SelectField(
        "role", choices=[("staff", "staff"), ("committee", "committee"), ("admin", "admin")]
    )
    communities = SelectMultipleField("communities", choices=[])


class CommunityForm(FlaskForm):
    slug = StringField("slug", validators=[DataRequired(), Length(max=64)])
    name = StringField("name", validators=[DataRequired(), Length(max=200)])
    signatory = SelectField(
        "signatory",
        choices=[
            ("owner-committee", "owner-committee"),
            ("self-governance", "self-governance"),
            ("neighborhood-committee", "neighborhood-committee"),
        ],
    )
    office = StringField("office", validators=[Length(max=300)])
    contact = StringField("contact", validators=[Length(max=200)])


class ActionForm(FlaskForm):
    pass


def _community_choices() -> list[tuple[str, str]]:
    return [(c.slug, c.name) for c in communities.by_name(extensions.session())]


def _user_list(**_kwargs) -> str:
    return url_for("admin.user_list")


@bp.route("/users", methods=["GET", "POST"])
def user_list():
    form = UserForm()
    form.communities.choices = _community_choices()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                users.register_user(
                    extensions.store(),
                    form.username.data,
                    form.password.data,
                    form.role.data,
                    list(form.communities.data or []),
                    full_name=form.full_name.data or "",
                    actor=actor(),
                )
                flash(_("User created."), "ok")
                return redirect(url_for("admin.user_list"), code=303)
            except ServiceError as exc:  # the page is shown again, with the form (422)
                flash(translate_error(exc), "error")
        else:
            flash(_("Please check what you entered."), "error")
        status = 422
    return render_template(
        "admin/users.html",
        users=users.all_users(extensions.session()),
        form=form,
        action=ActionForm(),
        community_form=CommunityForm(),
        choices=form.communities.choices,
    ), status


# What each button of the user list changes (users.update_user keywords), from the form.
USER_CHANGES = {
    "deactivate": lambda form: {"active": False},
    "activate": lambda form: {"active": True},
    "password": lambda form: {"password": form.get("password", "")},
    "assign": lambda form: {"communities": form.getlist("communities")},
    "role": lambda form: {"role": form.get("role", "")},
}


@bp.route("/users/<int:user_id>", methods=["POST"])
@on_refusal(_user_list)
def user_update(user_id: int):
    if users.by_id(extensions.session(), user_id) is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    change = USER_CHANGES.get(request.form.get("op", ""))
    if change is None:
        abort(400)
    users.update_user(extensions.store(), user_id, **change(request.form), actor=actor())
    flash(_("Saved."), "ok")
    return redirect(url_for("admin.user_list"), code=303)


@bp.route("/communities", methods=["POST"])
@on_refusal(_user_list)
def community_create():
    form = CommunityForm()
    if not form.validate_on_submit():
        flash(_("Please check what you entered."), "error")
        return redirect(url_for("admin.user_list"), code=303)
    communities.add_community(
        extensions.store(),
        form.slug.data.strip(),
        form.name.data,
        signatory=form.signatory.data,
        office=form.office.data or "",
        contact=form.contact.data or "",
        actor=actor(),
    )
    flash(_("Community created."), "ok")
    return redirect(url_for("admin.user_list"), code=303)
