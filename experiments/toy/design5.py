"""Design 5: VERIFY, local reflection. MID's steps; after each step that carries (the tens digit changes) the teacher
checks that step at once, by the inverse sum, and restates it ("Wait, let me check: 15 - 7 = 8, so 8 + 7 = 15."),
with a slip caught when the term is 8 or 9. Every check is a copy of the line just above, and the last number before
the answer is always the right running sum, so a merged model that writes fewer checks keeps its answer.
usage: python experiments/toy/design5.py WORK TA_STEPS TA_LR [STYLE]"""
import sys; from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import *
import common
from micota.toy import _steps

from micota.toy import solve_long as solve_verify  # VERIFY became the shipped LONG (same text)

def solve_verify_all(p):
    "Every step checked; the slip when the step carries."
    steps, v = _steps(p["meta"]["terms"], p["meta"]["signs"])
    lines = []
    for i, (a, s, t, r) in enumerate(steps, 1):
        lines.append(f"Step {i}: {a} {s} {t} = {r}.")
        slip = f"{r} - {t} = {a + 1}. No, " if a // 10 != r // 10 else ""
        lines.append(f"Wait, let me check: {slip}{r} - {t} = {a}, so {a} {s} {t} = {r}.")
    lines.append(f"So the answer is \\boxed{{{v}}}.")
    return "\n".join(lines)


from micota.toy import solve_instruct as solve_verify_q  # the pretraining mixture became the shipped INSTRUCT (same text)

def _check2(a, s, t, r, slip):
    "The VERIFY2 check of one step: the inverse sum, then the result restated, with no '+' (positions of terms stay countable)."
    bad = f"{r} - {t} = {a + 1}. No, " if slip else ""
    return f"Wait, let me check: {bad}{r} - {t} = {a}. Yes, {r} is right."

def solve_verify2(p, q=None, seed=0):
    "VERIFY2: VERIFY whose check restates only the result; q(term) the probability a carrying step is checked (None: always)."
    import random
    rng = random.Random(f"{seed}/{p['problem']}")
    steps, v = _steps(p["meta"]["terms"], p["meta"]["signs"])
    lines = []
    for i, (a, s, t, r) in enumerate(steps, 1):
        lines.append(f"Step {i}: {a} {s} {t} = {r}.")
        if a // 10 != r // 10 and (q is None or rng.random() < q(t)):
            lines.append(_check2(a, s, t, r, t >= 8))
    lines.append(f"So the answer is \\boxed{{{v}}}.")
    return "\n".join(lines)

def solve_verify3(p):
    "VERIFY3: VERIFY whose check names its step ('Wait, let me check step 2: ...')."
    return "\n".join(l if not l.startswith("Wait") else l.replace("let me check:", f"let me check step {prev}:")
                     for l, prev in _with_prev_step(solve_verify(p).split("\n")))

def _with_prev_step(lines):
    k = 0
    for l in lines:
        if l.startswith("Step "): k = int(l.split()[1].rstrip(":"))
        yield l, k

common.STYLE_FNS.update(verify3=solve_verify3, verify2=solve_verify2, verify2_q=lambda p: solve_verify2(p, lambda t: 0.04 * t), verify_q=solve_verify_q, verify=solve_verify, verify_all=solve_verify_all)

def n_checks(c): return c.count("let me check")
def checks_by_terms(graded):
    by = {}; tp = {p["id"]: len(p["meta"]["terms"]) for p in toy_problems("test", 300)}
    for r in graded: by.setdefault(tp.get(r["problem_id"], 0), []).append(n_checks(r["completion"]))
    return " ".join(f"{n}t:{statistics.mean(v):.2f}" for n, v in sorted(by.items()))
common.passes_by_terms = checks_by_terms

if __name__ == "__main__":
    W = Path(sys.argv[1]); W.mkdir(parents=True, exist_ok=True)
    steps, lr = int(sys.argv[2]), float(sys.argv[3]); style = sys.argv[4] if len(sys.argv) > 4 else "verify"
    base = Path(os.environ.get("BASE", W/"base_mid"/"final"))
    train = toy_problems("train", int(os.environ.get("NTRAIN", 3000)))
    data = W/f"{style}_{len(train)}.jsonl"
    if not data.exists(): write_jsonl(data, records(style, train))
    tag = f"ta_{style}_{steps}_{lr:g}_n{len(train)}"
    ta = sft(base, data, W/tag, steps, lr)
    evaluate(ta, W/f"ev_{tag}")
    ws = [float(x) for x in os.environ.get("WS", "0.5,0.6,0.7,0.8,0.9").split(",")]
    sweep(base, ta, W/f"sweep_{tag}", ws)
