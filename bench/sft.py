"""Real tokens/s of micota's SFT on the tiny models, on this machine's CPU: padded batches (random order, what a
plain Trainer loop does), padded batches grouped by length (micota's fallback), and micota's default (packed rows,
samples kept apart). Long-CoT-like data: response lengths spread from max_length/8 to max_length.

usage: python bench/sft.py [tiny-s] [tiny-m] [tiny-l] [--steps N] [--max-length L]
Prints one JSON line per run and a table; with $OUT set, also appends them to $OUT/sft_results.jsonl.
Other processes share this machine: the load average is printed with the figures.
"""
import json, os, random, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

def synthetic_records(n, max_length, seed=0):
    "Ragged arithmetic 'CoT': prompt ~20 tokens, response lengths uniform over max_length/8 .. max_length - 40."
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.randint(10, 99), rng.randint(10, 99)
        target = rng.randint(max_length // 8, max_length - 40)
        steps, s = [], a
        while len(" ".join(steps)) < target * 0.9:  # the tiny tokenizer: about one token a character here
            k = rng.randint(1, 9); steps.append(f"{s} + {k} = {s + k}."); s += k
        out.append({"id": f"b{i}", "prompt": f"Compute {a} + {b}.\nPlease reason step by step.", "completion": " ".join(steps) + f" \\boxed{{{a + b}}}"})
    return out

def main():
    from micota.core import set_threads
    threads = set_threads()
    from micota.sft import train_sft
    args = sys.argv[1:]
    models = [a for a in args if a.startswith("tiny-")] or ["tiny-s", "tiny-m"]
    steps = int(args[args.index("--steps") + 1]) if "--steps" in args else 12
    L = int(args[args.index("--max-length") + 1]) if "--max-length" in args else 512
    recs = synthetic_records(600, L)
    modes = [("padded, random order", dict(packing="off", group_by_length=False)),
             ("padded, grouped by length", dict(packing="off")),
             ("micota default (packed)", dict(packing="auto"))]
    rows = []
    for model in models:
        for name, kw in modes:
            with tempfile.TemporaryDirectory() as tmp:
                t = time.time()
                train_sft(model, recs, tmp, max_steps=steps, batch_size=4, grad_accum=1, max_length=L, learning_rate=1e-4,
                          save_steps=10**6, logging_steps=10**6, overlong="drop", **kw)
                m = json.loads((Path(tmp)/"metrics.json").read_text())
            load = os.getloadavg()
            row = dict(model=model, mode=name, steps=steps, batch=4, max_length=L, threads=threads, packed=m["packed"],
                       real_tokens=m["real_tokens"], padding_fraction=m["padding_fraction"], train_seconds=m["train_seconds"],
                       real_tok_per_s=m["real_tok_per_s"], loadavg_1m=round(load[0], 2), wall_s=round(time.time() - t, 1))
            print(json.dumps(row), flush=True); rows.append(row)
    if os.environ.get("OUT"):
        with open(Path(os.environ["OUT"])/"sft_results.jsonl", "a") as f:
            for r in rows: f.write(json.dumps(r) + "\n")
    print(f"\n{os.popen('uptime').read().strip()}")
    print(f"{'model':8s} {'mode':28s} {'real tok/s':>10s} {'padding':>8s} {'load':>5s}")
    for r in rows: print(f"{r['model']:8s} {r['mode']:28s} {r['real_tok_per_s']:>10.0f} {r['padding_fraction']:>8.1%} {r['loadavg_1m']:>5.2f}")

if __name__ == "__main__":
    main()
