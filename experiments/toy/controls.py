"""Learnability controls: the student (toy-s, shipped) fine-tuned on ground-truth solutions of the same problems in each style.
usage: python experiments/toy/controls.py WORK STEPS LR STYLE[,STYLE...] [MODEL]"""
import sys; from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import *
from micota.toy import toy_model_path
W = Path(sys.argv[1]); W.mkdir(parents=True, exist_ok=True)
steps, lr, styles = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].split(",")
model = sys.argv[5] if len(sys.argv) > 5 else "toy-s"
train = toy_problems("train", 3000)
if not (W/f"ev_{model}_base").exists(): evaluate(toy_model_path(model), W/f"ev_{model}_base")
for st in styles:
    if not (W/f"{st}.jsonl").exists(): write_jsonl(W/f"{st}.jsonl", records(st, train))
    m = sft(toy_model_path(model), W/f"{st}.jsonl", W/f"{model}_{st}_{steps}_{lr:g}", steps, lr)
    evaluate(m, W/f"ev_{model}_{st}_{steps}_{lr:g}", n=200)
