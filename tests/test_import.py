"""`households import` / `households export` (CONTRACT.md "Command line" and
"Household register file"), plus the staff register page after `--remove-missing`."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from residents_vote.models import Community, Household
from tests.helpers import (
    EXPORT_HEADER_LINE,
    count,
    households_of,
    login,
    make_user,
    read,
    refused,
    sample,
    snapshot,
)

SAMPLES = ["register-403-gbk.csv", "register-403-utf8.csv", "register-403.xlsx"]
TOTAL_AREA = 6678397  # 66,783.97 m² in hundredths (shared/data/README.md)
ERROR_LINE = re.compile(r"^row (\d+), column (.+?): (.+)$")


@pytest.fixture
def hx(runner):
    result = runner.invoke(args=["community", "create", "hx", "--name", "幸福里"])
    assert result.exit_code == 0, result.output
    return "hx"


def imp(runner, slug, path, *flags):
    return runner.invoke(args=["households", "import", slug, str(path), *flags])


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout.strip()


def utf8_lines() -> list[str]:
    return sample("register-403-utf8.csv").read_text(encoding="utf-8").splitlines()


def write_lines(path, lines: list[str]):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- import ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_import_each_sample_file(runner, app, hx, name):
    path = sample(name)
    assert ok(imp(runner, hx, path)) == "added 403, updated 0, unchanged 0"
    with read(app) as s:
        n, area, owners = s.execute(
            select(
                func.count(Household.id),
                func.sum(Household.area),
                func.count(func.distinct(Household.owner_key)),
            )
        ).one()
    assert (n, area, owners) == (403, TOTAL_AREA, 396)
    assert ok(imp(runner, hx, path)) == "added 0, updated 0, unchanged 403"


def test_the_three_samples_hold_the_same_rows(runner, hx):
    assert ok(imp(runner, hx, sample("register-403-gbk.csv"))).startswith("added 403")
    for name in ("register-403-utf8.csv", "register-403.xlsx"):
        assert ok(imp(runner, hx, sample(name))) == "added 0, updated 0, unchanged 403", name


def test_gbk_chinese_text_is_decoded(runner, app, hx):
    ok(imp(runner, hx, sample("register-403-gbk.csv")))
    first = utf8_lines()[1].split(",")  # building,unit,room,area,owner_name,owner_key,phone
    code = f"{first[0]}-{first[1]}-{first[2]}"
    with read(app) as s:
        h = s.scalar(select(Household).where(Household.code == code))
    assert (h.owner_name, h.owner_key, h.phone) == (first[4], first[5], first[6])


def test_dry_run_writes_nothing(runner, app, hx):
    before = snapshot(app)
    out = ok(imp(runner, hx, sample("register-403-gbk.csv"), "--dry-run"))
    assert out == "dry run: added 403, updated 0, unchanged 0"
    assert snapshot(app) == before
    assert count(app, Household) == 0


def test_updated_counts_changed_rows(runner, app, hx, tmp_path):
    ok(imp(runner, hx, sample("register-403-utf8.csv")))
    lines = utf8_lines()
    cells = lines[5].split(",")
    cells[6] = "13900000000"  # new phone
    lines[5] = ",".join(cells)
    changed = write_lines(tmp_path / "changed.csv", lines)
    before = snapshot(app)
    dry = ok(imp(runner, hx, changed, "--dry-run"))
    assert dry == "dry run: added 0, updated 1, unchanged 402"
    assert snapshot(app) == before
    assert ok(imp(runner, hx, changed)) == "added 0, updated 1, unchanged 402"
    code = f"{cells[0]}-{cells[1]}-{cells[2]}"
    with read(app) as s:
        assert s.scalar(select(Household.phone).where(Household.code == code)) == "13900000000"


def test_remove_missing(runner, app, hx, tmp_path):
    ok(imp(runner, hx, sample("register-403-utf8.csv")))
    lines = utf8_lines()
    gone = ["-".join(line.split(",")[:3]) for line in lines[-3:]]
    partial = write_lines(tmp_path / "partial.csv", lines[:-3])
    # Without the flag, absent households are left as they are.
    assert ok(imp(runner, hx, partial)) == "added 0, updated 0, unchanged 400"
    before = snapshot(app)
    dry = ok(imp(runner, hx, partial, "--remove-missing", "--dry-run"))
    assert dry == "dry run: added 0, updated 0, unchanged 400, removed 3"
    assert snapshot(app) == before
    out = ok(imp(runner, hx, partial, "--remove-missing"))
    assert out == "added 0, updated 0, unchanged 400, removed 3"
    rows = {h.code: h for h in households_of(app, hx)}
    assert len(rows) == 403  # still in the database...
    for code in gone:
        assert rows[code].removed_at is not None  # ...marked removed
    assert sum(h.removed_at is None for h in rows.values()) == 400
    # Exports list the live register only.
    export = tmp_path / "after.csv"
    ok(runner.invoke(args=["households", "export", hx, str(export)]))
    exported = list(csv.reader(io.StringIO(export.read_text(encoding="utf-8-sig"))))
    codes = {"-".join(r[:3]) for r in exported[1:]}
    assert len(codes) == 400 and not codes & set(gone)
    # Importing the full file again brings them back.
    assert ok(imp(runner, hx, sample("register-403-utf8.csv"), "--remove-missing")) == (
        "added 3, updated 0, unchanged 400, removed 0"
    )
    assert all(h.removed_at is None for h in households_of(app, hx))


def test_removed_households_leave_the_staff_register_page(runner, app, client, hx, tmp_path):
    ok(imp(runner, hx, sample("register-403-utf8.csv")))
    lines = utf8_lines()
    gone = "-".join(lines[-1].split(",")[:3])
    kept = "-".join(lines[-2].split(",")[:3])
    ok(imp(runner, hx, write_lines(tmp_path / "p.csv", lines[:-1]), "--remove-missing"))
    make_user(app, "wang", "staff", [hx])
    assert login(client, "wang").status_code == 303
    page = client.get(f"/staff/c/{hx}?q={gone}").get_data(as_text=True)
    assert f"<td>{gone}</td>" not in page
    page = client.get(f"/staff/c/{hx}?q={kept}").get_data(as_text=True)
    assert f"<td>{kept}</td>" in page
    assert "<dd>402</dd>" in client.get(f"/staff/c/{hx}").get_data(as_text=True)
    assert count(app, Household) == 403


def test_bad_rows_file_names_every_bad_row_and_writes_nothing(runner, app, hx):
    ok(imp(runner, hx, sample("register-403-utf8.csv")))
    before = snapshot(app)
    result = imp(runner, hx, sample("register-bad-rows.csv"))
    refused(result)
    lines = result.stderr.strip().splitlines()
    parsed = [ERROR_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert sorted(int(m.group(1)) for m in parsed) == [3, 4, 5, 6, 7, 8, 9]
    by_row = {int(m.group(1)): m for m in parsed}
    assert by_row[3].group(2) == "房号"
    assert by_row[5].group(2) == "专有部分面积"
    assert "2" in by_row[7].group(3)  # a duplicate names the earlier row
    assert result.stdout == ""
    assert snapshot(app) == before


def test_last_row_bad_in_403_row_file_writes_nothing(runner, app, hx, tmp_path):
    lines = utf8_lines()
    assert len(lines) == 404
    cells = lines[-1].split(",")
    cells[3] = "abc"
    bad = write_lines(tmp_path / "last-bad.csv", lines[:-1] + [",".join(cells)])
    before = snapshot(app)
    result = imp(runner, hx, bad)
    refused(result)
    problems = result.stderr.strip().splitlines()
    assert len(problems) == 1 and problems[0].startswith("row 404, column area: "), problems
    assert snapshot(app) == before
    assert count(app, Household) == 0


def test_bad_file_leaves_existing_register_untouched(runner, app, hx, tmp_path):
    ok(imp(runner, hx, sample("register-403-utf8.csv")))
    lines = utf8_lines()
    changed = [lines[0]]
    for line in lines[1:]:  # every phone changes, and one new household at the end...
        cells = line.split(",")
        cells[6] = "13000000000"
        changed.append(",".join(cells))
    changed.append("99,1,101,0,新户,,")  # ...which is bad (area 0)
    before = snapshot(app)
    result = imp(runner, hx, write_lines(tmp_path / "mixed.csv", changed))
    refused(result, "row 405, column area:")
    assert snapshot(app) == before


def test_import_refusals(runner, app, hx, tmp_path):
    before = snapshot(app)
    refused(imp(runner, "nowhere", sample("register-403-utf8.csv")), "nowhere")
    refused(imp(runner, hx, tmp_path / "missing.csv"))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    refused(imp(runner, hx, empty))
    no_area = write_lines(tmp_path / "no-area.csv", ["楼栋,房号", "1,101"])
    refused(imp(runner, hx, no_area), "专有部分面积")
    assert snapshot(app) == before


# --- export --------------------------------------------------------------------------------


def test_export_csv_format(runner, app, hx, tmp_path):
    src = write_lines(
        tmp_path / "small.csv",
        [
            "楼栋,单元,房号,面积,业主姓名,业主标识,电话",
            "1,1,101,88.5,张三,,13800000001",
            "1,,102,70,'=HYPERLINK(1),K1,",  # escaped as our export writes it
        ],
    )
    assert ok(imp(runner, hx, src)) == "added 2, updated 0, unchanged 0"
    out = tmp_path / "out.csv"
    assert ok(runner.invoke(args=["households", "export", hx, str(out)]))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert ",".join(rows[0]) == EXPORT_HEADER_LINE
    body = {(r[0], r[1], r[2]): r for r in rows[1:]}
    assert body[("1", "1", "101")][3] == "88.50"
    assert body[("1", "1", "101")][5] == "1-1-101"  # owner key defaults to the code
    assert body[("1", "", "102")][3] == "70.00"
    assert body[("1", "", "102")][4] == "'=HYPERLINK(1)"  # formula neutralised
    assert ok(imp(runner, hx, out)) == "added 0, updated 0, unchanged 2"
    with read(app) as s:
        name = s.scalar(select(Household.owner_name).where(Household.code == "1-102"))
    assert name == "=HYPERLINK(1)"  # exactly one ' stripped on import


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_reimports_unchanged(runner, app, hx, tmp_path, suffix):
    ok(imp(runner, hx, sample("register-403-gbk.csv")))
    out = tmp_path / f"export.{suffix}"
    ok(runner.invoke(args=["households", "export", hx, str(out)]))
    assert ok(imp(runner, hx, out)) == "added 0, updated 0, unchanged 403"
    # And into a fresh community it gives the same register.
    assert runner.invoke(args=["community", "create", "copy", "--name", "副本"]).exit_code == 0
    assert ok(imp(runner, "copy", out)) == "added 403, updated 0, unchanged 0"
    fields = ("code", "area", "owner_name", "owner_key", "phone")

    def rows(slug):
        return sorted(tuple(getattr(h, f) for f in fields) for h in households_of(app, slug))

    assert rows("copy") == rows(hx)


def test_export_xlsx_cells_are_text(runner, hx, tmp_path):
    ok(imp(runner, hx, sample("register-403-utf8.csv")))
    out = tmp_path / "export.xlsx"
    ok(runner.invoke(args=["households", "export", hx, str(out)]))
    sheet = openpyxl.load_workbook(out).worksheets[0]
    rows = list(sheet.iter_rows())
    assert ",".join(c.value for c in rows[0]) == EXPORT_HEADER_LINE
    assert len(rows) == 404
    for row in rows[1:]:
        for cell in row:
            assert cell.data_type == "s" or cell.value is None
        assert re.fullmatch(r"\d+\.\d\d", row[3].value)


def test_export_of_empty_community_is_header_only(runner, hx, tmp_path):
    csv_out, xlsx_out = tmp_path / "e.csv", tmp_path / "e.xlsx"
    ok(runner.invoke(args=["households", "export", hx, str(csv_out)]))
    assert csv_out.read_bytes().decode("utf-8-sig").splitlines() == [EXPORT_HEADER_LINE]
    ok(runner.invoke(args=["households", "export", hx, str(xlsx_out)]))
    rows = list(openpyxl.load_workbook(xlsx_out).worksheets[0].iter_rows(values_only=True))
    assert [",".join(r) for r in rows] == [EXPORT_HEADER_LINE]


def test_export_unknown_community_exits_1(runner, app, tmp_path):
    out = tmp_path / "x.csv"
    refused(runner.invoke(args=["households", "export", "nowhere", str(out)]), "nowhere")
    assert not out.exists()


def test_import_into_one_community_leaves_others_alone(runner, app, hx):
    assert runner.invoke(args=["community", "create", "other", "--name", "别处"]).exit_code == 0
    ok(imp(runner, hx, sample("register-403-utf8.csv")))
    assert ok(imp(runner, "other", sample("register-403-utf8.csv"))).startswith("added 403")
    with read(app) as s:
        ids = dict(s.execute(select(Community.slug, Community.id)).all())
    assert count(app, Household, Household.community_id == ids["other"]) == 403
    assert count(app, Household, Household.community_id == ids[hx]) == 403
