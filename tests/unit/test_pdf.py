"""PDF layer: ballots (QR, text, page count, embedded subset font) and notices.

Checks go through the same tools a printer or a reader would: poppler renders and
extracts text, zbar scans the QR code from the rendered page, pypdf reads the file
structure.
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from residents_vote.pdf import (
    BallotPage,
    FontNotFoundError,
    Notice,
    qr_runs,
    render_ballots,
    wrap_text,
)
from residents_vote.pdf import fonts as pdfmod
from tests.helpers import SAMPLE_BALLOT, chinese_documents

TOOLS = ("pdftoppm", "pdftotext", "pdffonts", "pdfinfo", "zbarimg")
needs_tools = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="needs poppler-utils and zbar-tools",
)


@pytest.fixture(scope="module", autouse=True)
def chinese(tmp_path_factory):
    """The printed ballot is Chinese: its words are translated (services/printing.py)."""
    with chinese_documents(tmp_path_factory.mktemp("catalog")):
        yield


COMMON = SAMPLE_BALLOT

OWNERS = ("张三", "欧阳建国", "李四")


def make_pages(n: int, *, share: bool = True) -> list[BallotPage]:
    return [
        BallotPage(
            serial=f"B{i + 1:06d}",
            household=f"3-2-{501 + i}",
            building="3",
            unit="2",
            room=str(501 + i),
            area=f"{87 + i}.65",
            owner_name=OWNERS[i % len(OWNERS)],
            url=f"https://vote.example.org/b/tok{i:04d}-Xq9_Zr7LmB2vKp0sWd4Hy",
            share=f"本户分摊：{1234 + i:,}.56 元" if share else "",
        )
        for i in range(n)
    ]


def run(*args: str | Path) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, check=True)
    return done.stdout.decode()


def page_text(path: Path, page: int) -> str:
    return run("pdftotext", "-f", page, "-l", page, "-layout", path, "-")


def scan_qr(path: Path, page: int, tmp: Path) -> list[str]:
    prefix = tmp / f"p{page}"
    run("pdftoppm", "-r", 150, "-f", page, "-l", page, "-png", path, prefix)
    (png,) = tmp.glob(f"p{page}*.png")
    done = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True)
    return done.stdout.decode().split()


@pytest.fixture(scope="module")
def ballots(tmp_path_factory) -> tuple[Path, list[BallotPage]]:
    pages = make_pages(3)
    path = tmp_path_factory.mktemp("ballots") / "ballots.pdf"
    path.write_bytes(render_ballots(COMMON, pages))
    return path, pages


def test_one_page_per_ballot_and_well_formed(ballots):
    path, pages = ballots
    reader = PdfReader(path, strict=True)
    assert len(reader.pages) == len(pages)
    for page in reader.pages:  # A4 portrait
        assert [round(float(v)) for v in page.mediabox] == [0, 0, 595, 842]


@needs_tools
def test_pdfinfo_reports_no_errors(ballots):
    path, pages = ballots
    done = subprocess.run(["pdfinfo", str(path)], capture_output=True)
    assert done.returncode == 0
    assert "Error" not in done.stderr.decode()
    assert re.search(rf"Pages:\s+{len(pages)}\b", done.stdout.decode())


@needs_tools
def test_qr_on_page_one_decodes_to_exactly_the_url(ballots, tmp_path):
    path, pages = ballots
    assert scan_qr(path, 1, tmp_path) == [pages[0].url]


@needs_tools
def test_page_two_text_has_household_owner_community_and_answers(ballots):
    path, pages = ballots
    text = page_text(path, 2)
    p = pages[1]
    for expected in (p.room, p.owner_name, COMMON.community, "同意", "反对", "弃权"):
        assert expected in text
    for expected in (p.serial, p.household, p.share, COMMON.deadline, "代理人签名"):
        assert expected in text
    assert pages[0].owner_name not in text  # other households' data stays on their page
    # the url is printed for those who cannot scan (wrapped over lines, so compare joined)
    assert p.url in re.sub(r"\s+", "", text)


def test_cjk_font_is_embedded_as_subset(ballots):
    path, _ = ballots
    reader = PdfReader(path)
    fonts = reader.pages[0]["/Resources"]["/Font"]
    cjk = [f.get_object() for f in fonts.values() if "Noto" in f.get_object()["/BaseFont"]]
    assert cjk, "no Noto CJK font on the page"
    for font in cjk:
        assert re.fullmatch(r"/[A-Z]{6}\+\S+", font["/BaseFont"])
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


@needs_tools
def test_pdffonts_shows_embedded_subset(ballots):
    path, _ = ballots
    rows = [line.split() for line in run("pdffonts", path).splitlines()[2:]]
    noto = [r for r in rows if "Noto" in r[0]]
    assert noto
    for r in noto:  # columns: name type... encoding emb sub uni
        assert r[-5:-2] == ["yes", "yes", "yes"]


@needs_tools
def test_long_questions_still_fit_on_one_page_each(tmp_path):
    long_q = (
        "是否同意《幸福里小区老旧小区改造方案》中的设计方案，包括屋面防水层翻新、外立面保温及涂料"
        "整治、楼道照明与扶手更换、雨污分流管网改造、小区道路黑化、绿化补植、增设电动自行车集中"
        "充电车棚以及智能门禁与监控系统建设等全部内容？"
    )
    common = dataclasses.replace(COMMON, questions=(long_q,) * 4)
    pages = make_pages(2, share=False)
    path = tmp_path / "long.pdf"
    path.write_bytes(render_ballots(common, pages))
    assert len(PdfReader(path).pages) == 2
    text = re.sub(r"\s+", "", page_text(path, 1))
    assert "智能门禁与监控系统建设等全部内容" in text
    assert "费用分摊" not in text  # no share on any page: no share row
    assert scan_qr(path, 2, tmp_path) == [pages[1].url]


def test_text_that_cannot_fit_is_refused():
    common = dataclasses.replace(COMMON, questions=("是否同意" * 60,) * 8)
    with pytest.raises(ValueError, match="does not fit"):
        render_ballots(common, make_pages(1))


def test_no_pages_is_an_error():
    with pytest.raises(ValueError):
        render_ballots(COMMON, [])


@pytest.mark.slow
@needs_tools
def test_parallel_rendering_keeps_order_and_content(tmp_path):
    pages = make_pages(240)
    path = tmp_path / "many.pdf"
    path.write_bytes(render_ballots(COMMON, pages, workers=2))
    assert len(PdfReader(path, strict=True).pages) == 240
    for n in (1, 121, 240):
        assert scan_qr(path, n, tmp_path) == [pages[n - 1].url]
        text = page_text(path, n)
        assert pages[n - 1].household in text and pages[n - 1].owner_name in text


def test_qr_runs_cover_exactly_the_dark_modules():
    import segno

    data = "https://vote.example.org/b/abc"
    qr = segno.make(data, error="m", micro=False, mask=4, boost_error=False)
    runs = qr_runs(data, mask=4)
    dark = {(r, c) for r, row in enumerate(qr.matrix) for c, v in enumerate(row) if v}
    covered = {(r, c0 + i) for r, c0, n in runs.runs for i in range(n)}
    assert covered == dark
    assert runs.modules == len(qr.matrix)
    # merged: no two runs of one row touch
    ends = {(r, c + n) for r, c, n in runs.runs}
    assert not any((r, c) in ends for r, c, _ in runs.runs)


def test_wrap_text_breaks_chinese_and_keeps_punctuation_off_line_starts():
    def width(s: str) -> float:
        return sum(1.0 if ord(ch) > 127 else 0.5 for ch in s)

    lines = wrap_text("按专有部分面积分摊）？其余由政府补助。", width, 8)
    assert all(width(line) <= 8 for line in lines)
    assert "".join(lines) == "按专有部分面积分摊）？其余由政府补助。"
    assert not any(line[0] in "）？，。" for line in lines)
    assert wrap_text("ab cd ef", width, 2.5) == ["ab cd", "ef"]
    assert wrap_text("\u3000\u3000首行缩进", width, 10) == ["\u3000\u3000首行缩进"]


@needs_tools
def test_notice_table_spans_pages_repeats_header_and_extracts(tmp_path):
    doc = Notice("初步统计结果公示", footer="幸福里社区居民委员会")
    doc.heading("幸福里小区 初步统计结果公示")
    doc.paragraph("根据《中华人民共和国民法典》第二百七十八条，现将投票结果公示如下。", indent=True)
    doc.kv("表决范围", "1 栋、2 栋、3 栋（共 403 户）")
    rows = [[f"3-2-{101 + i}", f"{80 + i % 40}.{i % 100:02d}"] for i in range(80)]
    doc.table(["房屋", "专有面积（m²）"], rows, col_widths=[60, 40], align=("L", "R"))
    doc.qr("https://vote.example.org/p/7", "扫码查看本次表决")
    path = tmp_path / "notice.pdf"
    path.write_bytes(doc.output())

    n_pages = len(PdfReader(path).pages)
    assert n_pages >= 2
    first, second = page_text(path, 1), page_text(path, 2)
    assert "初步统计结果公示" in first and "3-2-101" in first
    assert "房屋" in second  # header row repeated on the next page
    assert "3-2-180" in page_text(path, n_pages) or "3-2-180" in second
    assert re.search(rf"第\s*1\s*页\s*/\s*共\s*{n_pages}\s*页", first)
    assert scan_qr(path, n_pages, tmp_path) == ["https://vote.example.org/p/7"]


def test_missing_font_message_says_what_to_install(monkeypatch, tmp_path):
    pdfmod.find_cjk_fonts.cache_clear()
    try:
        monkeypatch.delenv(pdfmod.FONT_ENV, raising=False)
        monkeypatch.setattr(pdfmod, "_FONT_DIRS", (str(tmp_path),))
        with pytest.raises(FontNotFoundError, match="fonts-noto-cjk"):
            pdfmod.find_cjk_fonts()
        monkeypatch.setenv(pdfmod.FONT_ENV, str(tmp_path / "nope.ttc"))
        with pytest.raises(FontNotFoundError, match="fonts-noto-cjk"):
            pdfmod.find_cjk_fonts()
    finally:
        pdfmod.find_cjk_fonts.cache_clear()


def test_font_override_by_environment(monkeypatch):
    regular, _ = pdfmod.find_cjk_fonts()
    pdfmod.find_cjk_fonts.cache_clear()
    try:
        monkeypatch.setenv(pdfmod.FONT_ENV, str(regular.path))
        found, _ = pdfmod.find_cjk_fonts()
        assert found.path == regular.path
        assert found.index == regular.index  # the Simplified Chinese face of the collection
        doc = Notice()
        doc.paragraph("环境变量指定字体")
        text = PdfReader(io.BytesIO(doc.output())).pages[0].extract_text()
        assert "环境变量指定字体" in text.replace("\x00", "")  # pypdf keeps NULs of 2-byte codes
    finally:
        pdfmod.find_cjk_fonts.cache_clear()
