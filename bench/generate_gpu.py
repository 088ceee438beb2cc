"""Generation throughput on one CUDA GPU (prepared for a session that has one; not run yet): random-weight
Qwen2.5-0.5B and -1.5B shapes, bf16, batch 64, 256 prompt + 512 new tokens, greedy, every row runs the full budget.

Paths, on the same prompts in one process:
  plain    `model.generate` (the ANCHORS.md figure: ~820 / ~930 tok/s on an H200 with transformers 5.17)
  loop     micota's transformers decode loop (`hf_decode_batch`: dynamic cache, rows leave when done)
  compile  micota's CUDA-graph path (`hf_static_batch`: static cache, transformers' torch.compile reduce-overhead);
           its first call compiles: both that call and a second, steady one are reported
  vllm     vLLM on the same random weights (saved to a temp folder), if vllm is importable

usage: python bench/generate_gpu.py [0.5B] [1.5B] [plain] [loop] [compile] [vllm] [--batch 64] [--tiny]
  (no shape: both; no path: all four; --tiny: a CPU smoke test of this script on a tiny shape)
Writes one JSON line per figure to stdout and to generate_gpu.jsonl in $OUT (default: the current folder).
About 6-8 minutes on an H200 for everything (compilation and vLLM's engine start dominate).
"""
import json, os, sys, tempfile, time

SHAPES = {  # Qwen2.5-Instruct shapes
    "0.5B": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2),
    "1.5B": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1),
}
PATHS = ("plain", "loop", "compile", "vllm")


def main():
    args = sys.argv[1:]
    tiny = "--tiny" in args
    batch = int(args[args.index("--batch") + 1]) if "--batch" in args else 64
    shapes = [a for a in args if a in SHAPES] or (["tiny"] if tiny else ["0.5B", "1.5B"])
    paths = [a for a in args if a in PATHS] or list(PATHS)
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM
    from micota.decode import hf_decode_batch, hf_static_batch, vllm_available, Row
    dev = "cpu" if tiny else "cuda"
    if not tiny and not torch.cuda.is_available(): sys.exit("no CUDA device: use --tiny for a CPU smoke test")
    prompt_len, new = (16, 8) if tiny else (256, 512)
    vocab = 1000 if tiny else 151936
    out_path = os.path.join(os.environ.get("OUT", "."), "generate_gpu.jsonl")
    log = open(out_path, "a")
    def emit(**kw):
        kw.update(batch=batch, prompt_len=prompt_len, new=new, torch=torch.__version__, device=torch.cuda.get_device_name() if not tiny else "cpu")
        print(json.dumps(kw), flush=True); log.write(json.dumps(kw) + "\n"); log.flush()
    sync = torch.cuda.synchronize if not tiny else (lambda: None)
    import transformers
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, shapes {shapes}, paths {paths}", flush=True)

    for shape in shapes:
        cfg = Qwen2Config(vocab_size=vocab, max_position_embeddings=32768, tie_word_embeddings=True, rope_theta=1e6,
                          pad_token_id=0, eos_token_id=None, bos_token_id=None, **SHAPES[shape])
        cfg._attn_implementation = "sdpa"
        torch.manual_seed(0)
        with torch.device(dev): model = Qwen2ForCausalLM(cfg)
        model = model.to(torch.bfloat16).eval()
        model.generation_config.eos_token_id = None
        gen = torch.Generator().manual_seed(1)
        prompts = torch.randint(100, vocab - 100, (batch, prompt_len), generator=gen).tolist()
        rows = lambda: [Row((i, 0), p, new, 0) for i, p in enumerate(prompts)]
        tokens = batch * new

        if "plain" in paths:
            ids = torch.tensor(prompts, device=dev)
            kw = dict(max_new_tokens=new, min_new_tokens=new, do_sample=False, pad_token_id=0, eos_token_id=None)
            with torch.inference_mode():
                model.generate(ids[:, :32], max_new_tokens=8, min_new_tokens=8, do_sample=False, pad_token_id=0)  # warm-up
                sync(); t = time.time(); model.generate(ids, **kw); sync(); dt = time.time() - t
            emit(shape=shape, path="plain model.generate", tok_s=round(tokens / dt, 1), seconds=round(dt, 2))

        if "loop" in paths:
            hf_decode_batch(model, [Row((0, 0), prompts[0][:32], 8, 0)], set(), 0)  # warm-up
            sync(); t = time.time(); done = hf_decode_batch(model, rows(), set(), 0); sync(); dt = time.time() - t
            assert all(len(r.out) == new for r in done)
            emit(shape=shape, path="micota loop", tok_s=round(tokens / dt, 1), seconds=round(dt, 2))

        if "compile" in paths:
            for call in ("first (compiles)", "steady"):
                sync(); t = time.time()
                done = hf_static_batch(model, rows(), set(), 0, prompt_len=prompt_len, batch_size=batch, max_new_tokens=new)
                sync(); dt = time.time() - t
                assert all(len(r.out) == new for r in done)
                emit(shape=shape, path=f"micota static+CUDA graphs, {call}", tok_s=round(tokens / dt, 1), seconds=round(dt, 2))

        if "vllm" in paths and not tiny:
            if not vllm_available(): emit(shape=shape, path="vllm", skipped="vllm is not installed")
            else:
                with tempfile.TemporaryDirectory() as folder:
                    model.save_pretrained(folder, safe_serialization=True)
                    del model; torch.cuda.empty_cache()
                    from vllm import LLM, SamplingParams
                    t = time.time()
                    llm = LLM(model=folder, skip_tokenizer_init=True, dtype="bfloat16", max_model_len=prompt_len + new + 16,
                              gpu_memory_utilization=0.6, seed=0)
                    start = time.time() - t
                    sp = SamplingParams(temperature=0, max_tokens=new, min_tokens=new, ignore_eos=True, detokenize=False)
                    reqs = [{"prompt_token_ids": p} for p in prompts]
                    llm.generate(reqs[:2], SamplingParams(max_tokens=8, detokenize=False), use_tqdm=False)  # warm-up
                    t = time.time(); outs = llm.generate(reqs, sp, use_tqdm=False); dt = time.time() - t
                    n = sum(len(o.outputs[0].token_ids) for o in outs)
                    emit(shape=shape, path="vllm", tok_s=round(n / dt, 1), seconds=round(dt, 2), engine_start_s=round(start, 1))
                    del llm
        else:
            del model
        if not tiny: torch.cuda.empty_cache()
    print(f"figures appended to {out_path}")


if __name__ == "__main__":
    main()
