"""The scan reader on ballots the app prints, marked and "scanned" by the tests.

Accuracy figures come from bench/scan_accuracy.py; these tests pin the behaviour:
every answer kind is read, every doubtful case goes to review with its reason, a
crossed-out mark is never read as a clear answer, and rotation, scale, an upside-down
sheet and a phone photo's perspective are undone.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from residents_vote.pdf import ballot_geometry, render_ballots
from residents_vote.pdf.geometry import ANSWERS, BallotGeometry
from residents_vote.scans import decide, load_pages, read_page
from residents_vote.scans.decision import CODES
from tests import scan_material as sm
from tests.helpers import chinese_documents

DPI = 200


@pytest.fixture(scope="module", autouse=True)
def _chinese(tmp_path_factory):
    """Ballots rendered here print the Chinese words, as services/printing.py does."""
    with chinese_documents(tmp_path_factory.mktemp("catalog")):
        yield


@pytest.fixture(scope="module")
def printed():
    pages = sm.ballot_pages(3)
    pdf = render_ballots(sm.COMMON, pages)
    geo = ballot_geometry(sm.COMMON, pages)
    return pdf, geo, pages


@pytest.fixture(scope="module")
def blank_pages(printed):
    pdf, _geo, _pages = printed
    return sm.render(pdf, DPI)


def marked(blank_pages, geo, plan, *, signed=True, seed=0, page=0, cut=True):
    image = blank_pages[page].copy()
    rng = np.random.default_rng(seed)
    truth = sm.mark_page(image, DPI, geo, rng, plan=plan, signed=signed)
    if cut:
        image = sm.cut_stub(image, DPI, geo, rng)
    return image, truth


def read_blob(blob: bytes, geo: BallotGeometry):
    (page,) = load_pages(blob)
    return read_page(page.image, geo)


def scanned(image: np.ndarray, angle: float = 2.0, quality: int = 80) -> bytes:
    return sm.jpeg(cv2.GaussianBlur(sm.rotate(image, angle), (0, 0), 0.6), quality)


PLAN = {1: ("tick", "agree"), 2: ("cross", "oppose"), 3: ("fill", "abstain")}
EXPECTED = {1: "agree", 2: "oppose", 3: "abstain"}


# --------------------------------------------------------------------------- the printed page


def test_geometry_matches_the_printed_page(printed, blank_pages):
    """Boxes, marks and QR are where the geometry says; boxes sit under their headings."""
    pdf, geo, pages = printed
    img = blank_pages[0]
    s = DPI / 25.4

    def dark(x, y):
        return img[int(round(y * s)), int(round(x * s))] < 100

    for m in geo.marks:
        assert dark(m.cx, m.cy) and not dark(m.x - 1.0, m.cy)
    for q in geo.questions:
        for _name, b in q.boxes():
            assert dark(b.x, b.cy) and dark(b.x1, b.cy) and dark(b.cx, b.y) and dark(b.cx, b.y1)
            assert not dark(b.cx, b.cy)
    # the headings 同意 反对 弃权, found by a PDF text tool, stand above the box columns
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    text = doc[0].get_textpage()
    height_pt = doc[0].get_height()
    for word, box in zip(("同意", "反对", "弃权"), geo.questions[0].boxes(), strict=True):
        searcher = text.search(word)
        hits = []
        while (hit := searcher.get_next()) is not None:
            left, bottom, right, top = text.get_charbox(hit[0])
            _l2, _b2, right2, _t2 = text.get_charbox(hit[0] + hit[1] - 1)
            hits.append(((left + right2) / 2 * 25.4 / 72, (height_pt - top) * 25.4 / 72))
        heading = [h for h in hits if h[1] < geo.questions[0].row.y]
        assert heading, word
        x_mid, _y = heading[-1]
        assert abs(x_mid - box[1].cx) < 1.0
    assert "业主签名" in text.get_text_range()
    doc.close()
    # the QR symbol's area decodes to the page's link
    (page,) = load_pages(sm.png(img))
    reading = read_page(page.image, geo)
    assert reading.qr == pages[0].url and reading.registration == "marks"


def test_both_writers_print_the_corner_marks(printed):
    """The marks are drawing items of the layout: the public-API writer (fallback when
    fpdf2 is another version) prints them where the fast writer does."""
    from residents_vote.pdf import public

    _pdf, geo, pages = printed
    s = DPI / 25.4
    for blob in (render_ballots(sm.COMMON, pages[:1]), public.render(sm.COMMON, pages[:1])):
        img = sm.render(blob, DPI)[0]
        for m in geo.marks:
            assert img[round(m.cy * s), round(m.cx * s)] < 100
            assert img[round(m.cy * s), round((m.x - 1.0) * s)] > 200


def test_geometry_round_trips_as_plain_data(printed):
    _pdf, geo, _pages = printed
    assert BallotGeometry.from_dict(geo.to_dict()) == geo
    assert [q.number for q in geo.questions] == [1, 2, 3]


# --------------------------------------------------------------------------- answers


@pytest.mark.parametrize("kind", sm.MARK_KINDS)
def test_every_answer_kind_is_read(printed, blank_pages, kind):
    _pdf, geo, pages = printed
    plan = {1: (kind, "agree"), 2: (kind, "oppose"), 3: (kind, "abstain")}
    image, _truth = marked(blank_pages, geo, plan, seed=3)
    reading = read_blob(scanned(image), geo)
    assert reading.qr == pages[0].url
    assert reading.answers == EXPECTED
    assert reading.signed is True
    assert reading.reasons == ()
    assert decide(reading.reasons).status == "ok"
    assert reading.crops == {}


@pytest.mark.parametrize(
    ("step", "reasons"),
    [
        (("blank",), {"blank"}),
        (("two", "agree", "abstain"), {"multiple"}),
        (("crossed", "oppose", "agree"), {"multiple", "unclear"}),
    ],
)
def test_doubtful_questions_go_to_review(printed, blank_pages, step, reasons):
    _pdf, geo, _pages = printed
    plan = {**PLAN, 2: step}
    image, _truth = marked(blank_pages, geo, plan, seed=5)
    reading = read_blob(scanned(image), geo)
    assert reading.answers[1] == "agree" and reading.answers[3] == "abstain"
    assert reading.answers[2] in reasons
    assert set(reading.reasons) & reasons and set(reading.reasons) <= reasons
    decision = decide(reading.reasons)
    assert decision.status == "review"
    assert set(decision.reasons) & reasons
    png = reading.crops["q2"]  # the doubtful row, for the review page
    crop = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert crop.shape[1] > crop.shape[0] * 5  # a whole table row


@pytest.mark.parametrize("seed", range(4))
def test_a_crossed_out_mark_is_never_read_as_a_clear_answer(printed, blank_pages, seed):
    _pdf, geo, _pages = printed
    rng = np.random.default_rng(seed)
    a, b = rng.choice(3, size=2, replace=False)
    plan = {n: ("crossed", ANSWERS[a], ANSWERS[b]) for n in (1, 2, 3)}
    image, _truth = marked(blank_pages, geo, plan, seed=seed)
    reading = read_blob(scanned(image, angle=-3.0), geo)
    assert set(reading.answers.values()) <= {"multiple", "unclear"}
    assert decide(reading.reasons).status == "review"


def test_a_stray_line_through_a_row_is_never_a_wrong_answer(printed, blank_pages):
    _pdf, geo, _pages = printed
    image, _truth = marked(blank_pages, geo, {**PLAN, 1: ("stray", "oppose")}, seed=2)
    reading = read_blob(scanned(image), geo)
    assert reading.answers[1] in ("oppose", "multiple", "unclear")
    assert reading.answers[2] == "oppose" and reading.answers[3] == "abstain"


def test_unsigned_ballot_goes_to_review(printed, blank_pages):
    _pdf, geo, _pages = printed
    image, _truth = marked(blank_pages, geo, PLAN, signed=False, seed=1)
    reading = read_blob(scanned(image), geo)
    assert reading.answers == EXPECTED
    assert reading.signed is False
    assert reading.reasons == ("unsigned",)
    assert decide(reading.reasons) == decide(["unsigned"])
    assert decide(reading.reasons).status == "review"
    assert "signature" in reading.crops


# --------------------------------------------------------------------------- registration


@pytest.mark.parametrize("angle", [-10.0, 10.0, 180.0, 90.0])
def test_rotated_and_upside_down_pages_are_registered(printed, blank_pages, angle):
    _pdf, geo, pages = printed
    image, _truth = marked(blank_pages, geo, PLAN, seed=4, page=1)
    reading = read_blob(scanned(image, angle=angle), geo)
    assert reading.qr == pages[1].url
    assert reading.registration == "marks"
    assert reading.answers == EXPECTED and reading.reasons == ()


def test_a_150_dpi_scan_and_a_600_dpi_scan_pdf(printed, blank_pages):
    _pdf, geo, pages = printed
    image, _truth = marked(blank_pages, geo, PLAN, seed=6, page=2)
    low = cv2.resize(image, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)  # 150 dpi
    assert read_blob(scanned(low, angle=-4), geo).answers == EXPECTED
    # a sheet-feeding scanner's PDF: one 600 dpi image per page, two pages
    high = cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR)
    out = io.BytesIO()
    first = Image.fromarray(high)
    first.save(out, format="PDF", resolution=600, save_all=True, append_images=[first])
    loaded = load_pages(out.getvalue())
    assert [p.number for p in loaded] == [1, 2]
    assert 290 <= loaded[0].dpi <= 300  # rendered at the scan's resolution, capped
    for p in loaded:
        reading = read_page(p.image, geo)
        assert reading.qr == pages[2].url
        assert reading.answers == EXPECTED and reading.reasons == ()


def test_a_phone_photo_in_perspective_and_uneven_light(printed, blank_pages):
    _pdf, geo, pages = printed
    image, _truth = marked(blank_pages, geo, PLAN, seed=8)
    blob = sm.phone_photo(image, np.random.default_rng(11))
    reading = read_blob(blob, geo)
    assert reading.qr == pages[0].url
    assert reading.answers == EXPECTED and reading.signed is True
    assert decide(reading.reasons).status == "ok"


def test_photo_exif_orientation_is_applied(printed, blank_pages):
    _pdf, geo, _pages = printed
    image, _truth = marked(blank_pages, geo, PLAN, seed=9)
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(image, 1)))  # camera held sideways
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    out = io.BytesIO()
    stored.save(out, format="JPEG", quality=85, exif=exif)
    (page,) = load_pages(out.getvalue())
    assert page.image.shape[0] > page.image.shape[1]  # upright: portrait
    assert read_page(page.image, geo).answers == EXPECTED


def test_a_page_without_a_readable_qr_code(printed, blank_pages):
    _pdf, geo, _pages = printed
    image, _truth = marked(blank_pages, geo, PLAN, seed=1)
    s = DPI / 25.4
    q = geo.qr_symbol
    image[int(q.y * s) : int(q.y1 * s), int(q.x * s) : int(q.cx * s)] = 0  # torn / inked over
    reading = read_blob(scanned(image), geo)
    assert reading.qr is None and reading.reasons == ("qr-unreadable",)
    assert decide(reading.reasons).status == "review"


def test_not_an_image():
    from residents_vote.scans import UnreadableFile

    with pytest.raises(UnreadableFile):
        load_pages(b"hello, not a scan")


# --------------------------------------------------------------------------- decision


def test_decision_combines_image_reasons_with_database_facts():
    assert decide([]).status == "ok" and decide([]).reasons == ()
    d = decide([], already_voted=True)
    assert d.status == "review" and d.reasons == ("already-voted",)
    d = decide(["unsigned", "blank"], revoked=True, other_proposal=True)
    assert d.reasons == ("other-proposal", "revoked", "blank", "unsigned")  # CONTRACT order
    assert set(d.reasons) <= set(CODES)
    with pytest.raises(ValueError):
        decide(["smudged"])


# --------------------------------------------------------------------------- the app's own print


def test_ballots_printed_by_the_app_are_read_with_the_printing_geometry(app):
    """printing.ballots_pdf and printing.ballot_geometry agree: the reader finds the QR
    code of each household's link and the answers marked on the app's own PDF."""
    from residents_vote.services import ballots, printing, proposals
    from tests import factories
    from tests.helpers import write

    world = factories.voting_world(app, issue=False)
    with write(app) as s:
        proposal = proposals.lock(s, world.proposal_id)
        issued = ballots.issue(s, proposal, actor="test")
        pdf = printing.ballots_pdf(s, proposal, issued)
        geo = printing.ballot_geometry(s, proposal, issued)
        base = app.config["BASE_URL"]
        urls = [i.url(base) for i in issued]
    assert len(geo.questions) >= 1
    rng = np.random.default_rng(1)
    image = sm.render(pdf, DPI)[0]
    plan = {q.number: ("tick", ANSWERS[(q.number - 1) % 3]) for q in geo.questions}
    truth = sm.mark_page(image, DPI, geo, rng, plan=plan)
    reading = read_blob(scanned(sm.cut_stub(image, DPI, geo, rng), angle=-1.5), geo)
    assert reading.qr == urls[0]
    assert reading.answers == truth.answers
    assert decide(reading.reasons).status == "ok"


def test_a_page_that_is_not_this_ballot_is_never_certain(printed):
    """Another document with a QR code (a poster, another layout): no frame is found
    where the geometry says, so nothing is read as an answer."""
    import segno

    _pdf, geo, _pages = printed
    out = io.BytesIO()
    segno.make("https://vote.example.org/b/someone-else", error="m").save(
        out, kind="png", scale=10, border=4
    )
    qr = cv2.imdecode(np.frombuffer(out.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)
    page = np.full((2339, 1654), 255, np.uint8)
    page[200 : 200 + qr.shape[0], 900 : 900 + qr.shape[1]] = qr
    reading = read_page(page, geo)
    assert reading.qr == "https://vote.example.org/b/someone-else"
    assert set(reading.answers.values()) == {"unclear"}
    assert decide(reading.reasons).status == "review"


def test_a_ballot_read_against_another_layout_is_never_certain(printed, blank_pages):
    """A ballot whose rows sit elsewhere (other questions) read with this geometry: no
    box frame is where it is looked for (but in the last row, which lines up), so
    the page goes to review and no row is read as another's."""
    import dataclasses

    _pdf, geo, _pages = printed
    q1, q2, q3 = sm.COMMON.questions
    other = dataclasses.replace(sm.COMMON, questions=(q2, q3, q1))
    pages = sm.ballot_pages(1)
    other_geo = ballot_geometry(other, pages)
    assert abs(other_geo.questions[0].agree.y - geo.questions[0].agree.y) > 2
    image = sm.render(render_ballots(other, pages), DPI)[0]
    sm.mark_page(image, DPI, other_geo, np.random.default_rng(2), plan=PLAN)
    blob = scanned(image)
    assert read_blob(blob, other_geo).answers == EXPECTED
    wrong = read_blob(blob, geo)
    assert "unclear" in wrong.answers.values()
    for number, answer in wrong.answers.items():  # a row that does line up reads right
        assert answer in ("unclear", EXPECTED[number])
    assert decide(wrong.reasons).status == "review"
