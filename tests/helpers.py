"""Helpers shared by the HTTP, CLI and service tests (not fixtures: plain functions).

Everything here goes through the public surface (services, CLI, pages) or reads the
database directly; nothing patches application code.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from residents_vote import db as dbmod
from residents_vote.models import AuditEvent, Community, Household, User

PASSWORD = "correct horse battery"
EXPORT_HEADER_LINE = "楼栋,单元,房号,专有部分面积,业主姓名,业主标识,电话"


# --- sample files -----------------------------------------------------------------


def shared_data() -> Path:
    """The sample registers (/work/shared/data), located like tests/unit/test_register.py."""
    override = os.environ.get("RV_SHARED_DATA")
    path = Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared sample data not found at {path}")
    return path


def sample(name: str) -> Path:
    path = shared_data() / name
    if not path.is_file():
        pytest.skip(f"sample file {path} missing")
    return path


# --- database access ------------------------------------------------------------------


def engine(app: Flask):
    return app.extensions["rv_db"].engine


@contextlib.contextmanager
def read(app: Flask) -> Iterator[Session]:
    """A fresh read session on the app's database (no app context needed).

    Deferred BEGIN even if some earlier code left the write intent set, so a read held
    open here never takes SQLite's write lock.
    """
    token = dbmod.set_write_intent(False)
    try:
        with app.extensions["rv_db"].factory() as session:
            yield session
    finally:
        dbmod.reset_write_intent(token)


@contextlib.contextmanager
def write(app: Flask) -> Iterator[Session]:
    """A committed write transaction inside an app context (services need current_app)."""
    with app.app_context(), dbmod.write_session(app.extensions["rv_db"].factory) as session:
        yield session


def count(app: Flask, model, *where) -> int:
    with read(app) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def households_of(app: Flask, slug: str, *, active_only: bool = False) -> list[Household]:
    with read(app) as s:
        stmt = select(Household).join(Community).where(Community.slug == slug)
        if active_only:
            stmt = stmt.where(Household.removed_at.is_(None))
        return list(s.scalars(stmt.order_by(Household.id)))


def snapshot(app: Flask) -> dict[str, object]:
    """Row counts plus every household's fields: compare before/after a refused command."""
    with read(app) as s:
        rows = s.execute(
            select(
                Household.community_id,
                Household.code,
                Household.area,
                Household.owner_name,
                Household.owner_key,
                Household.phone,
                Household.removed_at,
            ).order_by(Household.community_id, Household.code)
        ).all()
        return {
            "communities": s.scalar(select(func.count()).select_from(Community)),
            "users": s.scalar(select(func.count()).select_from(User)),
            "audit": s.scalar(select(func.count()).select_from(AuditEvent)),
            "households": [tuple(r) for r in rows],
        }


def make_community(app: Flask, slug: str, name: str | None = None) -> int:
    from residents_vote.services import communities

    with write(app) as s:
        return communities.create_community(s, slug, name or f"小区 {slug}").id


def make_user(
    app: Flask,
    username: str,
    role: str,
    slugs: tuple[str, ...] | list[str] = (),
    *,
    password: str = PASSWORD,
    active: bool = True,
) -> int:
    from residents_vote.services import users

    with write(app) as s:
        user = users.create_user(s, username, password, role, list(slugs))
        if not active:
            users.set_active(s, user, False, actor="test")
        return user.id


# --- HTML forms --------------------------------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")


def forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_fields(html: str, action: str | None = None) -> dict[str, str]:
    """The <input> values of the first form (or the first whose action ends with `action`)."""
    for form in forms(html):
        if action is None or form["action"].split("?")[0].endswith(action):
            return dict(form["fields"])
    raise AssertionError(f"no form with action {action!r} in page")


def csrf_token(html: str, action: str | None = None) -> str:
    token = form_fields(html, action).get("csrf_token")
    assert token, "form has no csrf_token field"
    return token


def login(client, username: str, password: str = PASSWORD, next_url: str | None = None):
    """GET the login form, then POST it with its CSRF token; returns the POST response."""
    page = client.get("/login")
    assert page.status_code == 200
    url = "/login" if next_url is None else "/login?" + _query({"next": next_url})
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "username": username,
            "password": password,
        },
    )


def _query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


# --- printed documents in Chinese (the paper ballot's words go through the catalog) ----


@contextlib.contextmanager
def chinese_documents(tmp_dir: Path) -> Iterator[None]:
    """Render PDFs as services/printing.py does: under force_locale("zh_CN").

    Compiles the Chinese catalog into tmp_dir (not relying on `make translations`) and
    pushes a bare Flask app with Flask-Babel pointing there.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from flask_babel import Babel, force_locale

    root = Path(__file__).resolve().parents[1]
    po = root / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    mo = tmp_dir / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True, exist_ok=True)
    with po.open("rb") as src, mo.open("wb") as dst:
        write_mo(dst, read_po(src, locale="zh_Hans_CN"), use_fuzzy=False)
    app = Flask("chinese_documents")
    Babel(app, default_translation_directories=str(tmp_dir))
    with app.app_context(), force_locale("zh_CN"):
        yield
