"""Benchmark: accuracy and speed of the paper-ballot scan reader (residents_vote.scans).

    .venv/bin/python bench/scan_accuracy.py [--pages 300] [--seed 7] [--workers 2]
        [--conditions flatbed-150,flatbed-200,flatbed-300,phone] [--measures] [--dump DIR]

Test material is made here from real ballots the app prints (residents_vote.pdf
render_ballots, two layouts: three questions, and five questions with the cost-share
row), rendered with pypdfium2 and marked with OpenCV (tests/scan_material.py): pen
tick, cross, filled box, light pencil tick; on some pages a blank question, two
boxes ticked, a mark scribbled out with another box ticked, a stray pen line through
a row, or no signature. Most pages have the stub cut off along the dashed line.
Conditions: flatbed scans at 150, 200 and 300 dpi (rotated up to +-5 degrees, blur,
noise, JPEG quality 55-92) and phone photos (page at ~250 dpi on a table, perspective,
uneven light and shadow, colour JPEG).

Per condition it prints: the share of pages that should be `ok` that were read `ok`;
pages read `ok` with any wrong field (QR text, an answer, the signature; must be 0),
pages that must go to review and did (and with a right reason: blank, multiple or
unclear, unsigned); the reasons seen; (a page with a stray line through a row is not
counted as clean: it may be read `ok` with the ticked answer, or go to review);
pages per second (load + read + decide, crops of doubtful questions included) in one
process and with --workers processes. `--measures` adds the distribution of the box
and signature measures by kind, which is what the thresholds were chosen from;
`--dump DIR` saves the clean pages that went to review, with their readings.

Thresholds (residents_vote/scans/reader.py), chosen from these measurements
(`--pages 300 --measures`, seed 7, 2026-11-30; 1,200 pages):
  - box fill (mean darkness inside the frame, the paper around it subtracted): empty
    boxes measured -0.005..0.005 in every condition; the lightest marks, thin light
    pencil ticks, 0.014 at 150 dpi and >= 0.02 otherwise; pen ticks >= 0.05, crosses
    >= 0.10, filled boxes >= 0.5. EMPTY_FILL = 0.006 and MARK_FILL = 0.011 sit in the
    gap with a margin on both sides; a box between them makes its question `unclear`.
  - frame (printed stroke against the paper just outside): >= 0.42 where the box is;
    ~0.25 for a row misplaced by a bad registration (seen while developing: the QR
    code alone extrapolates a photo's perspective badly). FRAME_MIN = 0.3.
  - signature ink share: 0 on every unsigned page, >= 0.035 when signed.
    UNSIGNED_INK = 0.003, SIGNED_INK = 0.012.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from residents_vote.pdf import ballot_geometry, render_ballots  # noqa: E402
from residents_vote.pdf.geometry import ANSWERS  # noqa: E402
from residents_vote.scans import decide, load_pages, read_page  # noqa: E402
from tests import scan_material as sm  # noqa: E402
from tests.helpers import chinese_documents  # noqa: E402

CONDITIONS = {
    "flatbed-150": ("flatbed", 150),
    "flatbed-200": ("flatbed", 200),
    "flatbed-300": ("flatbed", 300),
    "phone": ("phone", 250),
}

LONG = dataclasses.replace(
    sm.COMMON,
    questions=(
        *sm.COMMON.questions,
        "是否同意将小区北侧闲置绿地改建为非机动车停车棚及电动自行车集中充电设施？",
        "是否同意改造期间施工单位每日 7:00–12:00、14:00–19:00 在小区内施工？",
    ),
)

DUMP: Path | None = None
DOUBTS = ("blank", "two", "crossed", "stray", "unsigned")


def plan_for(rng: np.random.Generator, n_questions: int) -> tuple[dict, bool, str]:
    """A page's marking plan: mostly clean pages, else one doubtful feature."""
    plan = {}
    for q in range(1, n_questions + 1):
        plan[q] = (sm.MARK_KINDS[int(rng.integers(0, 4))], ANSWERS[int(rng.integers(0, 3))])
    if rng.random() < 0.6:
        return plan, True, "clean"
    doubt = DOUBTS[int(rng.integers(0, len(DOUBTS)))]
    q = int(rng.integers(1, n_questions + 1))
    a, b = rng.choice(3, size=2, replace=False)
    if doubt == "blank":
        plan[q] = ("blank",)
    elif doubt == "two":
        plan[q] = ("two", ANSWERS[a], ANSWERS[b])
    elif doubt == "crossed":
        plan[q] = ("crossed", ANSWERS[a], ANSWERS[b])
    elif doubt == "stray":
        plan[q] = ("stray", ANSWERS[a])
    return plan, doubt != "unsigned", doubt


def make_material(condition: str, n: int, seed: int) -> list[dict]:
    kind, dpi = CONDITIONS[condition]
    rng = np.random.default_rng([seed, list(CONDITIONS).index(condition)])
    items = []
    for layout, common, share in (("3q", sm.COMMON, False), ("5q+share", LONG, True)):
        count = n // 2 if layout == "3q" else n - n // 2
        pages = sm.ballot_pages(count, share=share)
        with tempfile.TemporaryDirectory() as catalog, chinese_documents(Path(catalog)):
            pdf = render_ballots(common, pages)  # in Chinese, as the app prints it
            geo = ballot_geometry(common, pages)
        for page, image in zip(pages, sm.render(pdf, dpi), strict=True):
            plan, signed, doubt = plan_for(rng, len(geo.questions))
            truth = sm.mark_page(image, dpi, geo, rng, plan=plan, signed=signed)
            if rng.random() < 0.85:
                image = sm.cut_stub(image, dpi, geo, rng)
            blob = sm.flatbed(image, rng) if kind == "flatbed" else sm.phone_photo(image, rng)
            items.append(
                {
                    "blob": blob,
                    "url": page.url,
                    "truth": truth,
                    "doubt": doubt,
                    "geo": geo,
                    "plan": plan,
                    "condition": condition,
                }
            )
    order = rng.permutation(len(items))
    return [items[i] for i in order]


def read_one(blob: bytes, geo) -> tuple:
    (page,) = load_pages(blob)
    reading = read_page(page.image, geo)
    decision = decide(reading.reasons)
    return reading, decision


def _worker(args):
    blob, geo = args
    reading, decision = read_one(blob, geo)
    return dataclasses.replace(reading, crops={}), decision


def score(items: list[dict], results: list[tuple]) -> dict:
    out = Counter()
    reasons = Counter()
    measures = defaultdict(list)
    for item, (reading, decision) in zip(items, results, strict=True):
        truth = item["truth"]
        expect_ok = not truth.must_review and not truth.may_review
        out["pages"] += 1
        out["expect_ok"] += expect_ok
        out["must_review"] += bool(truth.must_review)
        for r in decision.reasons:
            reasons[r] += 1
        if decision.status == "ok":
            right = (
                reading.qr == item["url"]
                and not truth.must_review
                and reading.signed is truth.signed
                and all(reading.answers.get(q) == a for q, a in truth.answers.items())
            )
            if not right:
                out["wrong_ok"] += 1
                print(
                    f"  WRONG ok page: doubt={item['doubt']} read={reading.answers} "
                    f"truth={truth.answers}",
                    file=sys.stderr,
                )
            out["ok"] += 1
            out["ok_expected"] += expect_ok
            out["ok_may_review"] += truth.may_review
        else:
            out["review"] += 1
            if truth.must_review:
                out["review_must"] += 1
                if set(decision.reasons) & truth.must_review:
                    out["review_right_reason"] += 1
            elif expect_ok:
                out["review_clean"] += 1
                if DUMP:
                    DUMP.mkdir(parents=True, exist_ok=True)
                    name = f"{item['condition']}-{out['pages']:04d}"
                    (DUMP / f"{name}.jpg").write_bytes(item["blob"])
                    (DUMP / f"{name}.txt").write_text(
                        f"plan {item['plan']}\nread {reading.answers} {reading.reasons}\n"
                        + "\n".join(str(q) for q in reading.questions)
                    )
                out[f"review_clean:{'+'.join(decision.reasons)}"] += 1
        # measures by truth, for choosing thresholds
        if reading.qr is None:
            continue
        qmap = {q.number: q for q in reading.questions}
        plan_answers = truth.answers
        for number, q in qmap.items():
            ans = plan_answers.get(number)
            kind = item["plan"].get(number, ("?",))[0]
            for b in q.boxes:
                if ans is not None and b.answer == ans and kind in sm.MARK_KINDS:
                    measures[f"box {kind}"].append(b.fill)
                elif kind in sm.MARK_KINDS or kind == "blank":
                    measures["box empty"].append(b.fill)
        key = "signature signed" if truth.signed else "signature none"
        measures[key].append(reading.signature_ink or 0.0)
    out["reasons"] = reasons
    out["measures"] = measures
    return out


def timed_read(items: list[dict], workers: int) -> tuple[list[tuple], float, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    results = [read_one(it["blob"], it["geo"]) for it in items]
    single = len(items) / (time.perf_counter() - t0)
    per_cpu_s = len(items) / (time.process_time() - c0)
    multi = single
    if workers > 1:
        t0 = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pool.map(_worker, [(it["blob"], it["geo"]) for it in items], chunksize=4)
        multi = len(items) / (time.perf_counter() - t0)
    return results, single, multi, per_cpu_s


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:6.2f} %" if b else "     -"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=300, help="pages per condition")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--measures", action="store_true", help="print measure distributions")
    ap.add_argument("--dump", type=Path, help="save the clean pages sent to review here")
    args = ap.parse_args()
    global DUMP
    DUMP = args.dump
    total_wrong = 0
    print(
        f"scan reader benchmark: {args.pages} pages per condition, seed {args.seed}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    for condition in args.conditions.split(","):
        t0 = time.perf_counter()
        items = make_material(condition, args.pages, args.seed)
        made = time.perf_counter() - t0
        results, single, multi, per_cpu_s = timed_read(items, args.workers)
        s = score(items, results)
        total_wrong += s["wrong_ok"]
        print(f"\n=== {condition}: {s['pages']} pages (material made in {made:.0f} s)")
        print(
            f"  clean pages read ok        {pct(s['ok_expected'], s['expect_ok'])}"
            f"  ({s['ok_expected']}/{s['expect_ok']})"
        )
        print(f"  pages read ok, any field wrong: {s['wrong_ok']}")
        print(
            f"  doubtful pages to review   {pct(s['review_must'], s['must_review'])}"
            f"  ({s['review_must']}/{s['must_review']}; with a right reason: "
            f"{s['review_right_reason']})"
        )
        print(
            f"  all pages to review        {pct(s['review'], s['pages'])}"
            f"  reasons: {dict(s['reasons'].most_common())}"
        )
        clean_rev = {
            k.split(":", 1)[1]: v
            for k, v in s.items()
            if isinstance(k, str) and k.startswith("review_clean:")
        }
        if clean_rev:
            print(f"  clean pages sent to review, why: {clean_rev}")
        print(
            f"  speed: {single:.1f} pages/s in one process ({per_cpu_s:.1f} pages per CPU "
            f"second), {multi:.1f} pages/s with {args.workers} worker processes"
        )
        if args.measures:
            for key, vals in sorted(s["measures"].items()):
                v = np.array(vals)
                print(
                    f"    {key:18s} n={v.size:5d} min={v.min():.4f} p1={np.percentile(v, 1):.4f}"
                    f" median={np.median(v):.4f} p99={np.percentile(v, 99):.4f} max={v.max():.4f}"
                )
    print(f"\nwrong ok pages in all conditions: {total_wrong}")
    return 1 if total_wrong else 0


if __name__ == "__main__":
    sys.exit(main())
