"""Benchmark: printable ballots with render_ballots against a naive fpdf2 baseline.

    .venv/bin/python bench/ballots.py [--pages 5000] [--baseline-pages 500] [--workers N]

Each measurement runs in a fresh child process so that its peak memory
(getrusage RUSAGE_SELF + RUSAGE_CHILDREN maxrss, i.e. the process plus its largest
worker) is its own. Times cover the rendering call only, not building the fake data.
The naive baseline (a PNG QR per page made with qrcode + Pillow and embedded with
pdf.image, every page laid out anew with fpdf2's cell/multi_cell, one process) is
slow, so by default it renders fewer pages and its time is extrapolated linearly.
Finally about ten pages of the fast PDF are rasterised with pdftoppm and their QR
codes decoded with zbarimg against the expected urls.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from residents_vote.pdf import (  # noqa: E402
    FAMILY,
    BallotCommon,
    BallotPage,
    new_pdf,
    render_ballots,
)

BASE_URL = "https://vote.example.gov.cn"
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
)
COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方")
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志海燕玉红梅春德淑珍凤荣宏波辉鹏"

COMMON = BallotCommon(
    community="柳州市城中区幸福里小区",
    title="关于《幸福里小区老旧小区改造方案》的表决",
    stage="改造方案",
    questions=(
        "是否同意《幸福里小区老旧小区改造方案》中的设计方案（含屋面防水、外立面整治、雨污分流、"
        "加装电梯、停车位改造等内容）？",
        "是否同意改造工程预算总额 1,286.40 万元，其中政府以奖代补 1,093.44 万元，小区居民筹集 "
        "192.96 万元（按专有部分面积分摊）？",
        "是否同意改造完成后由业主委员会选聘物业服务企业实施专业化物业管理？",
    ),
    opens="2026-12-01 09:00",
    deadline="2026-12-15 18:00",
    hand_in="幸福里社区居委会一楼服务大厅（工作日 8:30–17:30），或投入各楼栋一楼表决票收集箱",
    organiser="幸福里社区居民委员会",
    contact="0772-1234567（王女士）",
    rule="专有部分面积占总面积三分之二以上且户数占总户数三分之二以上的业主同意即为通过",
)


def fake_pages(n: int, seed: int = 2026) -> list[BallotPage]:
    """Deterministic fake households (so the parent can re-create the expected urls)."""
    rng = random.Random(seed)
    pages = []
    for i in range(n):
        building, unit = 1 + i // 240, 1 + (i // 60) % 4
        room = f"{1 + (i % 60) // 4}{1 + i % 4:02d}"
        surname = rng.choice(COMPOUND) if rng.random() < 0.05 else rng.choice(SURNAMES)
        name = surname + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        area = rng.randint(4500, 14000)
        token = "".join(rng.choices(TOKEN_ALPHABET, k=32))
        pages.append(
            BallotPage(
                serial=f"B2026-{i + 1:05d}",
                household=f"{building}-{unit}-{room}",
                building=str(building),
                unit=str(unit),
                room=room,
                area=f"{area // 100}.{area % 100:02d}",
                owner_name=name,
                url=f"{BASE_URL}/b/{token}",
                share=f"本户分摊：{area * 289 // 100:,}.{area % 100:02d} 元",
            )
        )
    return pages


# --------------------------------------------------------------------------- baseline


def naive_ballots(common: BallotCommon, pages: list[BallotPage]) -> bytes:
    """The obvious implementation: lay out every page with fpdf2, QR as a PNG image."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    nl = {"new_x": "LMARGIN", "new_y": "NEXT"}  # multi_cell continues on the next line
    pdf = new_pdf()
    pdf.set_auto_page_break(False)
    pdf.set_margins(13, 10, 13)
    for p in pages:
        pdf.add_page()
        pdf.set_font(FAMILY, "", 9)
        pdf.set_xy(13, 9)
        pdf.cell(100, 6, common.community)
        pdf.set_xy(140, 9)
        pdf.cell(57, 6, f"编号：{p.serial}", align="R")
        pdf.set_font(FAMILY, "B", 24)
        pdf.set_xy(13, 16)
        pdf.cell(184, 10, "表决票", align="C")
        pdf.set_font(FAMILY, "B", 13.5)
        pdf.set_xy(13, 28)
        pdf.multi_cell(184, 7, common.title, align="C", wrapmode="CHAR", **nl)
        pdf.set_font(FAMILY, "", 9.5)
        pdf.multi_cell(184, 5, f"表决事项：{common.stage}", align="C", **nl)
        # household details
        pdf.set_fill_color(235)
        y = 42.0
        rows = [
            [("小区名称", 22), (common.community, 104)],
            [
                ("楼栋", 22),
                (p.building, 20),
                ("单元", 16),
                (p.unit, 20),
                ("房号", 16),
                (p.room, 32),
            ],
            [("户号", 22), (p.household, 34), ("专有面积", 22), (f"{p.area} m²", 48)],
            [("业主姓名", 22), (p.owner_name, 104)],
            [("费用分摊", 22), (p.share, 104)],
            [("投票时间", 22), (f"{common.opens} 至 {common.deadline}", 104)],
        ]
        for row in rows:
            pdf.set_xy(13, y)
            for j, (text, w) in enumerate(row):
                label = j % 2 == 0
                pdf.set_font(FAMILY, "" if label else "B", 10)
                pdf.cell(w, 8.6, text, border=1, fill=label, align="C" if label else "L")
            y += 8.6
        pdf.set_xy(13, y)
        pdf.set_font(FAMILY, "", 9.5)
        pdf.cell(22, 12, "表决规则", border=1, fill=True, align="C")
        pdf.multi_cell(104, 6, common.rule, border=1, wrapmode="CHAR", **nl)
        # QR code as a PNG image, made fresh for every page
        img = qrcode.make(p.url, error_correction=ERROR_CORRECT_M, box_size=10, border=4)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        pdf.image(buf, x=145, y=40, w=51)
        pdf.set_font(FAMILY, "B", 10.5)
        pdf.set_xy(145, 91)
        pdf.cell(51, 5, "手机扫码 · 在线投票", align="C")
        pdf.set_font("courier", "", 8)
        pdf.set_xy(145, 97)
        pdf.multi_cell(51, 3.3, p.url, align="C", wrapmode="CHAR", **nl)
        # questions
        y = 112.0
        pdf.set_font(FAMILY, "B", 10)
        pdf.set_xy(13, y)
        pdf.cell(184, 6, "请对每一表决事项在“同意”“反对”“弃权”中选择一项，在对应方框内打“✓”。")
        y += 7
        pdf.set_xy(13, y)
        for text, w in (("序号", 10), ("表决事项", 117), ("同意", 19), ("反对", 19), ("弃权", 19)):
            pdf.cell(w, 7.5, text, border=1, fill=True, align="C")
        y += 7.5
        pdf.set_font(FAMILY, "", 10.5)
        for i, q in enumerate(common.questions, start=1):
            lines = pdf.multi_cell(113, 5.5, q, dry_run=True, output="LINES", wrapmode="CHAR")
            h = max(14.0, len(lines) * 5.5 + 4)
            pdf.set_xy(13, y)
            pdf.cell(10, h, str(i), border=1, align="C")
            pdf.rect(23, y, 117, h)
            pdf.set_xy(25, y + (h - len(lines) * 5.5) / 2)
            pdf.multi_cell(113, 5.5, q, wrapmode="CHAR", **nl)
            for j in range(3):
                pdf.rect(140 + 19 * j, y, 19, h)
                pdf.rect(145 + 19 * j, y + (h - 9) / 2, 9, 9)
            y += h
        # rules
        y += 3
        pdf.set_font(FAMILY, "", 8.3)
        rules = (
            "1. 每一事项只能选择一项。某项未作任何选择的，该项按“弃权”计；某项选择两项及以上的，"
            "该项表决无效。",
            "2. 本票须由业主本人签名；委托他人投票的，由代理人签名并附书面授权委托书。"
            "未签名的表决票为无效票。",
            "3. 每户限投一票，网上投票与纸质表决票合并统计；"
            "本户已在网上确认投票的，纸质票不再受理。",
            "4. 表决票遗失的，可向组织单位申请补发，原表决票及其二维码同时作废。",
        )
        pdf.set_xy(13, y)
        for rule in rules:
            pdf.multi_cell(184, 4.2, rule, wrapmode="CHAR", **nl)
        # signatures
        y = pdf.get_y() + 3
        pdf.rect(13, y, 184, 30)
        pdf.set_font(FAMILY, "", 10)
        for labels in (
            ("业主签名：", "联系电话：", "日期：    年    月    日"),
            ("代理人姓名：", "代理人签名：", "代理人电话："),
        ):
            y += 10
            pdf.set_xy(16, y - 5)
            for text in labels:
                pdf.cell(60, 6, text)
            pdf.line(36, y + 1, 70, y + 1)
            pdf.line(96, y + 1, 130, y + 1)
        pdf.set_xy(16, y + 3)
        pdf.set_font(FAMILY, "", 8.5)
        pdf.cell(180, 5, "代理人须附业主签名的书面授权委托书，与本票一并交回。")
        # hand in
        pdf.set_xy(13, y + 12)
        pdf.set_font(FAMILY, "B", 9.5)
        hand = f"交票：请于 {common.deadline} 前将本票交至{common.hand_in}"
        pdf.multi_cell(184, 5, hand, wrapmode="CHAR", **nl)
        pdf.set_font(FAMILY, "", 9)
        pdf.multi_cell(184, 5, f"组织单位：{common.organiser}　联系方式：{common.contact}", **nl)
        # cut line and stub
        with pdf.local_context():
            pdf.set_dash_pattern(dash=3, gap=2)
            pdf.line(4, 258, 206, 258)
        pdf.set_font(FAMILY, "B", 11)
        pdf.set_xy(13, 262)
        pdf.cell(100, 6, "表决票回执（由业主留存）")
        pdf.set_font(FAMILY, "", 9.5)
        pdf.set_xy(13, 269)
        pdf.cell(100, 6, f"编号：{p.serial}　户号：{p.household}")
        pdf.set_xy(13, 275)
        pdf.cell(100, 6, f"{common.community} · {common.title}")
        pdf.rect(133, 261, 64, 24)
        pdf.set_font(FAMILY, "", 8.5)
        stub = ("收票登记（工作人员填写）", "收票人：", "收票日期：", "回执码：")
        for k, label in enumerate(stub):
            pdf.set_xy(135, 262 + 5.5 * k)
            pdf.cell(60, 5, label)
    return bytes(pdf.output())


# --------------------------------------------------------------------------- measuring


def peak_mb() -> tuple[float, float]:
    """(this process, largest reaped child) peak RSS in MB (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def measure(mode: str, n: int, workers: int | None, out: str) -> dict:
    pages = fake_pages(n)
    t0 = time.perf_counter()
    if mode == "fast":
        data = render_ballots(COMMON, pages, workers=workers)
    else:
        data = naive_ballots(COMMON, pages)
    seconds = time.perf_counter() - t0
    Path(out).write_bytes(data)
    own, kids = peak_mb()
    return {"pages": n, "seconds": seconds, "bytes": len(data), "self_mb": own, "kids_mb": kids}


def in_child(mode: str, n: int, workers: int | None, out: str) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--pages", str(n), "--out", out]
    if workers:
        cmd += ["--workers", str(workers)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{mode} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_qr(path: str, expected: list[str], samples: int) -> tuple[int, int, list[str]]:
    """Rasterise ~samples pages (first, last and evenly between) and decode their QR."""
    n = len(expected)
    numbers = sorted({round(i * (n - 1) / max(samples - 1, 1)) + 1 for i in range(samples)})
    ok, problems = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for k in numbers:
            prefix = os.path.join(tmp, f"p{k}")
            subprocess.run(
                ["pdftoppm", "-r", "150", "-f", str(k), "-l", str(k), "-png", path, prefix],
                check=True,
            )
            png = next(Path(tmp).glob(f"p{k}*.png"))
            done = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True)
            got = done.stdout.decode().split()
            if got == [expected[k - 1]]:
                ok += 1
            else:
                problems.append(f"page {k}: expected {expected[k - 1]}, decoded {got}")
    return ok, len(numbers), problems


def line(name: str, r: dict, total_pages: int) -> str:
    rate = r["pages"] / r["seconds"]
    text = (
        f"{name}: {r['pages']} pages in {r['seconds']:.2f} s = {rate:.1f} pages/s; "
        f"peak memory {r['self_mb'] + r['kids_mb']:.0f} MB "
        f"(self {r['self_mb']:.0f} + children {r['kids_mb']:.0f}); "
        f"PDF {r['bytes'] / 1e6:.1f} MB ({r['bytes'] / r['pages'] / 1024:.1f} KiB/page)"
    )
    if r["pages"] < total_pages:
        text += (
            f"\n    -> {total_pages} pages extrapolated: {total_pages / rate:.1f} s "
            f"(baseline measured on {r['pages']} pages only, linear extrapolation)"
        )
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument(
        "--baseline-pages",
        type=int,
        default=500,
        help="pages for the naive baseline (0 = skip; extrapolated if < --pages)",
    )
    ap.add_argument("--workers", type=int, default=None, help="default: render_ballots decides")
    ap.add_argument("--samples", type=int, default=10, help="pages whose QR is decoded")
    ap.add_argument("--keep", help="also save the fast PDF here")
    ap.add_argument("--child", choices=("fast", "naive"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        print(json.dumps(measure(args.child, args.pages, args.workers, args.out)))
        return

    import fpdf

    print(
        f"ballot benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"fpdf2 {fpdf.__version__}, workers={args.workers or 'auto'}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        fast_pdf = os.path.join(tmp, "fast.pdf")
        fast = in_child("fast", args.pages, args.workers, fast_pdf)
        print(line("fast  render_ballots", fast, args.pages))
        if args.keep:
            shutil.copyfile(fast_pdf, args.keep)

        if args.baseline_pages:
            n = min(args.baseline_pages, args.pages)
            base = in_child("naive", n, None, os.path.join(tmp, "naive.pdf"))
            print(
                line(
                    "naive baseline (qrcode PNG per page, layout per page, 1 process)",
                    base,
                    args.pages,
                )
            )
            ratio = (fast["pages"] / fast["seconds"]) / (base["pages"] / base["seconds"])
            print(f"speed ratio (pages/s fast / naive): {ratio:.1f}x")

        if shutil.which("pdftoppm") and shutil.which("zbarimg"):
            ok, total, problems = check_qr(
                fast_pdf, [p.url for p in fake_pages(args.pages)], args.samples
            )
            print(f"QR decoded {ok}/{total}")
            for problem in problems:
                print("  " + problem)
        else:
            print("QR check skipped: pdftoppm / zbarimg not installed")


if __name__ == "__main__":
    main()
