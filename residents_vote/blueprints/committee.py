"""Pages for owner-committee members: review and sign off confirmed proposals."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from .. import extensions
from ..services import users

bp = Blueprint("committee", __name__, url_prefix="/committee")


@bp.route("/")
def home():
    communities = users.visible_communities(extensions.session(), current_user)
    return render_template("committee/home.html", communities=communities)
