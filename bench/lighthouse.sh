#!/usr/bin/env bash
# Lighthouse (mobile preset: simulated slow 4G on a mid-range phone) on the resident pages
# of a fresh demo install: the ballot page, the public page of the open demo vote, and the
# public result page of a small vote closed for the purpose. Prints the performance and
# accessibility score of each page. Targets: accessibility 100, performance >= 95; the
# script exits 1 when a page misses them.
#
#   bench/lighthouse.sh            (installs the npm `lighthouse` CLI into bench/.npm once)
#
# The app runs under gunicorn on a free loopback port with a throwaway SQLite database;
# it is stopped when the script ends. Chromium: /usr/bin/chromium (or $CHROME_PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/.venv/bin
npm_dir=$root/bench/.npm
lighthouse=$npm_dir/node_modules/.bin/lighthouse
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
chrome_flags="--headless --no-sandbox --disable-gpu --disable-background-networking"

if [ ! -x "$lighthouse" ]; then
  echo "installing lighthouse into bench/.npm ..." >&2
  npm install --prefix "$npm_dir" --no-audit --no-fund --loglevel=error lighthouse >&2
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL="sqlite:///$work/demo.sqlite3"
export BASE_URL="http://127.0.0.1:$port"
export SECRET_KEY
SECRET_KEY=$("$bin/python" -c 'import secrets; print(secrets.token_hex(32))')

"$bin/pybabel" compile -d translations -f >/dev/null 2>&1 || "$bin/pybabel" compile -d translations -f
"$bin/flask" --app app db upgrade >/dev/null
demo=$("$bin/flask" --app app demo)
ballot=$(grep -o 'http://[^ ]*/b/[^ ]*' <<<"$demo" | head -n 1)
public=$(grep -o 'http://[^ ]*/r/[^ ]*' <<<"$demo" | head -n 1)

# A second vote, on building 8 only (11 households): every household votes on paper,
# staff close it, and its public page shows the preliminary result. These are the same
# commands as `flask --app app …`, run in one process (each separate start costs seconds).
result_id=$("$bin/python" - <<'PY'
import json

from residents_vote import create_app

runner = create_app().test_cli_runner()


def flask(*args: str) -> str:
    out = runner.invoke(args=list(args))
    assert out.exit_code == 0, (args, out.output)
    return out.output


pid = flask(
    "proposal", "create", "demo", "--title", "8 栋加装电梯申请", "--stage", "application",
    "--question", "是否同意 8 栋申请加装电梯？", "--scope", "8",
).split()[-1]
flask("proposal", "open", pid)
for room in (101, 102, 103, 104, 201, 202, 203, 204, 301, 302, 303):
    flask("votes", "record", pid, f"8-1-{room}", "--answers", "1=agree",
          "--channel", "paper", "--by", "staff")
flask("proposal", "close", pid)
print(json.loads(flask("proposal", "tally", pid))["proposal"]["public_id"])
PY
)
result=$BASE_URL/r/$result_id

"$bin/gunicorn" -c gunicorn.conf.py --access-logfile /dev/null -b "127.0.0.1:$port" \
  'app:create_app()' 2>"$work/gunicorn.log" &
server_pid=$!
for _ in $(seq 1 50); do
  curl -fsS "$BASE_URL/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$BASE_URL/healthz" >/dev/null || { cat "$work/gunicorn.log" >&2; exit 1; }

status=0
for page in ballot public result; do
  report=$work/$page.json
  "$lighthouse" "${!page}" --quiet --chrome-flags="$chrome_flags" \
    --only-categories=performance,accessibility --output=json --output-path="$report"
  "$bin/python" - "$page" "$report" <<'PY' || status=1
import json
import re
import sys

page, path = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as fh:
    report = json.load(fh)
scores = {k: round(v["score"] * 100) for k, v in report["categories"].items()}
url = re.sub(r"(/b/)[\w-]+", r"\1…", report["finalDisplayedUrl"])  # a ballot link is a ballot
print(f"{page:7s} performance {scores['performance']:3d}  "
      f"accessibility {scores['accessibility']:3d}  {url}")
checked = {ref["id"] for ref in report["categories"]["accessibility"]["auditRefs"]}
for audit in report["audits"].values():
    if audit["id"] in checked and audit.get("score") is not None and audit["score"] < 1:
        print(f"        accessibility: {audit['title']}")
sys.exit(0 if scores["accessibility"] == 100 and scores["performance"] >= 95 else 1)
PY
done
exit $status
