"""Issue 16 items 2-4: districts, the district and city roles, the filing inbox and the
campaign dates (CONTRACT.md "Districts and the filing inbox")."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from residents_vote.models import AuditEvent, Community, District, FilingSubmission, User
from residents_vote.services import districts, filing
from tests.factories import (
    CITY,
    DISTRICT_A,
    DISTRICT_B,
    confirmed,
    district,
    district_user,
    district_world,
    into_district,
)
from tests.helpers import PASSWORD as PASSWORD_OF_TESTS
from tests.helpers import (
    cli,
    count,
    csrf_token,
    html_text,
    login,
    ok,
    read,
    refused,
    status_of,
    write,
)

PASS = "district-pass-9281\n"


def _confirmed_in_district(app, slug: str = "d1") -> int:
    """Proposal of community hx, confirmed, hx in district `slug` (with users d1-user and
    cityuser)."""
    pid = confirmed(app)
    district(app, slug, "城中区")
    into_district(app, "hx", slug)
    district_user(app, f"{slug}-user", slug)
    return pid


def _events(app, action: str) -> list[AuditEvent]:
    with read(app) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- command line ------------------------------------------------------------------------


def test_district_create_and_community_and_users_on_the_command_line(app, runner):
    assert "created district d1" in ok(cli(runner, "district", "create", "d1", "--name", "城中区"))
    refused(cli(runner, "district", "create", "d1", "--name", "again"), "already exists")
    refused(cli(runner, "district", "create", "Bad Slug", "--name", "x"))
    ok(cli(runner, "community", "create", "c1", "--name", "一号小区", "--district", "d1"))
    refused(cli(runner, "community", "create", "c2", "--name", "x", "--district", "nowhere"))
    with read(app) as s:
        c1 = s.scalar(select(Community).where(Community.slug == "c1"))
        d1 = s.scalar(select(District).where(District.slug == "d1"))
        assert c1.district_id == d1.id
        assert s.scalar(select(Community).where(Community.slug == "c2")) is None

    out = runner.invoke(
        args=["user", "create", "du", "--role", "district", "--district", "d1"], input=PASS
    )
    assert "created district du" in ok(out)
    assert "created city cu" in ok(
        runner.invoke(args=["user", "create", "cu", "--role", "city"], input=PASS)
    )
    for args, fragment in (
        (["--role", "district", "--district", "nowhere"], "Unknown district nowhere"),
        (["--role", "district"], "--district"),
        (["--role", "staff", "--district", "d1"], "district"),
        (["--role", "city", "--community", "c1"], "communities"),
    ):
        refused(runner.invoke(args=["user", "create", "x1", *args], input=PASS), fragment)
    with read(app) as s:
        du = s.scalar(select(User).where(User.username == "du"))
        assert (du.role, du.district_id) == ("district", d1.id)
        assert s.scalar(select(User).where(User.username == "x1")) is None


def test_campaign_dates_on_the_command_line(app, runner):
    ok(cli(runner, "district", "create", "d1", "--name", "城中区"))
    out = ok(cli(runner, "district", "targets", "d1", "--application", "2026-03-31"))
    assert "applications by 2026-03-31, design plans by -" in out
    out = ok(cli(runner, "district", "targets", "d1", "--design", "2026-09-30"))
    assert "applications by 2026-03-31, design plans by 2026-09-30" in out  # kept
    refused(cli(runner, "district", "targets", "d1", "--design", "30.9.2026"), "YYYY-MM-DD")
    refused(cli(runner, "district", "targets", "nowhere", "--design", "2026-09-30"), "nowhere")
    with read(app) as s:
        d1 = s.scalar(select(District).where(District.slug == "d1"))
        assert (d1.application_by, d1.design_by) == (dt.date(2026, 3, 31), dt.date(2026, 9, 30))
    assert len(_events(app, "district.targets")) == 2


def test_submit_accept_on_the_command_line(app, runner):
    pid = _confirmed_in_district(app)
    refused(cli(runner, "filing", "accept", pid, "--by", "d1-user"), "waiting")
    refused(cli(runner, "filing", "submit", pid, "--by", "d1-user"), "may not submit")
    out = ok(cli(runner, "filing", "submit", pid, "--by", "staff-hx"))
    assert f"proposal {pid} submitted to district d1" in out
    assert status_of(app, pid) == "submitted"
    refused(cli(runner, "filing", "submit", pid, "--by", "staff-hx"), "status: submitted")
    refused(cli(runner, "filing", "accept", pid, "--by", "staff-hx"), "may not decide")
    district(app, "d2")
    district_user(app, "d2-user", "d2")
    refused(cli(runner, "filing", "accept", pid, "--by", "d2-user"), "may not decide")
    assert status_of(app, pid) == "submitted"
    ok(cli(runner, "filing", "accept", pid, "--by", "d1-user"))
    assert status_of(app, pid) == "filed"
    refused(cli(runner, "filing", "accept", pid, "--by", "d1-user"))
    assert [e.actor for e in _events(app, "filing.submit")] == ["staff-hx"]
    assert [e.actor for e in _events(app, "filing.accept")] == ["d1-user"]
    ok(cli(runner, "audit", "verify"))
    with read(app) as s:
        item = s.scalar(select(FilingSubmission))
        assert item.status == "accepted"
        assert filing.verify_package(item.package) == []


def test_return_then_resubmit_on_the_command_line(app, runner):
    pid = _confirmed_in_district(app)
    ok(cli(runner, "filing", "submit", pid, "--by", "staff-hx"))
    refused(cli(runner, "filing", "return", pid, "--reason", " ", "--by", "d1-user"), "reason")
    out = ok(cli(runner, "filing", "return", pid, "--reason", "缺少公示照片", "--by", "d1-user"))
    assert "status confirmed" in out
    assert status_of(app, pid) == "confirmed"
    (event,) = _events(app, "filing.return")
    assert "缺少公示照片" in event.data
    ok(cli(runner, "filing", "submit", pid, "--by", "staff-hx"))
    assert status_of(app, pid) == "submitted"
    ok(cli(runner, "filing", "accept", pid, "--by", "d1-user"))
    with read(app) as s:
        items = list(s.scalars(select(FilingSubmission).order_by(FilingSubmission.id)))
    assert [i.status for i in items] == ["returned", "accepted"]
    assert items[0].reason == "缺少公示照片"
    ok(cli(runner, "audit", "verify"))


def test_without_a_district_the_manual_filing_stays(app, runner):
    pid = confirmed(app)
    refused(cli(runner, "filing", "submit", pid, "--by", "staff-hx"), "belongs to no district")
    assert status_of(app, pid) == "confirmed"
    ok(cli(runner, "filing", "mark-filed", pid))
    assert status_of(app, pid) == "filed"


def test_a_district_community_files_through_the_inbox(app, runner):
    pid = _confirmed_in_district(app)
    refused(cli(runner, "filing", "mark-filed", pid), "inbox")
    assert status_of(app, pid) == "confirmed"


# --- staff: the button and a returned filing's reason ------------------------------------


def test_staff_submit_button_and_returned_reason_on_the_dashboard(app, client, runner):
    pid = _confirmed_in_district(app)
    login(client, "staff-hx")
    page = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    assert f"/staff/proposals/{pid}/submit" in page
    assert f"/staff/proposals/{pid}/filed" not in page  # no manual filing in a district
    response = client.post(
        f"/staff/proposals/{pid}/submit", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    assert status_of(app, pid) == "submitted"
    page = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    assert 'id="filing-waiting"' in page
    ok(cli(runner, "filing", "return", pid, "--reason", "签字页缺少公章", "--by", "d1-user"))
    page = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    assert 'id="filing-returned"' in page
    assert "签字页缺少公章" in page
    assert f"/staff/proposals/{pid}/submit" in page  # may submit again
    client.post(f"/staff/proposals/{pid}/submit", data={"csrf_token": csrf_token(page)})
    assert status_of(app, pid) == "submitted"
    page = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    assert "签字页缺少公章" not in page  # the reason is of the earlier, answered return


# --- district pages ----------------------------------------------------------------------


def test_district_isolation(app):
    world = district_world(app)
    own, other, city = app.test_client(), app.test_client(), app.test_client()
    login(own, DISTRICT_A)
    login(other, DISTRICT_B)
    login(city, CITY)
    item = f"/district/da/inbox/{world.item_id}"
    for path in ("/district/da", "/district/da/overview.xlsx", item, item + "/package.zip",
                 item + "/files/confirmation.pdf"):  # fmt: skip
        assert own.get(path).status_code == 200, path
        assert city.get(path).status_code == 200, path
        assert other.get(path).status_code == 404, path
    # the item under the other district's own slug is not found either
    assert other.get(f"/district/db/inbox/{world.item_id}").status_code == 404
    assert other.get(f"/district/db/inbox/{world.item_id}/package.zip").status_code == 404
    # a district user sees no register, ballot or staff page of its own communities
    for path in ("/staff/", "/staff/c/a", f"/staff/proposals/{world.open_id}",
                 f"/staff/proposals/{world.open_id}/paper", "/committee/",
                 f"/staff/proposals/{world.closed_id}/nonvoters", "/admin/users"):  # fmt: skip
        assert own.get(path).status_code == 404, path
    assert own.get("/city").status_code == 404
    for visitor in (other, city):
        token = csrf_token(visitor.get("/account/password").get_data(as_text=True))
        assert visitor.post(item + "/accept", data={"csrf_token": token}).status_code == 404
    assert status_of(app, world.submitted_id) == "submitted"


def test_overview_shows_stages_and_no_personal_data(app):
    world = district_world(app)
    client = app.test_client()
    login(client, DISTRICT_A)
    assert client.get("/district/").headers["Location"].endswith("/district/da")
    html = client.get("/district/da?lang=en").get_data(as_text=True)
    text = html_text(html)
    assert "甲小区" in text and "乙小区" not in text
    for name, phone in (("张三", "13800000001"), ("李四", "13800000002")):
        assert name not in html and phone not in html
    assert 'data-stage="application" data-status="submitted"' in html
    assert 'data-stage="design" data-status="publicity"' in html
    assert f"/district/da/inbox/{world.item_id}" in html  # waiting in the inbox
    assert "5 of 5 households" in text
    with read(app) as s:
        view = districts.overview(s, s.scalar(select(District).where(District.slug == "da")))
    (row,) = view.communities
    assert row.stages["design"].days_left is not None  # objection period running
    assert [i.submission_id for i in view.inbox] == [world.item_id]


def test_behind_the_campaign_dates(app, runner):
    district_world(app)
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # TIMEZONE's today
    ok(
        cli(
            runner, "district", "targets", "da",
            "--application", (today - dt.timedelta(days=3)).isoformat(),
            "--design", (today - dt.timedelta(days=2)).isoformat(),
        )
    )  # fmt: skip
    with read(app) as s:
        view = districts.overview(s, s.scalar(select(District).where(District.slug == "da")))
    (row,) = view.communities
    assert not row.stages["application"].behind  # submitted: confirmed before the date
    assert row.stages["design"].behind  # still in its objection period, after the date
    assert row.stages["design"].target_days == -2
    assert row.behind
    client = app.test_client()
    login(client, DISTRICT_A)
    html = client.get("/district/da?lang=en").get_data(as_text=True)
    assert "Behind the campaign dates" in html and "2 days late" in html
    later = (today + dt.timedelta(days=9)).isoformat()
    ok(cli(runner, "district", "targets", "da", "--design", later))
    with read(app) as s:
        view = districts.overview(s, s.scalar(select(District).where(District.slug == "da")))
    assert not view.communities[0].behind


def test_campaign_dates_form_for_city_not_for_district(app):
    district_world(app)
    city, own = app.test_client(), app.test_client()
    login(city, CITY)
    login(own, DISTRICT_A)
    assert 'id="targets"' not in own.get("/district/da").get_data(as_text=True)
    page = city.get("/district/da").get_data(as_text=True)
    assert 'id="targets"' in page
    own_token = csrf_token(own.get("/district/da").get_data(as_text=True))
    data = {"csrf_token": own_token, "application": "2027-01-31", "design": ""}
    assert own.post("/district/da/targets", data=data).status_code == 404
    data["csrf_token"] = csrf_token(page)
    assert city.post("/district/da/targets", data=data).status_code == 303
    with read(app) as s:
        d = s.scalar(select(District).where(District.slug == "da"))
        assert (d.application_by, d.design_by) == (dt.date(2027, 1, 31), None)
    bad = city.post("/district/da/targets", data={**data, "application": "soon"})
    assert bad.status_code == 303  # refused, flashed
    with read(app) as s:
        assert s.scalar(select(District.application_by).where(District.slug == "da")) == dt.date(
            2027, 1, 31
        )


def test_inbox_item_lists_the_package_and_verifies_the_manifest(app):
    world = district_world(app)
    client = app.test_client()
    login(client, DISTRICT_A)
    item = f"/district/da/inbox/{world.item_id}"
    html = client.get(item).get_data(as_text=True)
    assert 'id="manifest-ok"' in html
    for name in ("confirmation.pdf", "notice.pdf", "results.pdf", "final.pdf", "tally.json",
                 "votes.csv", "manifest.json"):  # fmt: skip
        assert f"{item}/files/{name}" in html, name
    pdf = client.get(f"{item}/files/confirmation.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"{item}/files/../secret").status_code == 404
    assert client.get(f"{item}/files/nothing.pdf").status_code == 404
    package = client.get(f"{item}/package.zip")
    with zipfile.ZipFile(io.BytesIO(package.data)) as zf:
        assert "manifest.json" in zf.namelist()
    # a package altered after it was stored is flagged
    with write(app) as s:
        sub = s.get(FilingSubmission, world.item_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(sub.package)) as src, zipfile.ZipFile(buffer, "w") as dst:
            for name in src.namelist():
                data = src.read(name)
                dst.writestr(name, b'{"changed": 1}' if name == "tally.json" else data)
        sub.package = buffer.getvalue()
    html = client.get(item).get_data(as_text=True)
    assert 'id="manifest-problems"' in html and "tally.json" in html


def test_accept_and_return_through_the_pages(app):
    world = district_world(app)
    client = app.test_client()
    login(client, DISTRICT_A)
    item = f"/district/da/inbox/{world.item_id}"
    token = csrf_token(client.get(item).get_data(as_text=True))
    empty = client.post(item + "/return", data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 303 and status_of(app, world.submitted_id) == "submitted"
    back = client.post(item + "/return", data={"csrf_token": token, "reason": "缺少方案附件"})
    assert back.status_code == 303
    assert status_of(app, world.submitted_id) == "confirmed"
    staff = app.test_client()
    login(staff, "staff_a")
    page = staff.get(f"/staff/proposals/{world.submitted_id}").get_data(as_text=True)
    assert "缺少方案附件" in page
    staff.post(
        f"/staff/proposals/{world.submitted_id}/submit", data={"csrf_token": csrf_token(page)}
    )
    with read(app) as s:
        new_id = s.scalar(select(FilingSubmission.id).order_by(FilingSubmission.id.desc()))
    assert new_id != world.item_id
    # the old, returned item can no longer be accepted
    assert client.post(item + "/accept", data={"csrf_token": token}).status_code == 303
    assert status_of(app, world.submitted_id) == "submitted"
    new = f"/district/da/inbox/{new_id}"
    assert client.post(new + "/accept", data={"csrf_token": token}).status_code == 303
    assert status_of(app, world.submitted_id) == "filed"


# --- the city ----------------------------------------------------------------------------


def test_city_counts_equal_the_sum_of_the_districts(app):
    district_world(app)
    with read(app) as s:
        view = districts.city(s)
        per_district = {
            d.slug: districts.overview(s, d).counts for d in districts.all_districts(s)
        }
    assert sorted(r.slug for r in view.districts) == ["da", "db"]
    for stage in districts.TRACKED_STAGES:
        for status in districts.STAGE_STATUSES:
            assert view.totals[stage][status] == sum(
                c[stage][status] for c in per_district.values()
            )
            by_rows = sum(r.counts[stage][status] for r in view.districts)
            assert view.totals[stage][status] == by_rows
        assert sum(view.totals[stage].values()) == view.communities == 2
    assert view.totals["application"]["submitted"] == 1
    assert view.totals["design"]["publicity"] == 1
    assert view.waiting == 1
    client = app.test_client()
    login(client, CITY)
    html = client.get("/city").get_data(as_text=True)
    assert 'data-district="da"' in html and 'data-district="db"' in html
    assert '<td class="num total">1</td>' in html  # one submitted application in all
    sheet = load_workbook(io.BytesIO(client.get("/city.xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert {rows[2][0], rows[3][0]} == {"甲区", "乙区"}
    assert rows[-1][1] == 2  # the total row: 2 communities


def test_overview_export_has_no_formulas_and_no_names(app):
    district_world(app)
    client = app.test_client()
    login(client, DISTRICT_A)
    response = client.get("/district/da/overview.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [v for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    assert "甲小区" in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    assert not any(v in ("张三", "13800000001") for v in values)


def test_demo_has_a_district_and_a_city_login(app, runner):
    out = ok(cli(runner, "demo"))
    assert "login: district / demo-district-pass (district)" in out
    assert "login: city / demo-city-pass (city)" in out
    client = app.test_client()
    assert login(client, "district", "demo-district-pass").status_code == 303
    html = client.get("/district/demo-district").get_data(as_text=True)
    assert "幸福里小区" in html
    assert "和平里小区" in html, "the hearing-route community is in the same district (item 5)"
    assert count(app, User, User.role == "city") == 1


def test_a_hearing_shows_its_attendance_not_votes_on_the_district_page(app, client):
    """A hearing has no votes: its card counts the households present (and the days to
    the hearing), found on the demo's district page."""
    from residents_vote.models import Proposal
    from residents_vote.services import hearings
    from tests.factories import hearing_world

    world = hearing_world(app, slug="hh")
    district(app, "dh", "和区")
    into_district(app, "hh", "dh")
    with write(app) as s:
        proposal = s.get(Proposal, world.proposal_id)
        staff = s.scalar(select(User).where(User.username == world.staff))
        hearings.record_attendance(s, proposal, ["1-1-101", "1-1-102"], by=staff)
    with read(app) as s:
        found = s.scalar(select(District).where(District.slug == "dh"))
        row = districts.overview(s, found).communities[0].stages["application"]
    assert row.hearing and row.voted == 2 and row.electorate >= 2
    assert row.days_left is not None and 6 <= row.days_left <= 7
    district_user(app, "dh-office", "dh")
    client.set_cookie("lang", "en")
    assert login(client, "dh-office", PASSWORD_OF_TESTS).status_code == 303
    text = html_text(client.get("/district/dh").get_data(as_text=True))
    assert "Hearing attendance 2 of" in text and "households present" in text
    assert "Turnout" not in text
