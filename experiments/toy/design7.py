"""Design 7 (shipped): the rebuilt toy models (INSTRUCT bases, a 4-layer LONG teacher). MODEL + SFT on ground-truth STYLE, 200 test problems,
and with WS a task-arithmetic sweep from MODEL. usage: [NTRAIN=3000] [WS=0.05,0.1,...] python experiments/toy/design7.py WORK MODEL STYLE STEPS LR"""
import sys, os; sys.path.insert(0,'experiments/toy')
from common import *
import common
from micota.toy import STYLES
common.STYLE_FNS.update(STYLES)
def checks(graded):
    by = {}; tp = {p["id"]: len(p["meta"]["terms"]) for p in toy_problems("test", 300)}
    for r in graded: by.setdefault(tp.get(r["problem_id"], 0), []).append(r["completion"].count("let me check"))
    return " ".join(f"{n}t:{statistics.mean(v):.2f}" for n, v in sorted(by.items()))
common.passes_by_terms = checks
W = Path(sys.argv[1]); W.mkdir(parents=True, exist_ok=True)
model, style, steps, lr = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
n = int(os.environ.get("NTRAIN", 3000))
from micota.toy import toy_model_path
base = toy_model_path(model)
data = W/f"{style}_{n}.jsonl"
if not data.exists(): write_jsonl(data, records(style, toy_problems("train", n)))
tag = f"{model}_{style}_{steps}_{lr:g}_n{n}"
m = sft(base, data, W/tag, steps, lr)
evaluate(m, W/f"ev_{tag}", n=200)
if os.environ.get("WS"): sweep(base, m, W/f"sweep_{tag}", [float(x) for x in os.environ["WS"].split(",")])
