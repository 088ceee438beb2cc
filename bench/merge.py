"""Time and peak RSS of a DARE-TIES merge of two Qwen2.5-0.5B-shaped random models (bf16, 4 shards): micota vs mergekit.

    python bench/merge.py [--shards 4] [--density 0.5] [--weight 0.5] [--keep DIR]

Each merge runs in its own process under /usr/bin/time -v (peak RSS = "Maximum resident set size"); mergekit runs
from .venv-mergekit (bench/mergekit_env.sh builds it) and is skipped when that is missing. Prints one line per tool
and the largest input shard, and checks the goal: micota no slower than mergekit, peak RSS < largest shard + 1 GiB.
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MK = ROOT/".venv-mergekit"/"bin"/"mergekit-yaml"
QWEN25_05B = dict(architectures=["Qwen2ForCausalLM"], model_type="qwen2", hidden_size=896, intermediate_size=4864,
                  num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
                  max_position_embeddings=32768, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True,
                  hidden_act="silu", torch_dtype="bfloat16", bos_token_id=151643, eos_token_id=151645)


def make_models(d:Path, shards:int):
    "Base and tuned (= base + 0.01 * noise) with the Qwen2.5-0.5B tensor names and shapes, bf16, in `shards` files."
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from safetensors.torch import save_file
    from micota.tiny import build_tiny_model
    cfg = AutoConfig.for_model(**{k: v for k, v in QWEN25_05B.items() if k != "architectures"})
    with torch.device("meta"): shapes = {k: tuple(v.shape) for k, v in AutoModelForCausalLM.from_config(cfg).state_dict().items()}
    shapes.pop("lm_head.weight", None)  # tied
    names = list(shapes); total = sum(2 * torch.Size(s).numel() for s in shapes.values())
    groups, cur, acc = [], [], 0
    for k in names:
        cur.append(k); acc += 2 * torch.Size(shapes[k]).numel()
        if acc >= total / shards * (len(groups) + 1) and len(groups) < shards - 1: groups.append(cur); cur = []
    if cur: groups.append(cur)
    tok = Path(build_tiny_model("tiny-s"))  # a tokenizer to carry along (the bench measures tensors, not text)
    out = []
    for m, name in enumerate(("base", "tuned")):
        f = d/name; f.mkdir()
        g = torch.Generator().manual_seed(0)
        wm = {}
        for i, grp in enumerate(groups):
            fn = f"model-{i+1:05d}-of-{len(groups):05d}.safetensors"; sd = {}
            for k in grp:
                t = torch.randn(shapes[k], generator=g) * 0.02
                if m: t += 0.01 * torch.randn(shapes[k], generator=torch.Generator().manual_seed(hash(k) % 2**31))
                sd[k] = t.bfloat16()
            save_file(sd, f/fn, metadata={"format": "pt"}); wm.update({k: fn for k in grp}); del sd
        (f/"model.safetensors.index.json").write_text(json.dumps({"metadata": {"total_size": total}, "weight_map": wm}))
        (f/"config.json").write_text(json.dumps(QWEN25_05B))
        for x in ("tokenizer.json", "tokenizer_config.json"): shutil.copy2(tok/x, f/x)
        out.append(f)
    return out


def timed(cmd, env=None):
    "Wall seconds and peak RSS (MiB) of a command, from /usr/bin/time -v."
    t0 = time.time()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    wall = time.time() - t0
    if p.returncode != 0: raise SystemExit(f"{cmd[0]} failed:\n{p.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    return wall, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shards", type=int, default=4); ap.add_argument("--density", type=float, default=0.5)
    ap.add_argument("--weight", type=float, default=0.5); ap.add_argument("--keep", default="")
    a = ap.parse_args()
    d = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="micota-bench-merge-"))
    d.mkdir(parents=True, exist_ok=True)
    try:
        if not (d/"tuned"/"config.json").exists():
            t0 = time.time(); base, tuned = make_models(d, a.shards); print(f"built two models in {time.time()-t0:.0f}s")
        else: base, tuned = d/"base", d/"tuned"
        shards = sorted(base.glob("*.safetensors"), key=lambda p: p.stat().st_size)
        largest = shards[-1].stat().st_size / 2**20
        print(f"inputs: Qwen2.5-0.5B shape, bf16, {len(shards)} shards, {sum(p.stat().st_size for p in shards)/2**20:.0f} MiB per model, largest shard {largest:.0f} MiB")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        code = ("import sys, torch; torch.set_num_threads(int(sys.argv[4])); from micota.merge import merge_models; "
                "merge_models(sys.argv[1], sys.argv[2], sys.argv[3], method='dare_ties', weight=float(sys.argv[5]), density=float(sys.argv[6]), overwrite=True)")
        threads = env["OMP_NUM_THREADS"]
        shutil.rmtree(d/"ours", ignore_errors=True)
        w, r = timed([sys.executable, "-c", code, str(base), str(tuned), str(d/"ours"), threads, str(a.weight), str(a.density)], env)
        print(f"micota   dare_ties: {w:6.1f} s wall, peak RSS {r:6.0f} MiB (goal < {largest + 1024:.0f} MiB: {'met' if r < largest + 1024 else 'NOT met'})")
        if MK.exists():
            yml = d/"mk.yml"
            yml.write_text(json.dumps({"merge_method": "dare_ties", "base_model": str(base), "dtype": "bfloat16",
                                       "models": [{"model": str(tuned), "parameters": {"weight": a.weight, "density": a.density}}],
                                       "parameters": {"normalize": False}}))
            shutil.rmtree(d/"mk", ignore_errors=True)
            mw, mr = timed([str(MK), str(yml), str(d/"mk")], {**env, "PYTHONPATH": ""})
            print(f"mergekit dare_ties: {mw:6.1f} s wall, peak RSS {mr:6.0f} MiB")
            print(f"micota / mergekit: time x{w / mw:.2f}, RSS x{r / mr:.2f} ({'no slower' if w <= mw else 'SLOWER'})")
        else: print("mergekit: skipped (no .venv-mergekit; bench/mergekit_env.sh builds it)")
    finally:
        if not a.keep: shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__": main()
