"""Share images for the community's WeChat groups: one PNG per stage of a vote (the
voting notice, the turnout, the preliminary and the final result), downloaded by staff
of the proposal's community from its page (services/share_images.py)."""

from __future__ import annotations

from flask import abort

from .. import extensions
from ..services import share_images
from .common import actor, file_response, proposal_or_404
from .staff import bp


@bp.route("/proposals/<int:proposal_id>/share/<stage>.png")
def share_image(proposal_id: int, stage: str):
    proposal = proposal_or_404(proposal_id)
    if stage not in share_images.stages(proposal):
        abort(404)
    made = share_images.share_image(extensions.store(), proposal_id, stage, username=actor())
    return file_response(made.png, "image/png", made.filename)
