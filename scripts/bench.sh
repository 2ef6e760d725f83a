#!/usr/bin/env bash
# Run every benchmark in bench/ by hand (`make bench`); each prints its own figures.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
status=0
for script in bench/startup.py bench/register_import.py bench/ballots.py bench/tally.py bench/dashboard.py bench/vote_load.py \
  bench/scan_accuracy.py bench/scan_upload.py; do
  [ -f "$script" ] || continue
  echo "=== $script"
  $py "$script" || status=1
done
if [ -x bench/lighthouse.sh ]; then
  echo "=== bench/lighthouse.sh"
  bench/lighthouse.sh || status=1
fi
exit $status
