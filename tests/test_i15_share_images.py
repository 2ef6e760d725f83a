"""Share images for WeChat groups (issue 15 item 6): a PNG 1080 px wide per stage of a
vote, its QR code leading to the proposal's public page, its figures those of the tally;
a download button per existing stage on the proposal's staff page, staff only."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from residents_vote.domain import tally as rules
from residents_vote.models import Proposal
from residents_vote.services import notices, results, share_images, tally
from residents_vote.services.errors import Forbidden, NotFound
from tests import factories
from tests.helpers import login, read

ROWS = tuple(
    (str(1 + i // 4), "1", str(101 + i % 4), f"{80 + i}.50", f"业主{i}", "") for i in range(9)
)
ARTIFACTS = Path(__file__).parent / "artifacts"


def _decode(png: bytes) -> tuple[Image.Image, list[str]]:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image, [b.text for b in zxingcpp.read_barcodes(image.convert("L"))]


def _image(app, pid: int, stage: str, username: str = "staff1"):
    with app.app_context():
        return share_images.share_image(
            app.extensions["rv_db"].store, pid, stage, username=username
        )


def _public_url(app, pid: int) -> str:
    with read(app) as s:
        return notices.public_url(s.get(Proposal, pid))


def _keep(name: str, png: bytes) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"share-{name}.png").write_bytes(png)


def _final(app, **options) -> int:
    factories.community(app, "fz", rows=ROWS)
    factories.staff_user(app, "staff-fz", ("fz",))
    return factories.final_proposal(app, "fz", **options)


def test_still_needed_is_the_households_missing_to_two_thirds():
    e = rules.Electorate(households=403, persons=403, area=4_030_000)
    for rule_id in ("seed", "civil-major", "civil-ordinary"):
        rule = rules.RULES[rule_id]
        assert rules.participation_needed(rule, e, rules.Totals(210, 2_000_000)) == 59
        assert rules.participation_needed(rule, e, rules.Totals(269, 2_000_000)) == 0
        assert rules.participation_needed(rule, e, rules.Totals(300, 2_000_000)) == 0


def test_turnout_image_decodes_and_its_figures_are_the_tally(app):
    world = factories.voting_world(app, rows=ROWS)
    factories.insert_votes(app, world.proposal_id, {factories.code(r): ("agree", "oppose")
                                                   for r in ROWS[:4]})  # fmt: skip
    made = _image(app, world.proposal_id, "turnout")
    image, codes = _decode(made.png)
    assert image.format == "PNG" and image.width == 1080 and image.height > 1200
    assert codes == [_public_url(app, world.proposal_id)]
    with read(app) as s:
        live = tally.compute(s, s.get(Proposal, world.proposal_id))
    assert made.poster.extra == {"voted": 4, "total": 9, "needed": 2}
    assert live.participation.persons == 4 and live.electorate.persons == 9
    texts = " ".join(f.value for f in made.poster.figures)
    assert "4 / 9 户" in texts and "2 户" in texts
    assert not any("业主" in t for t in (texts, *made.poster.lines))  # no names
    _keep("turnout", made.png)


def test_every_stage_only_once_it_exists(app):
    world = factories.voting_world(app, rows=ROWS)
    pid = world.proposal_id
    with read(app) as s:
        assert share_images.stages(s.get(Proposal, pid)) == ["notice", "turnout"]
    notice = _image(app, pid, "notice")
    assert _decode(notice.png)[1] == [_public_url(app, pid)]
    assert notice.poster.extra == {"households": 9}
    _keep("notice", notice.png)
    with pytest.raises(NotFound):
        _image(app, pid, "preliminary")

    final_id = _final(app, finalize=False)
    with read(app) as s:
        assert share_images.stages(s.get(Proposal, final_id)) == ["notice", "preliminary"]
    prelim = _image(app, final_id, "preliminary", "staff-fz")
    assert _decode(prelim.png)[1] == [_public_url(app, final_id)]
    assert prelim.poster.extra["passed"] == [True, True]
    _keep("preliminary", prelim.png)
    with pytest.raises(NotFound):
        _image(app, final_id, "final", "staff-fz")


def test_final_image(app):
    pid = _final(app, answers={"1-1-101": {1: "oppose", 2: "oppose"}})
    with read(app) as s:
        p = s.get(Proposal, pid)
        assert share_images.stages(p) == ["notice", "preliminary", "final"]
        published = results.published_json(s, p)
    made = _image(app, pid, "final", "staff-fz")
    assert _decode(made.png)[1] == [_public_url(app, pid)]
    assert made.poster.extra["passed"] == [q["passed"] for q in published["questions"]]
    assert made.poster.extra["participation"] == published["participation"]["persons"]
    _keep("final", made.png)


def test_staff_buttons_and_access(app, client):
    world = factories.voting_world(app, rows=ROWS)
    factories.staff_user(app, "other", ())
    factories.community(app, "yy", rows=None)
    factories.staff_user(app, "staff_yy", ("yy",))
    with pytest.raises(Forbidden):
        _image(app, world.proposal_id, "notice", username="staff_yy")
    login(client, "staff1")
    html = client.get(f"/staff/proposals/{world.proposal_id}").get_data(as_text=True)
    base = f"/staff/proposals/{world.proposal_id}/share/"
    assert f'href="{base}notice.png"' in html and f'href="{base}turnout.png"' in html
    assert "preliminary.png" not in html and "final.png" not in html
    got = client.get(base + "turnout.png")
    assert got.status_code == 200 and got.mimetype == "image/png"
    assert "attachment" in got.headers["Content-Disposition"]
    assert client.get(base + "final.png").status_code == 404
    assert client.get(base + "nothing.png").status_code == 404
    client.get("/logout")
    other = app.test_client()
    login(other, "staff_yy")
    assert other.get(base + "notice.png").status_code == 404


def test_the_date_is_the_local_date(app):
    world = factories.voting_world(app, rows=ROWS)
    when = dt.datetime(2026, 12, 1, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 2nd in Beijing
    with app.app_context():
        made = share_images.share_image(
            app.extensions["rv_db"].store, world.proposal_id, "notice", username="staff1", now=when
        )
    assert made.poster.footer.endswith("2026-12-02")
