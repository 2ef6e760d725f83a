"""The ballots' fast writer (pdf/fastpath.py) against the public-API one (pdf/public.py).

fastpath.py relies on fpdf2 internals, pinned to one fpdf2 version; these tests are
what lets that pin move: same page text (pypdf), a QR code that decodes (zbar), and
the fallback to the public path when the installed fpdf2 is another version.
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from residents_vote.pdf import BallotPage, fastpath, public, render_ballots
from tests.helpers import SAMPLE_BALLOT, chinese_documents

needs_tools = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None,
    reason="needs poppler-utils and zbar-tools",
)

COMMON = dataclasses.replace(
    SAMPLE_BALLOT,
    questions=SAMPLE_BALLOT.questions[::2],
    adoption="各事项均获通过的，本方案方为通过。",
)

PAGES = [
    BallotPage(
        serial=f"B2026-{i:05d}",
        household=f"3-2-{501 + i}",
        building="3",
        unit="2",
        room=str(501 + i),
        area=f"{87 + i}.65",
        owner_name=("欧阳建国", "张三")[i % 2],
        url=f"https://vote.example.org/b/tok{i:04d}-Xq9_Zr7LmB2vKp0sWd4Hy",
        share=f"本户分摊：{1234 + i:,}.56 元",
    )
    for i in range(3)
]


@pytest.fixture(scope="module", autouse=True)
def chinese(tmp_path_factory):
    with chinese_documents(tmp_path_factory.mktemp("catalog")):
        yield


@pytest.fixture(scope="module")
def both() -> tuple[bytes, bytes]:
    return fastpath.render(COMMON, PAGES, workers=1), public.render(COMMON, PAGES)


def texts(data: bytes) -> list[str]:
    """Each page's text as pypdf extracts it, whitespace and 2-byte NULs removed."""
    pages = PdfReader(io.BytesIO(data), strict=True).pages
    return [re.sub(r"[\s\x00]+", "", page.extract_text()) for page in pages]


def scan_qr(data: bytes, page: int, tmp: Path) -> list[str]:
    path = tmp / "ballots.pdf"
    path.write_bytes(data)
    prefix = tmp / f"p{page}"
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "150",
            "-f",
            str(page),
            "-l",
            str(page),
            "-png",
            "-singlefile",
            str(path),
            str(prefix),
        ],
        check=True,
    )
    done = subprocess.run(
        ["zbarimg", "--raw", "-q", f"{prefix}.png"], capture_output=True, check=False
    )
    return done.stdout.decode().split()


def test_installed_fpdf2_is_the_version_fastpath_was_written_against():
    import fpdf

    assert fpdf.__version__ == fastpath.FPDF2_VERSION, (
        f"fpdf2 {fpdf.__version__} is installed, fastpath.py pins {fastpath.FPDF2_VERSION}: "
        "ballots now render through public.py (slow). Check fastpath.py's use of fpdf2 "
        "internals against the new version, then move FPDF2_VERSION."
    )
    assert fastpath.supported()


def test_fast_and_public_writers_print_the_same_text(both):
    fast, slow = both
    fast_texts, slow_texts = texts(fast), texts(slow)
    assert len(fast_texts) == len(slow_texts) == len(PAGES)
    assert fast_texts == slow_texts
    for text, page in zip(fast_texts, PAGES, strict=True):
        for word in (
            "表决票",
            "同意",
            "反对",
            "弃权",
            "业主签名：",
            page.household,
            page.owner_name,
        ):
            assert word in text
        assert page.url in text  # the printed link, wrapped over lines


def test_fast_writer_draws_the_static_part_once(both):
    fast, slow = both
    assert b"/Subtype /Form" in fast and b"/Subtype /Form" not in slow
    assert len(fast) < len(slow)


@needs_tools
@pytest.mark.parametrize("writer", ["fast", "public"])
def test_qr_codes_decode_to_the_ballot_link(both, writer, tmp_path):
    data = both[0] if writer == "fast" else both[1]
    for n in (1, 3):
        assert scan_qr(data, n, tmp_path) == [PAGES[n - 1].url]


def test_another_fpdf2_version_falls_back_to_the_public_writer(monkeypatch, both):
    monkeypatch.setattr(fastpath, "FPDF2_VERSION", "0.0.0")
    assert not fastpath.supported()
    data = render_ballots(COMMON, PAGES)
    assert b"/Subtype /Form" not in data  # not the fast writer's template
    assert texts(data) == texts(both[0])


def test_importing_the_package_loads_no_fpdf():
    code = (
        "import sys\n"
        "import residents_vote.pdf as pdf\n"
        "from residents_vote.pdf import BallotCommon, BallotPage, Notice, render_ballots\n"
        "import residents_vote.pdf.fastpath, residents_vote.pdf.public\n"
        "assert 'fpdf' not in sys.modules, 'fpdf imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
