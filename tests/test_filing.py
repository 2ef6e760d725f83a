"""The confirmation document and the filing package (备案) of a confirmed proposal."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import zipfile

import pytest
from sqlalchemy import select

from residents_vote.models import (
    Attachment,
    AuditEvent,
    Proposal,
    ResultRevision,
)
from residents_vote.services import audit, filing
from tests import factories
from tests.factories import (
    CODES,
    committee_users,
    confirmed,
    filing_package,
    final_proposal,
    signing_community,
)
from tests.helpers import count, csrf_token, login, read, status_of, write


def test_package_manifest_hashes_verify(app):
    pid = confirmed(app)
    package = filing_package(app, pid)
    assert filing.verify_package(package.data) == []
    with zipfile.ZipFile(io.BytesIO(package.data)) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(zf.read(entry["name"])).hexdigest() == entry["sha256"]
        assert {f["name"] for f in manifest["files"]} | {"manifest.json"} == names
        for required in (
            "notice.pdf",
            "results.pdf",
            "final.pdf",
            "confirmation.pdf",
            "tally.json",
            "votes.csv",
            "audit.csv",
            "audit.json",
            "postings.csv",
        ):
            assert required in names, required
        for name in ("notice.pdf", "results.pdf", "final.pdf", "confirmation.pdf"):
            assert zf.read(name).startswith(b"%PDF")
        with read(app) as s:
            final = s.scalar(
                select(ResultRevision)
                .where(ResultRevision.proposal_id == pid)
                .order_by(ResultRevision.revision.desc())
            )
        assert zf.read("tally.json").decode("utf-8") == final.tally_json  # verbatim
        assert manifest["final_result"]["sha256"] == final.sha256
        assert len(manifest["signoff"]["signatures"]) == 2
        evidence = sorted(n for n in names if n.startswith("evidence/"))
        assert len(evidence) == 3
        assert all(".." not in n for n in names)
        kinds = {a["kind"]: a for a in manifest["attachments"]}
        for kind in ("plan", "ballot_scan", "notice_photo"):
            assert hashlib.sha256(zf.read(kinds[kind]["file"])).hexdigest() == kinds[kind]["sha256"]
        assert kinds["ballot_scan"]["household"] == CODES[0]
        # tampering is detected
        tampered = io.BytesIO()
        with zipfile.ZipFile(tampered, "w") as out:
            for name in zf.namelist():
                data = zf.read(name)
                out.writestr(name, data + b" " if name == "votes.csv" else data)
    assert filing.verify_package(tampered.getvalue()) == ["votes.csv: SHA-256 does not match"]


def test_votes_csv_and_audit_events(app):
    pid = confirmed(app)
    with zipfile.ZipFile(io.BytesIO(filing_package(app, pid).data)) as zf:
        votes = list(csv.reader(io.StringIO(zf.read("votes.csv").decode("utf-8-sig"))))
        events = json.loads(zf.read("audit.json"))
        audit_rows = list(csv.reader(io.StringIO(zf.read("audit.csv").decode("utf-8-sig"))))
    assert votes[0] == ["household", "channel", "answers", "time", "corrected"]
    assert sorted(r[0] for r in votes[1:]) == sorted(CODES)
    assert all(r[2] == "1=agree;2=agree" and r[1] == "paper" for r in votes[1:])
    text = json.dumps(votes, ensure_ascii=False)
    for _b, _u, _r, _a, owner, phone in factories.HOUSEHOLDS:
        assert owner not in text
        assert not phone or phone not in text
    with read(app) as s:
        expected = list(s.scalars(select(AuditEvent.hash).where(AuditEvent.proposal_id == pid)))
    assert sorted(e["hash"] for e in events) == sorted(expected)
    assert len(audit_rows) == len(events) + 1
    actions = [e["action"] for e in events]
    assert actions.count("vote.cast") == 3
    assert "proposal.confirm" in actions
    import datetime as dt

    for e in events:  # each event can be checked on its own from the exported fields
        at = dt.datetime.strptime(e["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
        assert e["hash"] == audit.event_hash(
            e["prev_hash"],
            e["chain"],
            e["seq"],
            at,
            e["actor"],
            e["action"],
            e["community_id"],
            e["proposal_id"],
            e["subject"],
            e["data"],
        )


def test_purged_evidence_is_listed_not_shipped(app):
    pid = confirmed(app)
    with write(app) as s:
        scan = s.scalar(select(Attachment).where(Attachment.kind == "ballot_scan"))
        scan.data = None
    package = filing_package(app, pid)
    assert filing.verify_package(package.data) == []
    entry = next(a for a in package.manifest["attachments"] if a["kind"] == "ballot_scan")
    assert entry["purged"] is True and entry["file"] is None and len(entry["sha256"]) == 64


def test_not_confirmed_has_no_package(app, runner, tmp_path):
    signing_community(app)
    committee_users(app, "hx", 3)
    pid = final_proposal(app)
    result = runner.invoke(args=["filing", "package", str(pid), str(tmp_path / "f.zip")])
    assert result.exit_code == 1
    assert "confirmed" in result.stderr
    assert not (tmp_path / "f.zip").exists()


def test_cli_package_status_and_mark_filed(app, runner, tmp_path):
    pid = confirmed(app)
    out = tmp_path / "filing.zip"
    result = runner.invoke(args=["filing", "package", str(pid), str(out)])
    assert result.exit_code == 0, result.output
    assert filing.verify_package(out.read_bytes()) == []
    result = runner.invoke(args=["filing", "status", str(pid)])
    assert "2 of 3 signed, 2 required" in result.stdout
    result = runner.invoke(args=["filing", "mark-filed", str(pid), "--note", "城区备案 2026-17"])
    assert result.exit_code == 0, result.output
    assert status_of(app, pid) == "filed"
    again = runner.invoke(args=["filing", "mark-filed", str(pid)])
    assert again.exit_code == 1 and "already" in again.stderr
    with read(app) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.file"))
        assert json.loads(event.data) == {"note": "城区备案 2026-17"}
        assert s.get(Proposal, pid).filed_at is not None
    assert filing.verify_package(filing_package(app, pid).data) == []  # still available once filed


def test_staff_download_and_mark_filed(app, client):
    pid = confirmed(app)
    login(client, "staff-hx")
    page = client.get(f"/staff/proposals/{pid}")
    html = page.get_data(as_text=True)
    assert f"/staff/proposals/{pid}/filing.zip" in html
    r = client.get(f"/staff/proposals/{pid}/filing.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert filing.verify_package(r.data) == []
    pdf = client.get(f"/staff/proposals/{pid}/confirmation.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    token = csrf_token(html, "/filed")
    r = client.post(f"/staff/proposals/{pid}/filed", data={"csrf_token": token})
    assert r.status_code == 303
    assert status_of(app, pid) == "filed"
    assert count(app, AuditEvent, AuditEvent.action == "proposal.file") == 1
    filed = client.get(f"/staff/proposals/{pid}?lang=en")
    assert filed.status_code == 200 and "Filed on" in filed.get_data(as_text=True)
    # other community's staff: 404
    signing_community(app, "other")
    other = app.test_client()
    login(other, "staff-other")
    assert other.get(f"/staff/proposals/{pid}/filing.zip").status_code == 404
    # committee members do not reach staff pages
    member = app.test_client()
    login(member, "hx-m1")
    assert member.get(f"/staff/proposals/{pid}/filing.zip").status_code == 404


def test_staff_package_refused_before_confirmation(app, client):
    signing_community(app)
    pid = final_proposal(app)
    login(client, "staff-hx")
    assert client.get(f"/staff/proposals/{pid}/filing.zip").status_code == 409
    assert client.get(f"/staff/proposals/{pid}/confirmation.pdf").status_code == 409
    html = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    r = client.post(f"/staff/proposals/{pid}/filed", data={"csrf_token": csrf_token(html)})
    assert r.status_code == 303
    assert status_of(app, pid) == "final"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) missing")
def test_confirmation_pdf_content(app, tmp_path):
    pid = confirmed(app)
    with app.app_context(), read(app) as s:
        p = s.get(Proposal, pid)
        data = filing.confirmation_pdf(s, p)
        sha = s.scalar(
            select(ResultRevision.sha256)
            .where(ResultRevision.proposal_id == pid)
            .order_by(ResultRevision.revision.desc())
        )
    path = tmp_path / "confirmation.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    squashed = "".join(text.split())
    assert sha in squashed
    assert "hx-m1" in text and "hx-m2" in text
    assert factories.TITLE in squashed
    for _b, _u, _r, _a, owner, _phone in factories.HOUSEHOLDS:
        assert owner not in text
