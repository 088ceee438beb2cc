"""Design 2: a stronger MID base (toy-l + 1000 steps lr 2e-3 on MID), TA = base + SFT on RECHECK (forward re-check passes = f(terms)).
usage: python experiments/toy/design2.py WORK TA_STEPS TA_LR [lora]; ground-truth RECHECK solutions stand in for teacher traces."""
import sys; from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import *
W = Path(sys.argv[1]); W.mkdir(parents=True, exist_ok=True)
steps, lr = int(sys.argv[2]), float(sys.argv[3]); lora = len(sys.argv) > 4 and sys.argv[4] == "lora"
style = os.environ.get("STYLE", "recheck")
train = toy_problems("train", 3000)
if not (W/"mid.jsonl").exists(): write_jsonl(W/"mid.jsonl", records("mid", train))
if not (W/f"{style}.jsonl").exists(): write_jsonl(W/f"{style}.jsonl", records(style, train))
from micota.toy import toy_model_path
base = sft(toy_model_path("toy-l"), W/"mid.jsonl", W/"base_mid", 1000, 2e-3)
if not (W/"ev_base_mid").exists(): evaluate(base, W/"ev_base_mid")
tag = f"ta_{style}_{steps}_{lr:g}" + ("_lora" if lora else "")
ta = sft(base, W/f"{style}.jsonl", W/tag, steps, lr, **(dict(lora=True, lora_r=16, lora_alpha=32) if lora else {}))
evaluate(ta, W/f"ev_{tag}")
ws = [float(x) for x in os.environ.get("WS", "0.3,0.5,0.6,0.7,0.8,0.9").split(",")]
sweep(base, ta, W/f"sweep_{tag}", ws)
