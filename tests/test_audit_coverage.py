"""Every state change leaves an audit event (and none names an owner or a phone).

One realistic run through the life of a community and a proposal, by the command line,
the services and the staff pages as an operator would; after each step the new audit
events must include the expected action codes. At the end the chain verifies and no
event carries personal data.
"""

from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from residents_vote.models import AuditEvent, Community, Objection, Proposal, User
from residents_vote.services import (
    audit_log,
    ballots,
    notices,
    privacy,
    proposals,
    results,
    users,
    voting,
)
from tests import factories
from tests.factories import do_decline, do_sign
from tests.helpers import PASSWORD, csrf_token, login, read, write

PDF = b"%PDF-1.4\n% plan\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"ballot scan" * 20


class Events:
    """The audit events added since the last check."""

    def __init__(self, app) -> None:
        self.app = app
        self.mark = self._last()

    def _last(self) -> int:
        with read(self.app) as s:
            return s.scalar(select(func.max(AuditEvent.id))) or 0

    def expect(self, *actions: str) -> list[AuditEvent]:
        with read(self.app) as s:
            new = list(
                s.scalars(
                    select(AuditEvent).where(AuditEvent.id > self.mark).order_by(AuditEvent.id)
                )
            )
        got = [e.action for e in new]
        for action in actions:
            assert action in got, f"no {action} event; got {got}"
        self.mark = max([self.mark, *(e.id for e in new)])
        return new


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_state_change_is_audited(app, runner, client, tmp_path):
    ev = Events(app)
    cli = runner.invoke

    # community, accounts, register ------------------------------------------------------
    ok(cli(args=["community", "create", "hx", "--name", "幸福里", "--signing-members", "3"]))
    ev.expect("community.create")
    for name, role in (("staff1", "staff"), ("m1", "committee"), ("m2", "committee")):
        ok(cli(args=["user", "create", name, "--role", role, "--community", "hx"], input=PASSWORD))
        ev.expect("user.create")
    ok(cli(args=["user", "create", "m3", "--role", "committee"], input=PASSWORD))
    ev.expect("user.create")
    with write(app) as s:
        m3 = s.scalar(select(User).where(User.username == "m3"))
        users.set_communities(s, m3, ["hx"], actor="admin")
    ev.expect("user.assign")
    with write(app) as s:
        users.set_active(s, s.scalar(select(User).where(User.username == "m3")), False, actor="a")
    ev.expect("user.deactivate")
    with write(app) as s:
        users.set_active(s, s.scalar(select(User).where(User.username == "m3")), True, actor="a")
    ev.expect("user.activate")
    with write(app) as s:
        m3 = s.scalar(select(User).where(User.username == "m3"))
        users.reset_password(s, m3, PASSWORD, actor="admin")
    ev.expect("user.password_reset")
    register = tmp_path / "register.csv"
    register.write_bytes(factories.register_csv())
    ok(cli(args=["households", "import", "hx", str(register)]))
    ev.expect("households.import")

    # drafting ---------------------------------------------------------------------------
    out = ok(
        cli(
            args=[
                "proposal",
                "create",
                "hx",
                "--title",
                factories.TITLE,
                "--stage",
                "design",
                "--question",
                factories.QUESTIONS[0],
                "--question",
                factories.QUESTIONS[1],
            ]
        )
    )
    pid = int(out.strip())
    ev.expect("proposal.create")
    with write(app) as s:
        p = proposals.lock(s, pid)
        draft = proposals.Draft(
            title=factories.TITLE + "（修订）",
            stage="design",
            questions=list(factories.QUESTIONS),
        )
        proposals.update(s, p, draft, actor="staff1")
    ev.expect("proposal.edit")
    login(client, "staff1")
    html = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    r = client.post(
        f"/staff/proposals/{pid}/plan",
        data={
            "csrf_token": csrf_token(html, "/plan"),
            "plan": (io.BytesIO(PDF), "plan.pdf"),
            "items": "2.2, 350000\n3.7, 600000, 0, 1",
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    ev.expect("plan.items", "evidence.upload")

    # voting -----------------------------------------------------------------------------
    ok(cli(args=["proposal", "open", str(pid)]))
    ev.expect("proposal.open")
    with write(app) as s:
        notices.record_posting(
            s,
            proposals.lock(s, pid),
            stage="notice",
            place="1栋公告栏",
            posted_at=factories.ago(minutes=1),
            by=s.scalar(select(User).where(User.username == "staff1")),
        )
    ev.expect("notice.posting")
    later = factories.ahead(days=20).isoformat()
    ok(cli(args=["proposal", "extend", str(pid), "--closes", later]))
    ev.expect("proposal.extend")
    pdf = tmp_path / "ballots.pdf"
    ok(cli(args=["ballots", "issue", str(pid), "--pdf", str(pdf)]))
    ev.expect("ballots.issue")
    links = tmp_path / "links.csv"
    ok(
        cli(
            args=[
                "ballots",
                "reissue",
                str(pid),
                "1-1-101",
                "--pdf",
                str(pdf),
                "--links",
                str(links),
            ]
        )
    )
    ev.expect("ballots.revoke", "ballots.issue")
    token = links.read_text("utf-8").splitlines()[1].split(",")[2].rsplit("/", 1)[1]
    with write(app) as s:
        voting.cast_online(s, ballots.find(s, token), {1: "agree", 2: "agree"})
    online = ev.expect("vote.cast")
    assert online[0].actor == "household 1-1-101"
    ok(
        cli(
            args=[
                "votes",
                "record",
                str(pid),
                "1-1-102",
                "--answers",
                "1=agree,2=agree",
                "--channel",
                "proxy",
                "--proxy-name",
                "王小明",
                "--by",
                "staff1",
            ]
        )
    )
    ev.expect("vote.cast")
    page = client.get(f"/staff/proposals/{pid}/paper").get_data(as_text=True)
    r = client.post(
        f"/staff/proposals/{pid}/paper",
        data={
            "csrf_token": csrf_token(page, ""),
            "household": "2-1-201",
            "q1": "agree",
            "q2": "agree",
            "channel": "paper",
            "scan": (io.BytesIO(PNG), "scan.png"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    ev.expect("vote.cast", "evidence.upload")

    # result, objections, correction ------------------------------------------------------
    ok(cli(args=["proposal", "close", str(pid)]))
    ev.expect("proposal.close")
    with write(app) as s:
        results.file_objection(
            s,
            proposals.lock(s, pid),
            name="张伟",
            text="我家投的是弃权",
            household="1-1-102",
            contact="13800001234",
        )
    ev.expect("objection.file")
    with write(app) as s:
        proposals.lock(s, pid)
        objection = s.scalar(select(Objection))
        staff = s.scalar(select(User).where(User.username == "staff1"))
        results.answer_objection(
            s,
            objection,
            "accepted",
            "核对纸质票后更正",
            by=staff,
            correction={1: "abstain", 2: "agree"},
        )
    ev.expect("objection.answer", "vote.correct", "result.revise")
    with write(app) as s:
        results.finalize(s, proposals.lock(s, pid), actor="staff1", now=factories.ahead(days=30))
    ev.expect("proposal.finalize")

    # sign-off and filing ------------------------------------------------------------------
    do_decline(app, pid, "m3", "不同意第二项")
    ev.expect("proposal.decline")
    do_sign(app, pid, "m1")
    ev.expect("proposal.sign")
    do_sign(app, pid, "m2")
    ev.expect("proposal.sign", "proposal.confirm")
    ok(cli(args=["filing", "mark-filed", str(pid)]))
    ev.expect("proposal.file")

    # cancel, failed login, purge ------------------------------------------------------------
    out = ok(
        cli(
            args=[
                "proposal",
                "create",
                "hx",
                "--title",
                "加装电梯",
                "--stage",
                "other",
                "--question",
                "是否同意？",
            ]
        )
    )
    ev.expect("proposal.create")
    ok(cli(args=["proposal", "cancel", out.strip(), "--reason", "重复立项"]))
    ev.expect("proposal.cancel")
    anonymous = app.test_client()
    form = anonymous.get("/login").get_data(as_text=True)
    anonymous.post(
        "/login",
        data={"csrf_token": csrf_token(form), "username": "staff1", "password": "wrong!"},
    )
    ev.expect("login.failed")
    factories.community(app, "empty")
    ev.expect("community.create", "households.import")
    with write(app) as s:
        c = s.scalar(select(Community).where(Community.slug == "empty"))
        privacy.purge(s, c, actor="admin")
    ev.expect("privacy.purge")

    # the whole log ---------------------------------------------------------------------------
    ok(cli(args=["audit", "verify"]))
    with read(app) as s:
        events = list(s.scalars(select(AuditEvent)))
        assert s.get(Proposal, pid).status == "filed"
    blob = json.dumps([[e.actor, e.subject, e.data] for e in events], ensure_ascii=False)
    for _b, _u, _r, _a, owner, phone in factories.HOUSEHOLDS:
        assert owner not in blob, owner
        if phone:
            assert phone not in blob, phone
    assert "王小明" not in blob  # proxy names stay out of the log too
    # and the audit page can say each of them in plain language
    assert {e.action for e in events} <= set(audit_log.SENTENCES)
