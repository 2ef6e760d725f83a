"""Security headers, cookies, limits and uploads (issue 8).

CSP without 'unsafe-inline' or other origins on every answer (and pages that need
nothing more), nosniff everywhere, no-referrer and no-store on ballot and receipt pages,
no-store on staff pages; cookie flags; the 429 and 413 pages; the weak-key refusal;
uploads checked by content, not by the client's word.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest

from residents_vote import create_app
from residents_vote.models import Attachment, Vote
from tests.factories import ADMIN, STAFF_A, TwoCommunities, rules, two_communities, url_for_rule
from tests.helpers import count, csrf_token, login
from tests.loadlib import ROOT

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64


def sign_in(app, who: str):
    client = app.test_client()
    name = {ADMIN: "boss", STAFF_A: "staff_a"}.get(who, who)
    assert login(client, name).status_code == 303
    return client


# --- CSP and friends on every answer ---------------------------------------------------------


class InlineFinder(HTMLParser):
    """What a strict CSP would block: inline scripts and styles, handlers, other origins."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and not a.get("src"):
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> handler")
            if name == "style":
                self.problems.append(f"<{tag} style=…>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL in <{tag}>")
            if (name in ("src", "action") or (tag == "link" and name == "href")) and re.match(
                r"(?i)\s*(https?:)?//", value or ""
            ):
                self.problems.append(f"<{tag} {name}={value}> loads from another origin")


def inline_problems(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.problems


def check_csp(csp: str) -> list[str]:
    problems = []
    directives = {d.strip().split()[0]: d.strip().split()[1:] for d in csp.split(";") if d.strip()}
    if directives.get("default-src") != ["'self'"]:
        problems.append("default-src is not 'self'")
    for name in ("script-src", "style-src"):
        if directives.get(name, directives.get("default-src")) != ["'self'"]:
            problems.append(f"{name} is not 'self'")
    for name in ("object-src", "base-uri", "frame-ancestors"):
        if directives.get(name) != ["'none'"]:
            problems.append(f"{name} is not 'none'")
    for name, sources in directives.items():
        for source in sources:
            if source in ("'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"):
                problems.append(f"{name} allows {source}")
            elif "." in source or "://" in source:
                problems.append(f"{name} allows the origin {source}")
    return problems


def answers_of_every_page(app, world: TwoCommunities):
    """(label, response) for every GET rule, seen by an admin and anonymously, plus errors."""
    admin = sign_in(app, ADMIN)
    anon = app.test_client()
    for rule in rules(app):
        if "GET" not in rule.methods:
            continue
        path = url_for_rule(rule, world)
        yield f"admin GET {path}", admin.get(path)
        yield f"anon GET {path}", anon.get(path)
    yield "404", anon.get("/no/such/page")
    yield "405", anon.post("/healthz")
    yield "400 csrf", anon.post(f"/b/{world.token}", data={})
    yield "ballot 404", anon.get("/b/not-a-token")
    yield "ballot 410", anon.get(f"/b/{world.revoked_token}")


def test_every_answer_carries_strict_csp_and_nosniff(app):
    world = two_communities(app)
    failures = []
    pages = 0
    for label, response in answers_of_every_page(app, world):
        h = response.headers
        csp = h.get("Content-Security-Policy", "")
        failures += [f"{label}: {p}" for p in check_csp(csp)] if csp else [f"{label}: no CSP"]
        if h.get("X-Content-Type-Options") != "nosniff":
            failures.append(f"{label}: no nosniff")
        if h.get("X-Frame-Options") != "DENY":
            failures.append(f"{label}: framing allowed")
        if response.mimetype == "text/html":
            pages += 1
            html = response.get_data(as_text=True)
            failures += [f"{label}: {p}" for p in inline_problems(html)]
    assert pages > 20
    assert not failures, "\n".join(failures)


def test_static_files_need_no_inline_allowance():
    """No template or static file relies on inline script/style (CSP would block it)."""
    failures = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for problem in inline_problems(re.sub(r"{[{%#].*?[%}#]}", "x", text, flags=re.S)):
            failures.append(f"{path.relative_to(ROOT)}: {problem}")
    assert not failures, "\n".join(failures)


# --- ballot, receipt and staff pages: no referrer, no caching --------------------------------


def _ballot_answers(app, world: TwoCommunities):
    client = app.test_client()
    page = client.get(f"/b/{world.token}")
    token = csrf_token(page.get_data(as_text=True))
    form = {"csrf_token": token, "q1": "agree", "q2": "abstain"}
    yield "ballot", page
    yield "confirm", client.post(f"/b/{world.token}", data=form)
    yield "422", client.post(f"/b/{world.token}", data={"csrf_token": token})
    yield "303", client.post(f"/b/{world.token}", data={**form, "confirm": "yes"})
    yield "receipt page", client.get(f"/b/{world.token}")
    yield "409", client.post(f"/b/{world.token}", data={**form, "confirm": "yes"})
    yield "voted", client.get(f"/b/{world.voted_token}")
    yield "404", client.get("/b/unknown-token-123")
    yield "410", client.get(f"/b/{world.revoked_token}")
    yield "410 post", client.post(f"/b/{world.revoked_token}", data=form)
    yield "public receipt", client.get(f"/r/{world.closed_public}/receipt")
    yield "receipt lookup", client.get(f"/r/{world.open_public}/receipt?code={world.receipt}")
    yield "receipt unknown", client.get(f"/r/{world.closed_public}/receipt?code=AAAA-BBBB")


def test_ballot_and_receipt_pages_send_no_referrer_and_are_not_stored(app):
    world = two_communities(app)
    seen = set()
    for label, response in _ballot_answers(app, world):
        seen.add(response.status_code)
        assert response.headers.get("Referrer-Policy") == "no-referrer", label
        assert response.headers.get("Cache-Control") == "no-store", label
    assert {200, 303, 404, 409, 410, 422} <= seen


def test_staff_and_login_pages_are_not_stored(app):
    world = two_communities(app)
    client = sign_in(app, STAFF_A)
    for path in (
        "/login",
        "/staff/",
        "/staff/c/a",
        "/staff/c/a/export.csv",
        "/staff/c/a/export.xlsx",
        f"/staff/proposals/{world.closed_id}",
        f"/staff/proposals/{world.open_id}/paper",
        "/committee/",
        "/staff/c/b",  # 404 of a signed-in area
    ):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert response.headers.get("Cache-Control") == "no-store", path
        assert response.headers.get("Referrer-Policy") == "no-referrer", path


def test_downloads_are_not_sniffed(app):
    world = two_communities(app)
    client = sign_in(app, STAFF_A)
    for path in (
        "/staff/c/a/export.csv",
        "/staff/c/a/export.xlsx",
        f"/r/{world.closed_public}/notice.pdf",
        f"/r/{world.closed_public}.json",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype != "text/html"


# --- cookies -------------------------------------------------------------------------------


def _set_cookies(response) -> dict[str, str]:
    return {v.split("=", 1)[0]: v for v in response.headers.getlist("Set-Cookie") if "=" in v}


def test_session_cookie_is_httponly_and_samesite(app):
    world = two_communities(app)
    client = app.test_client()
    cookie = _set_cookies(client.get(f"/b/{world.token}"))["session"]
    assert "HttpOnly" in cookie
    assert re.search(r"SameSite=(Lax|Strict)", cookie)
    assert "Secure" not in cookie  # plain HTTP unless SESSION_COOKIE_SECURE=1
    lang = _set_cookies(client.get("/?lang=en"))["lang"]
    assert "HttpOnly" in lang and "SameSite=Lax" in lang


def test_session_cookie_secure_behind_https(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    app = _app(database_url)
    client = app.test_client()
    response = client.get("/login?lang=en")
    cookies = _set_cookies(response)
    assert "Secure" in cookies["session"] and "HttpOnly" in cookies["session"]
    assert "Secure" in cookies["lang"]


def _app(database_url: str, **config):
    from residents_vote.cli import upgrade_database

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DATABASE_URL": database_url,
            "PASSWORD_HASH": "pbkdf2:sha256:1000",
            "BASE_URL": "http://localhost",
            **config,
        }
    )
    upgrade_database(app)
    return app


# --- rate limits: failures only, and a clear 429 -------------------------------------------


@pytest.fixture
def limited_app(database_url):
    app = _app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    from residents_vote.extensions import limiter

    with app.app_context():
        limiter.reset()
    yield app
    app.extensions["rv_db"].engine.dispose()


def test_429_page_is_clear_and_valid_ballots_still_work(limited_app):
    app = limited_app
    world = two_communities(app)
    client = app.test_client()
    statuses = [client.get(f"/b/guess-{n:04d}?lang=en").status_code for n in range(31)]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429
    page = client.get("/b/guess-9999?lang=en")
    assert page.status_code == 429
    text = page.get_data(as_text=True)
    assert "Too many failed attempts" in text and "wait" in text
    assert page.headers.get("Retry-After", "").isdigit()
    assert page.headers["Cache-Control"] == "no-store"
    zh = client.get("/b/guess-9998?lang=zh_CN").get_data(as_text=True)
    assert "失败次数太多" in zh
    # Thousands of residents share one carrier address: a valid ballot is never refused.
    assert client.get(f"/b/{world.token}").status_code == 200
    token = csrf_token(client.get(f"/b/{world.token}").get_data(as_text=True))
    answer = {"csrf_token": token, "q1": "agree", "q2": "agree", "confirm": "yes"}
    assert client.post(f"/b/{world.token}", data=answer).status_code == 303


def test_failed_logins_are_limited_but_not_successful_ones(limited_app):
    app = limited_app
    two_communities(app)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    wrong = {"csrf_token": token, "username": "staff_a", "password": "wrong password"}
    statuses = [client.post("/login?lang=en", data=wrong).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    assert "Too many failed attempts" in client.post("/login?lang=en", data=wrong).get_data(
        as_text=True
    )


def test_receipt_guessing_is_limited(limited_app):
    app = limited_app
    world = two_communities(app)
    client = app.test_client()
    url = f"/r/{world.closed_public}/receipt?code="
    statuses = [client.get(url + f"AAAA-{n:04d}").status_code for n in range(61)]
    assert statuses[:60] == [404] * 60 and statuses[60] == 429  # 60 per 15 minutes


# --- the signing key ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "dev",
        "changeme",
        "short-key",
        " " * 32,
        "a" * 40,
        "abababababababababab",
        "secretsecretsecret",
    ],
)
def test_weak_secret_key_refuses_to_start(key, tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})


def test_strong_or_generated_secret_key_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k3P9x-Qm2Lr7vW8zT1nB")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    assert not app.testing
    app.extensions["rv_db"].engine.dispose()


# --- uploads -----------------------------------------------------------------------------------


def test_body_over_max_content_length_is_a_clear_413(app):
    world = two_communities(app)
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    anon = app.test_client()
    response = anon.post(
        f"/b/{world.token}?lang=en",
        data=big,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)
    staff = sign_in(app, STAFF_A)
    token = csrf_token(staff.get("/staff/c/a").get_data(as_text=True))
    response = staff.post(
        "/staff/c/a/import?lang=en",
        data={"csrf_token": token, "file": (io.BytesIO(big), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)


def _paper_form(
    staff, world: TwoCommunities, household: str, scan: tuple[bytes, str] | None
) -> dict:
    page = staff.get(f"/staff/proposals/{world.open_id}/paper").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page),
        "household": household,
        "channel": "paper",
        "q1": "agree",
        "q2": "oppose",
    }
    if scan:
        data["scan"] = (io.BytesIO(scan[0]), scan[1])
    return data


@pytest.mark.parametrize(
    "content, name",
    [
        (b"<html><script>alert(1)</script></html>", "scan.pdf"),
        (b"MZ\x90\x00executable", "scan.jpg"),
        (b"GIF89a" + b"\0" * 20, "scan.gif"),
        (b"%PD", "scan.pdf"),
        (b"", "empty.png"),
    ],
)
def test_evidence_upload_refuses_what_is_not_pdf_png_jpeg(app, content, name):
    world = two_communities(app)
    staff = sign_in(app, STAFF_A)
    before = count(app, Vote), count(app, Attachment)
    data = _paper_form(staff, world, "2-1-101", (content, name))
    response = staff.post(
        f"/staff/proposals/{world.open_id}/paper", data=data, content_type="multipart/form-data"
    )
    assert 400 <= response.status_code < 500
    # the whole entry is refused, not half-recorded
    assert (count(app, Vote), count(app, Attachment)) == before


@pytest.mark.parametrize("content", [PDF, PNG, JPEG])
def test_evidence_upload_accepts_pdf_png_jpeg_by_content(app, content):
    world = two_communities(app)
    staff = sign_in(app, STAFF_A)
    before = count(app, Attachment)
    data = _paper_form(staff, world, "2-1-101", (content, "scan.bin"))
    response = staff.post(
        f"/staff/proposals/{world.open_id}/paper", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    assert count(app, Attachment) == before + 1


@pytest.mark.parametrize(
    "name, content",
    [
        ("register.txt", b"building,room,area\n1,101,50\n"),
        ("register.csv.exe", b"building,room,area\n1,101,50\n"),
        ("register.html", b"<script>alert(1)</script>"),
        ("register", b"building,room,area\n1,101,50\n"),
    ],
)
def test_register_upload_only_csv_or_xlsx(app, name, content):
    two_communities(app)
    staff = sign_in(app, STAFF_A)
    token = csrf_token(staff.get("/staff/c/a").get_data(as_text=True))
    response = staff.post(
        "/staff/c/a/import",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert 'name="payload"' not in response.get_data(as_text=True)  # nothing to confirm


@pytest.mark.parametrize(
    "name, content",
    [
        ("register.xlsx", b"building,room,area\n1,101,50\n"),  # not a zip
        ("register.xlsx", b"PK\x03\x04" + b"\0" * 100),  # a broken zip
        ("register.csv", b"\xff\xfe\x00b\x00u\x00i"),  # UTF-16
        ("register.csv", b""),
    ],
)
def test_register_upload_of_a_bad_file_is_422_not_500(app, name, content):
    two_communities(app)
    staff = sign_in(app, STAFF_A)
    token = csrf_token(staff.get("/staff/c/a").get_data(as_text=True))
    response = staff.post(
        "/staff/c/a/import",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422


# --- behind a reverse proxy --------------------------------------------------------------------


def test_forwarded_headers_ignored_unless_proxy_fix(database_url, monkeypatch):
    monkeypatch.delenv("PROXY_FIX", raising=False)
    app = _app(database_url)
    with app.test_request_context(
        "/", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    ):
        from flask import request

        # direct exposure: a client must not choose its own rate-limit identity
        assert request.remote_addr != "203.0.113.9"


def test_proxy_fix_trusts_one_proxy(database_url, monkeypatch):
    from werkzeug.middleware.proxy_fix import ProxyFix

    monkeypatch.setenv("PROXY_FIX", "1")
    app = _app(database_url)
    assert isinstance(app.wsgi_app, ProxyFix)
    seen = {}

    def probe(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    app.wsgi_app.app = probe
    response = app.test_client().get(
        "/",
        headers={
            "X-Forwarded-For": "198.51.100.7, 203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "vote.example.gov.cn",
        },
    )
    assert response.status_code == 200
    assert seen["REMOTE_ADDR"] == "203.0.113.9"  # what our one proxy saw, not a spoofed hop
    assert seen["wsgi.url_scheme"] == "https"
    assert seen["HTTP_HOST"] == "vote.example.gov.cn"


@pytest.mark.parametrize("proxy_fix", ["0", "1"])
def test_failure_limit_per_client_behind_the_proxy(database_url, monkeypatch, proxy_fix):
    """Behind the proxy (PROXY_FIX=1) one client's failures do not lock out the others;
    without it, X-Forwarded-For is not believed (a client cannot pick a fresh identity)."""
    monkeypatch.setenv("PROXY_FIX", proxy_fix)
    app = _app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    from residents_vote.extensions import limiter

    with app.app_context():
        limiter.reset()
    client = app.test_client()
    for n in range(31):
        client.get(f"/b/guess-{n}", headers={"X-Forwarded-For": "198.51.100.7"})
    other = client.get("/b/guess-x", headers={"X-Forwarded-For": "198.51.100.8"})
    assert other.status_code == (404 if proxy_fix == "1" else 429)


# --- logs ----------------------------------------------------------------------------------


def test_log_filter_masks_ballot_tokens_and_receipt_codes():
    """A logged ballot link is a usable ballot; a logged receipt code shows a household's
    answers. Neither reaches the development server's log (gunicorn: tests/test_load.py)."""
    import logging

    from residents_vote.web import TokenMaskingFilter

    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - "%s" %s',
        (
            "127.0.0.1",
            "GET /b/AbC-12_xyZ?lang=en HTTP/1.1 /r/pub/receipt?lang=en&code=AB12-CD34-EF56",
            "200",
        ),
        None,
    )
    TokenMaskingFilter().filter(record)
    line = record.getMessage()
    assert "AbC-12_xyZ" not in line and "/b/…" in line
    assert "AB12-CD34-EF56" not in line and "code=…" in line
    assert "lang=en" in line


def test_posting_photo_and_plan_uploads_are_sniffed(app):
    """The notice photo accepts PDF/PNG/JPEG by content; the design plan only a PDF."""
    from residents_vote.models import NoticePosting
    from residents_vote.services import communities, proposals
    from tests.helpers import write

    world = two_communities(app)
    staff = sign_in(app, STAFF_A)
    url = f"/staff/proposals/{world.closed_id}/postings"
    token = csrf_token(staff.get(url).get_data(as_text=True))
    before = count(app, NoticePosting), count(app, Attachment)
    form = {
        "csrf_token": token,
        "stage": "notice",
        "place": "2号楼公告栏",
        "posted_at": "",
        "photo": (io.BytesIO(b"<svg onload=alert(1)>"), "photo.png"),
    }
    response = staff.post(url, data=form, content_type="multipart/form-data")
    assert response.status_code == 422
    assert (count(app, NoticePosting), count(app, Attachment)) == before

    with write(app) as s:
        draft = proposals.create(
            s,
            communities.get_by_slug(s, "a"),
            proposals.Draft(title="设计方案", stage="design", questions=["同意吗"]),
            actor="t",
        )
        draft_id = draft.id
    page = staff.get(f"/staff/proposals/{draft_id}").get_data(as_text=True)
    before = count(app, Attachment)
    for content, status in ((PNG, 303), (PDF, 303)):
        response = staff.post(
            f"/staff/proposals/{draft_id}/plan",
            data={"csrf_token": csrf_token(page), "plan": (io.BytesIO(content), "plan.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == status
    # the PNG was refused (a flash message), the PDF kept
    assert count(app, Attachment) == before + 1


def test_deploy_guide_covers_the_multi_server_settings():
    """docs/deploy.md: the memory:// limiter is per process; the settings a city needs."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    for needed in (
        "RATELIMIT_STORAGE_URI",
        "memory://",
        "SESSION_COOKIE_SECURE",
        "PROXY_FIX",
        "SECRET_KEY",
        "postgresql+psycopg://",
        "'app:create_app()'",
        "-c gunicorn.conf.py",
    ):
        assert needed in text, needed
    assert re.search(r"per[- ]process", text)
