"""Peak memory and time of scoring one long response: micota's chunked head (`micota.analysis.target_nll`) against the
full-logits way (`model(ids).logits`, then log_softmax over the whole sequence).

The model is Qwen2.5-0.5B-shaped with random weights (hidden 896, 24 layers, 14 heads, 2 kv heads, intermediate 4864,
vocab 151,936, tied embeddings), built from a transformers Qwen2Config. Each way runs in its own subprocess so that
`resource.getrusage(RUSAGE_SELF).ru_maxrss` is its own peak. Printed per way: resident memory after the model is built,
the process's peak, the peak above the built model (what scoring costs), wall time of the scoring, and the NLL (both
ways must agree).

usage: python bench/align.py [--tokens 8192] [--prompt 64] [--layers 24] [--dtype bfloat16|float32] [--chunk 512]
       (--layers N: fewer layers, for a faster run; the logits' memory does not depend on it)
"""
import argparse, json, os, resource, subprocess, sys, time

def rss_now() -> int:
    "Resident set size now, bytes."
    with open("/proc/self/statm") as f: return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def peak() -> int: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB

def one(args):
    import torch
    torch.set_num_threads(args.threads)
    from transformers import Qwen2Config, Qwen2ForCausalLM
    dtype = getattr(torch, args.dtype)
    cfg = Qwen2Config(hidden_size=896, num_hidden_layers=args.layers, num_attention_heads=14, num_key_value_heads=2,
                      intermediate_size=4864, vocab_size=151936, max_position_embeddings=32768, tie_word_embeddings=True,
                      rope_theta=1e6, attn_implementation="sdpa")
    torch.manual_seed(0)
    torch.set_default_dtype(dtype)  # built in its dtype: no fp32 copy inflates the peak
    model = Qwen2ForCausalLM(cfg).eval()
    torch.set_default_dtype(torch.float32)
    n = args.prompt + args.tokens
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, cfg.vocab_size, (1, n), generator=g)
    labels = ids.clone(); labels[:, :args.prompt] = -100
    base_rss, base_peak = rss_now(), peak()
    t = time.time()
    if args.way == "chunked":
        from micota.analysis import target_nll
        nll = target_nll(model, ids, labels, chunk=args.chunk)
    else:
        with torch.inference_mode():
            logits = model(input_ids=ids, use_cache=False).logits
            lp = torch.log_softmax(logits, -1, dtype=torch.float32)  # fp32 log-probs, no second fp32 copy of the logits
            tgt = labels[0, 1:]; keep = tgt != -100
            nll = -lp[0, :-1].gather(-1, tgt.clamp(min=0)[:, None])[:, 0][keep]  # gather first: no copy of the log-probs
    dt = time.time() - t
    print(json.dumps(dict(way=args.way, model_rss=base_rss, build_peak=base_peak, peak=peak(), extra=peak() - base_rss,
                          seconds=round(dt, 1), tokens=int(nll.numel()), nll=round(float(nll.float().mean()), 5))))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokens", type=int, default=8192, help="response tokens scored")
    ap.add_argument("--prompt", type=int, default=64, help="prompt tokens before them (context, not scored)")
    ap.add_argument("--layers", type=int, default=24, help="decoder layers (24: Qwen2.5-0.5B)")
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    ap.add_argument("--chunk", type=int, default=512, help="positions per lm_head + log-softmax chunk")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--way", choices=["chunked", "full", "both"], default="both")
    args = ap.parse_args()
    if args.way != "both": return one(args)
    GB = 1 << 30
    print(f"one {args.tokens}-token response (+{args.prompt} prompt tokens), Qwen2.5-0.5B shape, {args.layers} layers, "
          f"{args.dtype}, {args.threads} thread(s), chunk {args.chunk}")
    print(f"{'way':<8} {'model RSS':>10} {'peak RSS':>9} {'scoring':>8} {'time':>7}  nll")
    res = {}
    for way in ("chunked", "full"):
        cmd = [sys.executable, __file__, *sys.argv[1:], "--way", way]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode: print(f"{way}: failed (exit {p.returncode}): {p.stderr.strip().splitlines()[-1:]}"); continue
        r = res[way] = json.loads(p.stdout.strip().splitlines()[-1])
        print(f"{way:<8} {r['model_rss']/GB:>8.2f}GB {r['peak']/GB:>7.2f}GB {r['extra']/GB:>6.2f}GB {r['seconds']:>6.1f}s  {r['nll']}")
    if len(res) == 2:
        c, f = res["chunked"], res["full"]
        print(f"scoring memory: chunked {c['extra']/GB:.2f} GB vs full logits {f['extra']/GB:.2f} GB "
              f"({f['extra']/max(c['extra'], 1):.1f}x); NLL difference {abs(c['nll'] - f['nll']):.2g}")

if __name__ == "__main__": main()
