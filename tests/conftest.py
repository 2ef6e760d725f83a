"""Shared fixtures (flaskr style: app, client, runner; and `world`).

The database under test is SQLite in a temporary file, or PostgreSQL when
`TEST_DATABASE_URL` is set (`make test` runs the suite both ways). Each test gets an
empty, migrated database.

Fixtures only: the configuration lives in tests/helpers.py (TEST_CONFIG, CHEAP_HASH,
postgres_url) and the builders in tests/factories.py, so no test module needs to import
this file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

from residents_vote import create_app
from tests import factories
from tests.helpers import TEST_CONFIG, postgres_url

settings.register_profile("ci", max_examples=40, deadline=None)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    base = postgres_url()
    if not base:
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Iterator[str]:
    """One database migrated to head per session; each test gets a copy of it.

    Copying a file (SQLite) or `CREATE DATABASE … TEMPLATE` (PostgreSQL) is much cheaper
    than running every migration again for every test.
    """
    from residents_vote.cli import upgrade_database

    base = postgres_url()
    if base:
        name = "tpl_" + uuid.uuid4().hex[:12]
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.sqlite3'}"
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    upgrade_database(app)
    app.extensions["rv_db"].engine.dispose()
    try:
        yield url
    finally:
        if base:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture
def migrated_url(migrated_template, tmp_path) -> Iterator[str]:
    """A fresh database already at the latest migration."""
    base = postgres_url()
    if not base:
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(migrated_template[len("sqlite:///") :], target)
        yield f"sqlite:///{target}"
        return
    name = "t_" + uuid.uuid4().hex[:12]
    template = migrated_template.rsplit("/", 1)[1]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def app(migrated_url):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": migrated_url})
    yield app
    app.extensions["rv_db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def world(app) -> factories.World:
    """The usual start (factories.voting_world): community hx with three households,
    staff1, an open two-question vote and a ballot for every household."""
    return factories.voting_world(app)
