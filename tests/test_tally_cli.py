"""`flask --app app proposal tally ID` (CONTRACT.md "Command line" and "Tally JSON").

Prints the tally JSON, live while voting is open; a draft or an unknown id exits 1 with
a message on stderr and nothing on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from residents_vote.domain.register import RegisterRow, household_code
from residents_vote.services import communities, households, proposals
from tests import factories
from tests.helpers import assert_contract_shape, refused, write

ROOT = Path(__file__).resolve().parents[1]

UNITS = [  # (building, unit, room, area in hundredths, owner key)
    ("1", "1", "101", 8850, "P1"),
    ("1", "1", "102", 9000, "P1"),
    ("1", "1", "201", 12000, "P2"),
    ("3", "", "101", 7555, "P3"),
]


def register(app, slug: str = "xfl") -> None:
    rows = [
        RegisterRow(i, b, u, r, household_code(b, u, r), area, f"业主{i}", key, "")
        for i, (b, u, r, area, key) in enumerate(UNITS, 2)
    ]
    with write(app) as s:
        community = communities.create_community(s, slug, "幸福里", actor="test")
        households.import_rows(s, community, rows, actor="test")


def proposal(app, *, open_vote: bool = True, rule: str = "civil-major") -> int:
    with write(app) as s:
        draft = proposals.Draft(
            title="加装电梯",
            stage="design",
            questions=["是否同意加装电梯？", "是否同意按面积分摊费用？"],
            rule=rule,
        )
        p = proposals.create(s, communities.get_by_slug(s, "xfl"), draft, actor="test")
        if open_vote:
            proposals.open_vote(s, p, actor="test")
        return p.id


def test_tally_prints_the_contract_json(runner, app):
    register(app)
    pid = proposal(app)
    factories.insert_votes(
        app,
        pid,
        {
            "1-1-101": ("agree", "agree"),
            "1-1-102": ("oppose", "agree"),
            "1-1-201": ("agree", "abstain"),
        },
    )
    result = runner.invoke(args=["proposal", "tally", str(pid)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert_contract_shape(data)
    assert data["proposal"]["id"] == pid
    assert data["proposal"]["status"] == "voting"
    assert data["proposal"]["title"] == "加装电梯"  # not \u-escaped
    assert "加装电梯" in result.stdout
    assert (data["proposal"]["rule"], data["proposal"]["headcount"]) == ("civil-major", "owner")
    assert data["electorate"] == {"households": 4, "persons": 3, "area": "374.05"}
    assert data["participation"] == {"persons": 2, "area": "298.50"}
    q1, q2 = data["questions"]
    assert q1["agree"] == {"persons": 1, "area": "208.50"}
    assert q1["oppose"] == {"persons": 1, "area": "90.00"}
    assert q1["conflicts"] == [{"owner_key": "P1", "households": ["1-1-101", "1-1-102"]}]
    assert q2["agree"] == {"persons": 1, "area": "178.50"}
    assert q2["abstain"] == {"persons": 1, "area": "120.00"}
    assert q2["conflicts"] == []
    assert [a["rule"] for a in q1["advisory"]] == ["seed", "civil-ordinary"]


def test_tally_of_an_open_vote_without_votes(runner, app):
    register(app)
    pid = proposal(app, rule="seed")
    result = runner.invoke(args=["proposal", "tally", str(pid)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["electorate"] == {"households": 4, "persons": 4, "area": "374.05"}
    assert data["participation"] == {"persons": 0, "area": "0.00"}
    assert [q["passed"] for q in data["questions"]] == [False, False]


def test_tally_of_a_draft_exits_1(runner, app):
    register(app)
    pid = proposal(app, open_vote=False)
    result = runner.invoke(args=["proposal", "tally", str(pid)])
    refused(result, "draft")
    assert result.stdout == ""


def test_tally_of_an_unknown_proposal_exits_1(runner, app):
    result = runner.invoke(args=["proposal", "tally", "4242"])
    refused(result, "4242")
    assert result.stdout == ""


def test_tally_with_a_bad_id_exits_1(runner, app):
    result = runner.invoke(args=["proposal", "tally", "seven"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip()


def test_tally_through_the_real_flask_command(app):
    """The operator's command line, as a separate process: `flask --app app proposal tally`."""
    register(app)
    pid = proposal(app)
    factories.insert_votes(app, pid, {"3-101": ("agree", "invalid")})
    app.extensions["rv_db"].engine.dispose()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        SECRET_KEY="test-secret-key-not-for-production",
        PYTHONIOENCODING="utf-8",
    )
    flask = [sys.executable, "-m", "flask", "--app", "app", "proposal", "tally"]
    done = subprocess.run(
        [*flask, str(pid)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["participation"] == {"persons": 1, "area": "75.55"}
    assert data["questions"][1]["invalid"] == {"persons": 1, "area": "75.55"}

    missing = subprocess.run(
        [*flask, str(pid + 100)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.strip() and "Traceback" not in missing.stderr
