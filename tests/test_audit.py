"""The hash-chained audit log (services/audit.py) and `audit verify`."""

from __future__ import annotations

import json

from sqlalchemy import select, text

from residents_vote.models import AuditEvent, AuditHead, Household
from residents_vote.services import audit
from tests.helpers import engine, make_community, read, refused, sample, write


def events(app, chain: str | None = None) -> list[AuditEvent]:
    with read(app) as s:
        stmt = select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq)
        if chain is not None:
            stmt = stmt.where(AuditEvent.chain == chain)
        return list(s.scalars(stmt))


def verify(app) -> audit.VerifyResult:
    with read(app) as s:
        return audit.verify(s)


def sql(app, statement: str, **params) -> None:
    with engine(app).begin() as conn:
        conn.execute(text(statement), params)


def record_some(app, community_id: int, n: int) -> None:
    with write(app) as s:
        for i in range(n):
            audit.record(
                s, "test.event", actor="tester", community_id=community_id,
                subject=f"s{i}", data={"i": i, "名": "测试"},
            )


def test_record_appends_a_linked_chain_per_community(app):
    a = make_community(app, "a")
    b = make_community(app, "b")
    record_some(app, a, 4)
    record_some(app, b, 2)
    record_some(app, a, 1)
    chain_a = events(app, audit.chain_for(a))
    chain_b = events(app, audit.chain_for(b))
    assert [e.seq for e in chain_a] == [1, 2, 3, 4, 5, 6]  # community.create + 5
    assert [e.seq for e in chain_b] == [1, 2, 3]
    for chain in (chain_a, chain_b):
        assert chain[0].prev_hash == audit.GENESIS
        for prev, event in zip(chain, chain[1:], strict=False):
            assert event.prev_hash == prev.hash
        assert len({e.hash for e in chain}) == len(chain)
    assert all(e.community_id == a for e in chain_a)
    assert chain_a[0].action == "community.create"
    assert json.loads(chain_a[1].data) == {"i": 0, "名": "测试"}
    with read(app) as s:
        head = s.get(AuditHead, audit.chain_for(a))
    assert (head.seq, head.hash) == (6, chain_a[-1].hash)
    result = verify(app)
    assert result.ok and result.events == 9


def test_events_outside_a_community_use_the_system_chain(app):
    with write(app) as s:
        audit.record(s, "thing", actor="x")
        audit.record(s, "thing", actor="x")
    chain = events(app, audit.SYSTEM_CHAIN)
    assert [e.seq for e in chain] == [1, 2]
    assert chain[1].prev_hash == chain[0].hash
    assert verify(app).ok


def test_event_rolled_back_with_its_transaction(app):
    a = make_community(app, "a")
    try:
        with write(app) as s:
            audit.record(s, "doomed", actor="x", community_id=a)
            raise RuntimeError
    except RuntimeError:
        pass
    record_some(app, a, 1)
    assert [e.seq for e in events(app)] == [1, 2]
    assert verify(app).ok


def test_verify_detects_edited_data(app):
    a = make_community(app, "a")
    record_some(app, a, 3)
    target = events(app)[2]
    sql(app, "UPDATE audit_event SET data = :d WHERE id = :id", d='{"i":99}', id=target.id)
    result = verify(app)
    assert not result.ok
    assert f"audit event {target.id} " in result.problem


def test_verify_detects_edited_subject_actor_and_time(app):
    a = make_community(app, "a")
    record_some(app, a, 2)
    target = events(app)[1]
    for column, value in (("subject", "other"), ("actor", "mallory")):
        sql(app, f"UPDATE audit_event SET {column} = :v WHERE id = :id", v=value, id=target.id)
        assert f"audit event {target.id} " in verify(app).problem
        sql(app, f"UPDATE audit_event SET {column} = :v WHERE id = :id",
            v=getattr(target, column), id=target.id)
        assert verify(app).ok


def test_verify_detects_a_deleted_middle_row(app):
    a = make_community(app, "a")
    record_some(app, a, 4)
    chain = events(app)
    sql(app, "DELETE FROM audit_event WHERE id = :id", id=chain[2].id)
    result = verify(app)
    assert not result.ok
    assert f"audit event {chain[3].id} " in result.problem  # the entry after the gap


def test_verify_detects_a_deleted_last_row(app):
    a = make_community(app, "a")
    record_some(app, a, 3)
    chain = events(app)
    sql(app, "DELETE FROM audit_event WHERE id = :id", id=chain[-1].id)
    result = verify(app)
    assert not result.ok
    assert audit.chain_for(a) in result.problem


def test_verify_detects_a_rewritten_chain_tail(app):
    """Deleting the last row and rewinding the head is still caught by the next link."""
    a = make_community(app, "a")
    record_some(app, a, 3)
    chain = events(app)
    sql(app, "DELETE FROM audit_event WHERE id = :id", id=chain[1].id)
    sql(
        app, "UPDATE audit_event SET seq = :s WHERE id = :id", s=chain[1].seq, id=chain[2].id
    )
    assert not verify(app).ok


# --- CLI ---------------------------------------------------------------------------------


def test_audit_verify_cli(runner, app):
    empty = runner.invoke(args=["audit", "verify"])
    assert empty.exit_code == 0, empty.output
    assert runner.invoke(args=["community", "create", "hx", "--name", "A"]).exit_code == 0
    imported = runner.invoke(
        args=["households", "import", "hx", str(sample("register-403-utf8.csv"))]
    )
    assert imported.exit_code == 0, imported.output
    good = runner.invoke(args=["audit", "verify"])
    assert good.exit_code == 0, good.output
    assert good.stdout.strip() and good.stderr == ""
    target = events(app)[-1]
    sql(app, "UPDATE audit_event SET data = :d WHERE id = :id", d='{"added":0}', id=target.id)
    bad = runner.invoke(args=["audit", "verify"])
    refused(bad, f"audit event {target.id} ")
    assert len(bad.stderr.strip().splitlines()) == 1


# --- no personal data in the log ------------------------------------------------------------


def test_events_never_contain_owner_names_or_phones(runner, app, tmp_path):
    assert runner.invoke(args=["demo"]).exit_code == 0
    # Change every name and phone, then remove a household: more events about them.
    from residents_vote.demo import DEMO_REGISTER

    src = DEMO_REGISTER.read_text(encoding="utf-8-sig").splitlines()
    assert src[0] == "building,unit,room,area,owner_name,owner_key,phone"
    changed = [src[0]]
    for i, line in enumerate(src[1:-1]):
        cells = line.split(",")
        cells[4] = f"改名{i:03d}"
        cells[6] = f"139{i:08d}"
        changed.append(",".join(cells))
    path = tmp_path / "changed.csv"
    path.write_text("\n".join(changed) + "\n", encoding="utf-8")
    result = runner.invoke(args=["households", "import", "demo", str(path), "--remove-missing"])
    assert result.exit_code == 0, result.output
    with read(app) as s:
        people = s.execute(select(Household.owner_name, Household.phone)).all()
    secrets = {v for row in people for v in row if v}
    secrets |= {line.split(",")[4] for line in src[1:]} | {line.split(",")[6] for line in src[1:]}
    secrets.discard("")
    assert len(secrets) > 800
    logged = events(app)
    assert logged
    for event in logged:
        for value in secrets:
            assert value not in event.data, (event.action, value)
            assert value not in event.subject, (event.action, value)
