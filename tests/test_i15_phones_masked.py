"""Issue 15 item 5: phones are masked to their last four digits on every page and list
staff see (the register page, the non-voter list as page, PDF and XLSX, the message
list); only the sending itself (the outbox's hand-sending list) shows the number."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests import factories
from tests.helpers import html_text, pdf_text, staff_client

ROWS = (
    ("1", "1", "101", "87.65", "张伟", "13800001234"),
    ("1", "1", "102", "90.10", "王芳", "13900005678"),
    ("2", "1", "101", "200.00", "赵敏", "+8613512349876"),
    ("2", "1", "102", "50.00", "孙丽", ""),
)
FULL = ("13800001234", "13900005678", "+8613512349876", "8613512349876")
MASKED = ("*******1234", "*******5678", "*******9876")


@pytest.fixture
def world(app):
    return factories.voting_world(app, rows=ROWS, closes=factories.ahead(days=3))


def assert_masked(text: str) -> None:
    for number in FULL:
        assert number not in text
    for number in MASKED:
        assert number in text


@pytest.mark.parametrize(
    "path",
    ["/staff/c/{slug}", "/staff/proposals/{pid}/nonvoters"],
)
def test_pages_show_phones_masked(app, client, world, path):
    staff_client(app, client, world)
    response = client.get(path.format(slug=world.slug, pid=world.proposal_id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_masked(html)
    assert "tel:" not in html
    assert "张伟" in html_text(html)  # staff still see whose household it is


def test_the_printed_and_exported_nonvoter_lists_mask_phones(app, client, world):
    staff_client(app, client, world)
    pdf = client.get(f"/staff/proposals/{world.proposal_id}/nonvoters.pdf").data
    assert_masked(pdf_text(pdf))
    data = client.get(f"/staff/proposals/{world.proposal_id}/nonvoters.xlsx").data
    sheet = load_workbook(io.BytesIO(data)).active
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert_masked(cells)
