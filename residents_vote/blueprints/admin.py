"""User and community administration (admins only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from .. import extensions
from ..models import Community, User
from ..services import communities, users
from ..services.errors import ServiceError
from ..web import translate_error
from .common import actor

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
    db = extensions.session()
    return [(c.slug, c.name) for c in db.scalars(select(Community).order_by(Community.name))]


@bp.route("/users", methods=["GET", "POST"])
def user_list():
    db = extensions.session()
    form = UserForm()
    form.communities.choices = _community_choices()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                users.create_user(
                    db,
                    form.username.data,
                    form.password.data,
                    form.role.data,
                    list(form.communities.data or []),
                    full_name=form.full_name.data or "",
                    actor=actor(),
                )
                db.commit()
                flash(_("User created."), "ok")
                return redirect(url_for("admin.user_list"), code=303)
            except ServiceError as exc:
                db.rollback()
                flash(translate_error(exc), "error")
        else:
            flash(_("Please check what you entered."), "error")
        status = 422
    all_users = list(db.scalars(select(User).order_by(User.username)))
    return render_template(
        "admin/users.html",
        users=all_users,
        form=form,
        action=ActionForm(),
        community_form=CommunityForm(),
        choices=form.communities.choices,
    ), status


@bp.route("/users/<int:user_id>", methods=["POST"])
def user_update(user_id: int):
    db = extensions.session()
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    op = request.form.get("op")
    try:
        if op == "deactivate":
            users.set_active(db, user, False, actor=actor())
        elif op == "activate":
            users.set_active(db, user, True, actor=actor())
        elif op == "password":
            users.reset_password(db, user, request.form.get("password", ""), actor=actor())
        elif op == "assign":
            users.set_communities(db, user, request.form.getlist("communities"), actor=actor())
        elif op == "role":
            users.set_role(db, user, request.form.get("role", ""), actor=actor())
        else:
            abort(400)
        db.commit()
        flash(_("Saved."), "ok")
    except ServiceError as exc:
        db.rollback()
        flash(translate_error(exc), "error")
    return redirect(url_for("admin.user_list"), code=303)


@bp.route("/communities", methods=["POST"])
def community_create():
    db = extensions.session()
    form = CommunityForm()
    if not form.validate_on_submit():
        flash(_("Please check what you entered."), "error")
        return redirect(url_for("admin.user_list"), code=303)
    try:
        communities.create_community(
            db,
            form.slug.data.strip(),
            form.name.data,
            signatory=form.signatory.data,
            office=form.office.data or "",
            contact=form.contact.data or "",
            actor=actor(),
        )
        db.commit()
        flash(_("Community created."), "ok")
    except ServiceError as exc:
        db.rollback()
        flash(translate_error(exc), "error")
    return redirect(url_for("admin.user_list"), code=303)
