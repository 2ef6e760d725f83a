"""Benchmark: how long a command takes to start (issue 13 item 8).

    .venv/bin/python bench/startup.py [--runs 5] [--top 15]

Staff and scripts run dozens of `flask --app app …` commands; each one imports the app.
This prints the wall time (median of --runs, and the fastest) and the CPU time (user +
system, median; less swayed by other work on the machine) of

  * `flask --app app --help`
  * `flask --app app proposal tally ID` on a fresh demo database (`db upgrade` + `demo`
    in a temporary directory; the demo vote is open, so the tally is computed live)

and the `python -X importtime` top offenders (import time of the modules that
`flask --app app proposal tally ID` loads, largest first: their own time, the median
of --runs), summed per top-level package.

By default the children write and reuse their bytecode (in a temporary
PYTHONPYCACHEPREFIX), as an install does; `--no-bytecode-cache` sets
PYTHONDONTWRITEBYTECODE=1 so that every run compiles the app's modules again (this
sandbox sets it for every process: about 70 modules, a third of a second or more).

The figures depend on how busy the machine is: say how loaded it was when quoting them.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "app"]


def _env(tmp: Path, *, bytecode_cache: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'startup.sqlite3'}",
        SECRET_KEY="bench-startup-" + "k9Qx2Lm7Vz4Tp8Wn",
        RATELIMIT_STORAGE_URI="memory://",
    )
    env.pop("FLASK_APP", None)
    if bytecode_cache:
        # As on an install: compiled once, then loaded from the cache. Kept out of the
        # repository (the warm-up run fills it).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


_CPU: list[float] = []  # CPU seconds (user + system) of each timed child, in order


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(args: list[str], env: dict[str, str], *, importtime: bool = False) -> tuple[float, str]:
    cmd = (
        [sys.executable, "-X", "importtime", *FLASK[1:], *args]
        if importtime
        else [
            *FLASK,
            *args,
        ]
    )
    cpu = _child_cpu()
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    _CPU.append(_child_cpu() - cpu)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, done.stderr if importtime else done.stdout


def _demo(env: dict[str, str]) -> int:
    _run(["db", "upgrade"], env)
    _, out = _run(["demo"], env)
    match = re.search(r"\(proposal (\d+)\)", out)
    if not match:
        raise SystemExit(f"no proposal id in the demo output:\n{out}")
    return int(match.group(1))


def _times(args: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each run (CPU time is less swayed by a busy machine)."""
    _run(args, env)  # warm the file cache and the bytecode
    del _CPU[:]
    wall = [_run(args, env)[0] for _ in range(runs)]
    return wall, list(_CPU)


_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def _importtime(
    args: list[str], env: dict[str, str], runs: int
) -> tuple[dict[str, float], set[str]]:
    """Self import time in microseconds per top-level package (a module's own time,
    summed over its package and submodules), median over runs."""
    samples: dict[str, list[int]] = {}
    modules: set[str] = set()
    for _ in range(runs):
        _, err = _run(args, env, importtime=True)
        totals: dict[str, int] = {}
        for line in err.splitlines():
            m = _LINE.match(line)
            if m:
                name = m.group(4)
                modules.add(name)
                top = name if name.startswith("residents_vote") else name.split(".")[0]
                totals[top] = totals.get(top, 0) + int(m.group(1))
        for name, us in totals.items():
            samples.setdefault(name, []).append(us)
    return {name: statistics.median(v) for name, v in samples.items()}, modules


def _show(label: str, times: tuple[list[float], list[float]]) -> None:
    wall, cpu = times
    print(
        f"{label:<34} median {statistics.median(wall):6.3f} s   best {min(wall):6.3f} s   "
        f"cpu median {statistics.median(cpu):6.3f} s   ({len(wall)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="compile every module of the app on every run (PYTHONDONTWRITEBYTECODE=1, as "
        "in some sandboxes); by default the bytecode is cached, as on an install",
    )
    args = parser.parse_args()
    try:
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cpus")
    except OSError:
        pass
    with tempfile.TemporaryDirectory(prefix="rv-startup-") as tmp:
        env = _env(Path(tmp), bytecode_cache=not args.no_bytecode_cache)
        cache = "no bytecode cache" if args.no_bytecode_cache else "bytecode cached"
        print(
            f"({cache}; PYTHONDONTWRITEBYTECODE in this shell: "
            f"{os.environ.get('PYTHONDONTWRITEBYTECODE', 'unset')})"
        )
        proposal_id = _demo(env)
        tally = ["proposal", "tally", str(proposal_id)]
        _show("flask --app app --help", _times(["--help"], env, args.runs))
        _show(f"flask --app app proposal tally {proposal_id}", _times(tally, env, args.runs))
        selftime, modules = _importtime(tally, env, args.runs)
    ranked = sorted(selftime.items(), key=lambda kv: kv[1], reverse=True)
    print(
        f"\nimport time of `proposal tally` by package (own time of its modules, "
        f"median of {args.runs}; residents_vote modules one by one):"
    )
    print(f"  {sum(selftime.values()) / 1000:8.1f} ms  all imports")
    for name, us in ranked[: args.top]:
        print(f"  {us / 1000:8.1f} ms  {name}")
    heavy = ("fpdf", "PIL", "sqlalchemy.orm", "openpyxl", "segno", "qrcode", "fontTools")
    loaded = [name for name in heavy if name in modules]
    print(f"\nheavy packages imported by `proposal tally`: {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main()
