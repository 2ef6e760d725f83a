"""Resident pages stay light: cheap phones on slow mobile data, often inside WeChat.

The ballot page's HTML plus every stylesheet it loads is under 30 KB uncompressed; no
resident page carries a script or loads anything from another origin (no CDN, no web
font, no analytics). The browser suite checks the same thing on the wire.
"""

from __future__ import annotations

import csv
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from residents_vote.models import Proposal

from .helpers import forms, read

BUDGET = 30 * 1024
BODY = (
    "本方案包括：屋面防水、楼道整治、小区道路、雨污分流、安防监控与 3 栋加装电梯。"
    "工程总预算与政府以奖代补资金见下表，业主分摊按专有部分面积计算。"
)
QUESTIONS = (
    "是否同意《幸福里小区老旧小区改造设计方案》？",
    "是否同意本方案的资金筹集方案（居民按专有部分面积分摊）？",
)


class _Resources(HTMLParser):
    """Everything a page would make the browser fetch, plus any script at all."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fetched: list[str] = []
        self.stylesheets: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self.scripts += 1
        if tag == "link" and "stylesheet" in a.get("rel", "").split():
            self.stylesheets.append(a["href"])
        for name in ("src", "srcset", "poster", "data"):
            if a.get(name):
                self.fetched.append(a[name])
        if tag == "link" and a.get("href"):
            self.fetched.append(a["href"])
        if any(name.startswith("on") for name in a):
            self.scripts += 1  # inline event handlers are scripts too


def resources(html: str) -> _Resources:
    parser = _Resources()
    parser.feed(html)
    return parser


def _cli(runner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def resident_pages(app, client, runner, tmp_path) -> dict[str, str]:
    """The HTML of every resident page: ballot, confirm, voted, public pages, receipt."""
    register = tmp_path / "register.csv"
    register.write_text(
        "楼栋,单元,房号,专有部分面积,业主姓名\n1,1,101,87.65,张秀英\n1,1,102,92.10,李建国\n",
        encoding="utf-8",
    )
    office = "幸福里社区居委会（幸福路 12 号一楼），工作日 9:00–17:00"
    _cli(runner, "community", "create", "w", "--name", "幸福里小区", "--office", office)
    _cli(runner, "households", "import", "w", str(register))
    args = ["proposal", "create", "w", "--title", "幸福里小区老旧小区改造方案表决"]
    args += ["--stage", "design", "--body", BODY]
    for q in QUESTIONS:
        args += ["--question", q]
    proposal_id = _cli(runner, *args).strip().splitlines()[-1]
    _cli(runner, "proposal", "open", proposal_id)
    links = tmp_path / "links.csv"
    _cli(runner, "ballots", "issue", proposal_id, "--pdf", str(tmp_path / "b.pdf"),
         "--links", str(links))  # fmt: skip
    with links.open(encoding="utf-8") as fh:
        paths = [urlsplit(row["url"]).path for row in csv.DictReader(fh)]
    with read(app) as s:
        public = "/r/" + s.scalar(select(Proposal.public_id).where(Proposal.id == int(proposal_id)))

    pages = {"ballot": client.get(paths[0]).get_data(as_text=True)}
    token = forms(pages["ballot"])[-1]["fields"]["csrf_token"]
    answers = {"csrf_token": token, "q1": "agree", "q2": "oppose"}
    pages["confirm"] = client.post(paths[0], data=answers).get_data(as_text=True)
    pages["public-voting"] = client.get(public).get_data(as_text=True)
    voted = client.post(paths[0], data={**answers, "confirm": "yes"}, follow_redirects=True)
    pages["voted"] = voted.get_data(as_text=True)
    client.post(paths[1], data={**answers, "confirm": "yes"})
    _cli(runner, "proposal", "close", proposal_id)
    pages["public-result"] = client.get(public).get_data(as_text=True)
    pages["receipt"] = client.get(public + "/receipt").get_data(as_text=True)
    for name, html in pages.items():
        assert "<html" in html, name
    return pages


def test_ballot_page_html_and_css_under_30_kb(client, resident_pages):
    html = resident_pages["ballot"]
    sheets = resources(html).stylesheets
    assert sheets, "the ballot page links its stylesheet"
    css = sum(len(client.get(urlsplit(href).path).get_data()) for href in sheets)
    total = len(html.encode("utf-8")) + css
    print(f"ballot page: {len(html.encode())} bytes HTML + {css} bytes CSS = {total} bytes")
    assert total < BUDGET, f"ballot page weighs {total} bytes (HTML + CSS), budget {BUDGET}"


def test_resident_pages_load_no_script_and_nothing_from_elsewhere(resident_pages):
    for name, html in resident_pages.items():
        found = resources(html)
        assert found.scripts == 0, f"{name} carries a script"
        foreign = [url for url in found.fetched if urlsplit(url).netloc or url.startswith("//")]
        assert not foreign, f"{name} loads from another origin: {foreign}"


def test_stylesheet_has_no_imports_or_remote_fonts():
    css = (Path(__file__).resolve().parents[1] / "static" / "style.css").read_text()
    assert "@import" not in css
    assert "url(" not in css, "no web fonts or background images: system fonts only"
