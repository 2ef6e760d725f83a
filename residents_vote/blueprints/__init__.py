"""One blueprint per audience: residents (ballot), the public, staff, admins, committee."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from ..web import check_blueprints
    from . import (
        account,
        admin,
        auth,
        ballot,
        committee,
        district,
        public,
        staff,
        staff_audit,
        staff_hearings,
        staff_messages,
        staff_proposals,
        staff_results,
        staff_scans,
        staff_share,
        staff_votes,
    )

    # on staff.bp
    del staff_audit, staff_hearings, staff_messages, staff_proposals, staff_results
    del staff_scans, staff_share, staff_votes

    for module in (auth, account, staff, admin, committee, district, ballot, public):
        app.register_blueprint(module.bp)
    check_blueprints(app)
