"""Benchmark: importing a 5,000-household register (CSV and XLSX), service and web page.

Run by hand: `.venv/bin/python bench/register_import.py [--rows 5000]`. Prints seconds
for parse, first import (all added), re-import (all unchanged) and the staff web upload
(preview + confirm), each on a fresh SQLite file database.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from residents_vote import create_app  # noqa: E402
from residents_vote.cli import upgrade_database  # noqa: E402
from residents_vote.db import write_session  # noqa: E402
from residents_vote.domain.register import RegisterRow  # noqa: E402
from residents_vote.services import communities, households, register_io, users  # noqa: E402


def make_rows(n: int) -> list[RegisterRow]:
    rows = []
    for i in range(n):
        building, unit, room = str(i // 500 + 1), str(i // 100 % 5 + 1), str(101 + i % 100)
        code = f"{building}-{unit}-{room}"
        rows.append(
            RegisterRow(
                i + 2,
                building,
                unit,
                room,
                code,
                5000 + (i * 37) % 9000,
                f"业主{i}",
                f"P{i // 2}",
                f"138{i:08d}",
            )
        )
    return rows


def app_for(tmp: Path, name: str):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key-0123456789",
            "DATABASE_URL": f"sqlite:///{tmp / name}",
            "PASSWORD_HASH": "pbkdf2:sha256:1000",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )
    upgrade_database(app)
    with app.app_context(), write_session(app.extensions["rv_db"].factory) as s:
        communities.create_community(s, "bench", "基准小区")
        users.create_user(s, "staff", "bench-password", "staff", ["bench"])
    return app


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    rows = make_rows(args.rows)
    files = {"csv": register_io.write_csv(rows), "xlsx": register_io.write_xlsx(rows)}
    print(f"register import benchmark: {args.rows} households")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, data in files.items():
            name = f"register.{fmt}"
            t_parse, parsed = timed(lambda: households.parse_file(name, data))  # noqa: B023
            app = app_for(Path(tmp), f"{fmt}-service.sqlite3")

            def run_import(app=app, parsed=parsed):
                with app.app_context(), write_session(app.extensions["rv_db"].factory) as s:
                    c = communities.get_by_slug(s, "bench")
                    return households.import_rows(s, c, parsed).line()

            t_first, first = timed(run_import)
            t_again, again = timed(run_import)
            web = app_for(Path(tmp), f"{fmt}-web.sqlite3")
            client = web.test_client()
            client.post("/login", data={"username": "staff", "password": "bench-password"})

            def upload(client=client, data=data, name=name):
                import io

                preview = client.post(
                    "/staff/c/bench/import",
                    data={"file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data",
                )
                fields = dict(
                    re.findall(
                        r'name="(\w+)" type="hidden" value="([^"]*)"',
                        preview.get_data(as_text=True),
                    )
                )
                done = client.post("/staff/c/bench/import/confirm", data=fields)
                return preview.status_code, done.status_code

            t_web, statuses = timed(upload)
            print(
                f"{fmt:5} {len(data) / 1024:7.0f} KiB  parse {t_parse:6.3f} s  "
                f"import {t_first:6.3f} s ({first})  re-import {t_again:6.3f} s ({again})  "
                f"web upload+confirm {t_web:6.3f} s (HTTP {statuses[0]}, {statuses[1]})"
            )


if __name__ == "__main__":
    main()
