"""Grading throughput: micota's worker pool (start-up included) against sequential plain math-verify, same run.

The responses are real: each MATH-500 and AIME 2024 worked solution against its own gold and each MATH-500
solution against the next problem's gold (a negative control), repeated to `--n` responses.

    python bench/grade.py                      # 10,000 responses, one worker per core
    python bench/grade.py --n 2000 --workers 2

Each measurement runs in a fresh Python process, so neither grader profits from sympy caches the other warmed.
Two comparisons: all responses (micota decides identical strings and integer pairs without sympy), and only the
responses sympy must decide (no shortcut applies: the parallel pool against one process). Prints responses per
second, the speed-ups, the slowest item, agreement between the graders, and `uptime` before and after, since the
machine may be shared.
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def uptime() -> str:
    try: return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError: return "load average: %.2f, %.2f, %.2f" % os.getloadavg()

def pairs(eval_dir: Path) -> list[dict]:
    "Real (completion, gold) pairs: MATH-500 self and negative control, AIME 2024 self."
    read = lambda name: [json.loads(l) for l in open(eval_dir/name/"test.jsonl", encoding="utf-8")]
    m5, aime = read("math500"), read("aime24")
    out = [dict(completion=r["solution"], answer=r["answer"], source="math500", kind="self") for r in m5]
    out += [dict(completion=r["solution"], answer=m5[(i+1) % len(m5)]["answer"], source="math500", kind="negative") for i, r in enumerate(m5)]
    out += [dict(completion=r["solution"], answer=r["answer"], source="aime24", kind="self") for r in aime]
    return out

def responses(args) -> list[dict]:
    base = pairs(Path(args.eval_dir))
    recs = [dict(r, id=i) for i, r in enumerate((base * (args.n // len(base) + 1))[:args.n])]
    if args.subset == "hard":  # only what sympy must decide: no shortcut applies
        from micota.grade import extract_answer, gold_answer, quick_verdict
        recs = [r for r in recs if (p := extract_answer(r["completion"], r["source"])) is not None
                and quick_verdict(gold_answer(r["answer"], r["source"]), p) is None]
    return recs

def plain_math_verify(records: list[dict]) -> list[bool]:
    "What most evaluation code does: math-verify's parse of the whole response, its own signal.alarm timeouts, one item at a time."
    from math_verify import parse, verify
    return [verify(parse("\\boxed{" + str(r["answer"]) + "}"), parse(r["completion"])) for r in records]

def measure(args):
    "One measurement in this (fresh) process; prints a JSON line."
    recs = responses(args)
    if args.part == "pool":
        from micota.grade import grade_records
        t0 = time.perf_counter()
        graded = grade_records(recs, timeout=args.timeout, workers=args.workers, with_seconds=True)
        secs = time.perf_counter() - t0
        verdicts = [g["correct"] for g in graded]
        slow = max(graded, key=lambda g: g["grade_seconds"])
        extra = dict(slowest=dict(seconds=slow["grade_seconds"], id=slow["id"], source=slow["source"], gold=slow["answer"], pred=slow["pred"]),
                     errors=sum(bool(g["grade_error"]) and not g["grade_error"].startswith("no answer") for g in graded))
    else:
        import math_verify  # its import is not charged to it (the pool's start-up is charged to the pool)
        t0 = time.perf_counter()
        verdicts = plain_math_verify(recs)
        secs = time.perf_counter() - t0
        extra = {}
    print(json.dumps(dict(n=len(recs), seconds=secs, verdicts=verdicts, kinds=[r["kind"] for r in recs], **extra)))

def run_part(args, part, subset) -> dict:
    cmd = [sys.executable, __file__, "--part", part, "--subset", subset, "--n", str(args.n), "--timeout", str(args.timeout),
           "--eval-dir", args.eval_dir] + (["--workers", str(args.workers)] if args.workers else [])
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if p.returncode: sys.exit(f"{part}/{subset} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="responses to grade (the real pairs, repeated)")
    ap.add_argument("--workers", type=int, default=None, help="micota grading processes (default: one per core)")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds per item")
    ap.add_argument("--eval-dir", default=str(ROOT.parent/"shared"/"data"/"eval"))
    ap.add_argument("--part", choices=["pool", "plain"], help=argparse.SUPPRESS)
    ap.add_argument("--subset", choices=["all", "hard"], default="all", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.part: return measure(args)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{args.n} responses (MATH-500 self + negative control + AIME 2024 self: 1,030 real pairs, repeated); "
          f"{cores} cores, {args.workers or cores} workers")
    print(f"before: {uptime()}")
    for subset, title in (("all", "all responses"), ("hard", "only the responses sympy must decide")):
        pool, plain = run_part(args, "pool", subset), run_part(args, "plain", subset)
        print(f"\n{title} ({pool['n']}):")
        print(f"  micota pool, start-up included: {pool['seconds']:7.1f}s  {pool['n']/pool['seconds']:7.1f} responses/s")
        print(f"  plain math-verify, sequential:  {plain['seconds']:7.1f}s  {plain['n']/plain['seconds']:7.1f} responses/s")
        print(f"  speed-up: {plain['seconds']/pool['seconds']:.2f}x")
        s = pool["slowest"]
        print(f"  slowest item: {s['seconds']:.2f}s (record {s['id']}, {s['source']}, gold {s['gold']!r}, pred {s['pred']!r}); "
              f"timeouts and errors: {pool['errors']}")
        for kind in ("self", "negative"):
            idx = [i for i, k in enumerate(pool["kinds"]) if k == kind]
            if idx: print(f"  accepted, {kind} pairs: micota {sum(pool['verdicts'][i] for i in idx)/len(idx):.4f}, "
                          f"plain {sum(plain['verdicts'][i] for i in idx)/len(idx):.4f}")
        print(f"  verdicts that differ: {sum(a != b for a, b in zip(pool['verdicts'], plain['verdicts']))} of {pool['n']}")
        print(f"  load: {uptime()}")

if __name__ == "__main__":
    main()
