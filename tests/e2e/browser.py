"""Helpers for the browser tests: the live app, votes with printed ballots, phone contexts.

Plain functions and classes (fixtures live in conftest.py). Everything goes through the
public surface: the command line, the printed PDF and its QR codes, and the pages.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from residents_vote import db as dbmod
from residents_vote.models import Proposal

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# The WeChat in-app browser on a cheap Android phone (XWEB on Chrome 116).
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 10; V2036A Build/QP1A.190711.020; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
    "MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 "
    "Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
VIEWPORTS = {"360x740": (360, 740), "390x844": (390, 844)}
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORD = "e2e staff password 1"
OFFICE = "幸福里社区居委会（幸福路 12 号一楼），工作日 9:00–17:00"

_counter = itertools.count(1)


def shared_data() -> Path:
    """The sample registers (/work/shared/data), located like tests/unit/test_register.py."""
    override = os.environ.get("RV_SHARED_DATA")
    path = Path(override) if override else ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared sample data not found at {path}")
    return path


@dataclass
class LiveApp:
    """The running app: its origin, plus the command line and database behind it."""

    app: Flask
    url: str
    workdir: Path

    def cli(self, *args: str, input: str | None = None) -> str:
        """Run `flask --app app ARGS…` against the live database; it must succeed."""
        result = self.app.test_cli_runner().invoke(args=list(args), input=input)
        assert result.exit_code == 0, f"flask {' '.join(args)}: {result.output}"
        return result.output

    def proposal(self, proposal_id: int) -> Proposal:
        with self.app.extensions["rv_db"].factory() as s:
            return s.scalar(select(Proposal).where(Proposal.id == proposal_id))

    def move_closing_time(self, proposal_id: int, when: dt.datetime) -> None:
        """Change the announced closing time directly: a test's stand-in for waiting."""
        with dbmod.write_session(self.app.extensions["rv_db"].factory) as s:
            s.execute(update(Proposal).where(Proposal.id == proposal_id).values(closes_at=when))


def compile_catalog(target: Path) -> Path:
    """Compile every catalog from its .po (the suite must not depend on `make translations`)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for source in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        locale = source.parents[1].name
        out = target / locale / "LC_MESSAGES" / "messages.mo"
        out.parent.mkdir(parents=True)
        with source.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        with out.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
    return target


@dataclass
class Vote:
    """One proposal in voting, with the ballot links printed for its households."""

    id: int
    public_id: str
    slug: str
    links: dict[str, str] = field(default_factory=dict)  # household code -> ballot url
    pdf: Path | None = None

    @property
    def public_url(self) -> str:
        return f"/r/{self.public_id}"


TINY_REGISTER = [
    ("1", "1", "101", "87.65", "张秀英", "13800001234"),
    ("1", "1", "102", "92.10", "李建国", "13800005678"),
    ("1", "2", "201", "120.50", "王桂兰", "13800009012"),
]
QUESTIONS = (
    "是否同意《幸福里小区老旧小区改造设计方案》？",
    "是否同意本方案的资金筹集方案（居民按专有部分面积分摊）？",
)
BODY = "本方案包括屋面防水、楼道整治、小区道路和安防监控。工程总预算见公示的设计方案。"


def local_iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def community_with_register(
    live: LiveApp, slug: str, name: str, rows=TINY_REGISTER, *options: str  # noqa: ANN001
) -> Path:
    """`community create` (with the office and any further options) and `households import`
    of `rows` through the command line; the community's work folder."""
    work = live.workdir / slug
    work.mkdir()
    live.cli("community", "create", slug, "--name", name, "--office", OFFICE, *options)
    register = work / "register.csv"
    with register.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["楼栋", "单元", "房号", "专有部分面积", "业主姓名", "电话"])
        writer.writerows(rows)
    live.cli("households", "import", slug, str(register))
    return work


def make_vote(
    live: LiveApp,
    *,
    households: int = 2,
    questions: tuple[str, ...] = QUESTIONS,
    verify: str = "none",
    objection_days: int = 7,
    starts: dt.datetime | None = None,
) -> Vote:
    """A community with a tiny register and an open vote; ballots printed to a PDF."""
    n = next(_counter)
    slug = f"e2e{n}"
    work = community_with_register(
        live, slug, f"幸福里小区{n}期", TINY_REGISTER[:households], "--contact", "0772-1234567"
    )
    args = ["proposal", "create", slug, "--title", "幸福里小区老旧小区改造方案表决"]
    args += ["--stage", "design", "--body", BODY, "--objection-days", str(objection_days)]
    args += ["--verify", verify]
    for q in questions:
        args += ["--question", q]
    proposal_id = int(live.cli(*args).strip().splitlines()[-1])
    starts = starts or dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    live.cli("proposal", "open", str(proposal_id), "--starts", local_iso(starts))
    pdf, links = work / "ballots.pdf", work / "links.csv"
    live.cli("ballots", "issue", str(proposal_id), "--pdf", str(pdf), "--links", str(links))
    with links.open(encoding="utf-8") as fh:
        urls = {row["household"]: row["url"] for row in csv.DictReader(fh)}
    return Vote(
        id=proposal_id,
        public_id=live.proposal(proposal_id).public_id,
        slug=slug,
        links=urls,
        pdf=pdf,
    )


def qr_link(pdf: Path, page: int = 1) -> str:
    """Render one page of the printed ballots and decode its QR code, like a phone camera."""
    prefix = pdf.with_suffix("").as_posix() + f"-p{page}"
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", str(page), "-l", str(page), "-singlefile",
         str(pdf), prefix],
        check=True,
        timeout=60,
    )  # fmt: skip
    out = subprocess.run(
        ["zbarimg", "--raw", "-q", prefix + ".png"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    links = [line.strip() for line in out.splitlines() if line.strip()]
    assert len(links) == 1, f"expected one QR code on page {page}, got {links}"
    return links[0]


def end_voting(live: LiveApp, vote: Vote) -> None:
    """The announced deadline passes: the next page view stops voting by itself (counting)."""
    live.move_closing_time(vote.id, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))


# --- the browser -------------------------------------------------------------------------


def phone_context(browser, live: LiveApp, viewport: str = "390x844", **options):
    """A fresh browser profile shaped like a phone in WeChat."""
    width, height = VIEWPORTS[viewport]
    return browser.new_context(
        base_url=live.url,
        viewport={"width": width, "height": height},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_UA,
        locale="zh-CN",
        **options,
    )


@dataclass
class Requests:
    """Every request a page made: resident pages must load only the app's own files."""

    urls: list[str] = field(default_factory=list)

    def attach(self, context) -> Requests:
        context.on("request", lambda request: self.urls.append(request.url))
        return self

    def check(self, origin: str) -> None:
        foreign = [u for u in self.urls if not u.startswith(origin + "/")]
        assert not foreign, f"third-party requests: {foreign}"
        scripts = [u for u in self.urls if re.search(r"\.m?js(\?|$)", u)]
        assert not scripts, f"scripts loaded: {scripts}"


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def receipt_text(page) -> str:
    return page.locator("#receipt").inner_text().strip()


RECEIPT = re.compile(r"^[A-Z2-9]{4}(-[A-Z2-9]{4})+$")
ANSWER_ZH = {"agree": "同意", "oppose": "反对", "abstain": "弃权"}


def choose(page, question: int, answer: str) -> None:
    """Tap the big answer button (the label around the visually hidden radio)."""
    page.locator(f"#question-{question} label.choice:has(input[value={answer}])").tap()


def vote_on_phone(
    page, link: str, answers: dict[int, str], *, phone4: str = "", shots: str | None = None
) -> str:
    """Open a ballot link, tap the answers, check them, confirm; returns the receipt code."""
    from playwright.sync_api import expect

    response = page.goto(link)
    assert response is not None and response.status == 200
    if shots:
        screenshot(page, f"{shots}-ballot")
    for number, answer in answers.items():
        choose(page, number, answer)
        expect(page.locator(f"input[name=q{number}][value={answer}]")).to_be_checked()
    if phone4:
        page.locator("#phone4").fill(phone4)
    if shots:
        screenshot(page, f"{shots}-ballot-chosen")
    page.locator("form button[type=submit]").last.tap()
    expect(page.locator("input[name=confirm][value=yes]")).to_have_count(1)
    for number, answer in answers.items():
        expect(page.locator(f"input[type=hidden][name=q{number}]").first).to_have_value(answer)
    if shots:
        screenshot(page, f"{shots}-confirm")
    page.locator("form:has(input[name=confirm]) button[type=submit]").tap()
    expect(page.locator("#receipt")).to_be_visible()
    assert page.url == link, "the vote is recorded with a redirect back to the ballot link"
    if shots:
        screenshot(page, f"{shots}-receipt")
    code = receipt_text(page)
    assert RECEIPT.match(code), code
    return code
