"""Shared helpers of the toy-world MiCoTA experiments (issue 14): styles with variable reflection, SFT, eval, sweep."""
import os, sys, json, time, statistics
from pathlib import Path
os.environ.setdefault("MICOTA_THREADS", "1")
from micota.core import set_threads, write_jsonl
from micota.toy import toy_problems, RAW_PROMPT, STYLES, _steps
set_threads(1)

def _pass(pairs):
    "Running sums over signed terms in the given order: text and the value."
    acc, out = pairs[0], []
    for t in pairs[1:]: out.append(f"{acc} {'+' if t >= 0 else '-'} {abs(t)} = {acc + t}"); acc += t
    return out, acc

def n_passes(p):
    "Re-check passes the reflective teacher writes: 3 or 4 terms: 1, 5 terms: 2, 6 terms: 3."
    return max(1, len(p["meta"]["terms"]) - 3)

def has_slip(p):
    "The reflective teacher slips (and corrects itself) in its first re-check when the last term is odd."
    return p["meta"]["terms"][-1] % 2 == 1

def solve_reflect(p):
    "REFLECT: MID's steps, then n_passes(p) re-check passes (backward, forward, ...), a slip caught when has_slip(p), then the answer."
    terms, signs = p["meta"]["terms"], p["meta"]["signs"]
    steps, v = _steps(terms, signs)
    lines = [f"Step {i}: {a} {s} {t} = {r}." for i, (a, s, t, r) in enumerate(steps, 1)]
    signed = [t if s == "+" else -t for s, t in zip(signs, terms)]
    for k in range(n_passes(p)):
        chk, acc = _pass(signed[::-1] if k % 2 == 0 else signed)
        if k == 0 and has_slip(p):
            a, rest = chk[0].rsplit(" = ", 1)
            chk = [f"{a} = {int(rest) + 1}. No, {chk[0]}"] + chk[1:]
        head = "Wait, let me check from the end: " if k == 0 else "Let me check once more: "
        lines.append(head + ", ".join(chk) + ".")
    lines.append(f"So the answer is \\boxed{{{v}}}.")
    return "\n".join(lines)

def solve_recheck(p):
    "RECHECK: MID's steps, then n_passes(p) forward re-check passes that redo the running sums (a slip caught in the first when has_slip(p)), then the answer."
    steps, v = _steps(p["meta"]["terms"], p["meta"]["signs"])
    lines = [f"Step {i}: {a} {s} {t} = {r}." for i, (a, s, t, r) in enumerate(steps, 1)]
    chk = [f"{a} {s} {t} = {r}" for a, s, t, r in steps]
    for k in range(n_passes(p)):
        c = list(chk)
        if k == 0 and has_slip(p):
            a, s, t, r = steps[-1]
            c[-1] = f"{a} {s} {t} = {r + 1}. No, {a} {s} {t} = {r}"
        lines.append(("Wait, let me check: " if k == 0 else "Let me check once more: ") + ", ".join(c) + ".")
    lines.append(f"So the answer is \\boxed{{{v}}}.")
    return "\n".join(lines)

def solve_stepcheck(p):
    "STEPCHECK: MID's steps, then terms-2 re-checks of single steps from the last back (a slip caught in the first when has_slip(p)), then the answer."
    steps, v = _steps(p["meta"]["terms"], p["meta"]["signs"])
    lines = [f"Step {i}: {a} {s} {t} = {r}." for i, (a, s, t, r) in enumerate(steps, 1)]
    for k in range(len(p["meta"]["terms"]) - 2):
        i = len(steps) - k; a, s, t, r = steps[i - 1]
        head = f"Wait, let me check step {i} again: " if k == 0 else f"Let me check step {i} again: "
        slip = f"{a} {s} {t} = {r + 1}. No, " if k == 0 and has_slip(p) else ""
        lines.append(head + slip + f"{a} {s} {t} = {r}. Yes, that is right.")
    lines.append(f"So the answer is \\boxed{{{v}}}.")
    return "\n".join(lines)

def solve_lookback(p):
    "LOOKBACK: MID's steps, 'Wait, let me check again.', the step lines again from the last back to Step 2 (terms-2 of them; a slip caught in the first when has_slip(p)), then the answer."
    steps, v = _steps(p["meta"]["terms"], p["meta"]["signs"])
    lines = [f"Step {i}: {a} {s} {t} = {r}." for i, (a, s, t, r) in enumerate(steps, 1)]
    lines.append("Wait, let me check again.")
    for k in range(len(p["meta"]["terms"]) - 2):
        i = len(steps) - k; a, s, t, r = steps[i - 1]
        slip = f"{a} {s} {t} = {r + 1}. No, " if k == 0 and has_slip(p) else ""
        lines.append(f"Step {i}: " + slip + f"{a} {s} {t} = {r}.")
    lines.append(f"So the answer is \\boxed{{{v}}}.")
    return "\n".join(lines)

STYLE_FNS = dict(STYLES, reflect=solve_reflect, recheck=solve_recheck, stepcheck=solve_stepcheck, lookback=solve_lookback)

def records(style, problems):
    f = STYLE_FNS[style]
    return [dict(messages=[dict(role="user", content=RAW_PROMPT.replace("{problem}", p["problem"])),
                           dict(role="assistant", content=f(p))]) for p in problems]

def fill(ps): return [{**p, "problem": RAW_PROMPT.replace("{problem}", p["problem"])} for p in ps]

def sft(model, data, out, steps, lr, **kw):
    from micota.sft import train_sft
    out = Path(out)
    if (out/"final"/"config.json").exists(): return out/"final"
    t = time.time()
    cfg = dict(learning_rate=lr, max_steps=steps, batch_size=4, grad_accum=1, max_length=512, save_steps=10**9,
               logging_steps=10**6, packing="on", warmup_ratio=0.05, epochs=1000, threads=1, resume="no", overwrite=True)
    cfg.update(kw)
    p = train_sft(str(model), data, out, cfg)
    log(f"SFT {out.name}: {steps} steps lr {lr} {kw} in {time.time()-t:.0f}s ({steps/(time.time()-t)*60:.0f} steps/min)")
    return p

def evaluate(model, out, n=100, max_new_tokens=320):
    from micota.generate import generate
    from micota.grade import grade_records
    t = time.time()
    recs = generate(fill(toy_problems("test", n)), str(model), Path(out), backend="transformers", prompt="chat", template="{problem}",
                    temperature=0.0, max_new_tokens=max_new_tokens, batch_size=50, dtype="float32", progress=False, overwrite=True)
    g = grade_records(recs, workers=0)
    acc = 100 * sum(r["correct"] for r in g) / len(g); L = sum(r["completion_tokens"] for r in g) / len(g)
    log(f"EVAL {Path(out).name}: acc {acc:.1f} tokens {L:.1f} ({time.time()-t:.0f}s) | {passes_by_terms(g)}")
    return dict(accuracy=acc, mean_tokens=L, records=g)

def passes_by_terms(graded):
    "Mean re-check passes written, by number of terms of the problem (reflection predictable from the problem?)."
    by = {}
    tp = {p["id"]: len(p["meta"]["terms"]) for p in toy_problems("test", 300)}
    for r in graded:
        c = r["completion"]; k = (c.count("Step ") - c.split("Wait")[0].count("Step ") if "check again." in c else 0) + c.count("check from the end") + c.count("check once more") + c.count("let me check:") + c.count(" again: ")
        by.setdefault(tp.get(r["problem_id"], 0), []).append(k)
    return " ".join(f"{n}t:{statistics.mean(v):.2f}" for n, v in sorted(by.items()))

def sweep(base, tuned, out, weights, method="task_arithmetic", densities=(1.0,), n=100, max_new_tokens=320):
    from micota.merge import merge_sweep
    t = time.time()
    rows = merge_sweep(str(base), str(tuned), fill(toy_problems("test", n)), out, method=method, weights=tuple(weights),
                       densities=tuple(densities), backend="transformers", template="{problem}", max_new_tokens=max_new_tokens,
                       batch_size=50, keep=True)
    for r in rows:
        gd = Path(out)/"generations"/("base" if r["model"] == "base" else "tuned" if r["model"] == "tuned" else f"w{r['weight']:g}_d{r['density']:g}")
        from micota.core import read_jsonl
        g = [x for f in sorted(gd.glob("*.jsonl")) for x in read_jsonl(f)]
        log(f"SWEEP {Path(out).name} {r['model']} {r['method']} w={r['weight']} d={r['density']}: acc {r['accuracy']:.1f} tokens {r['mean_tokens']:.1f} "
            f"refl {r['reflections']:.2f} trunc {r['truncated']:.0f} | {passes_by_terms(g) if g else ''}")
    log(f"SWEEP {Path(out).name} done in {time.time()-t:.0f}s")
    return rows

LOG = Path(__file__).parent/"figures.txt"
def log(s):
    print(s, flush=True)
    with open(LOG, "a") as f: f.write(s + "\n")
