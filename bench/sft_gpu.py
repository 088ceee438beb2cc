"""micota's SFT batching on one GPU, beside the anchor figures (shared/bench/ANCHORS.md), in one job.

Drives micota's `SFTCollator` and `pack_sft` (trl's bfd bins and collator) through a plain `transformers.Trainer` (what trl's SFTTrainer
runs) on random-weight Qwen2.5-0.5B/1.5B-shaped models, with the anchor's data shape: batch 4 x up to 4,096 tokens,
sample lengths uniform over 512..4,096, bf16, gradient checkpointing, lr 1e-5, 30 steps of which the first 5 are
not timed. Needs torch, transformers, trl and datasets (fastcore is stubbed if missing).

Modes (each prints one JSON line):
  anchor_padded    the anchor's own padded collate, random order (reproduces ANCHORS.md's "padded" figure here)
  anchor_wrapped   the anchor's wrapped packing, sample boundaries IGNORED (an upper bound, not a correct method)
  grouped          micota's fallback: SFTCollator padded batches, samples grouped by length
  packed_sdpa      micota's default without flash-attn: packed rows, per-sample position_ids, SDPA block-diagonal mask
  packed_flex      packed rows with attn_implementation="flex_attention" (document mask, compiled)
  packed_flash     packed, flattened to one row (varlen); only if flash_attn is installed
Before timing, `packing_check` lines say whether each packed backend keeps samples apart on this GPU
(micota.sft.packing_is_exact: three sequences packed vs each alone, under bf16 autocast).

usage: python bench/sft_gpu.py [tiny] [0.5B] [1.5B] [modes...] [nocheck]
  tiny   CPU smoke test (tiny shape, fp32, a few steps)
  0.5B / 1.5B  only that shape (default: both);  modes: any of the names above (default: all that can run)
Writes JSON lines to stdout and to sft_gpu.jsonl in $OUT (default: the current folder).
Budget: about 6-8 minutes for both shapes and all modes on an H200; give one shape to halve it.
"""
import importlib.util, json, os, sys, time, types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if importlib.util.find_spec("fastcore") is None:  # the GPU machine may lack fastcore: micota.sft needs it only for its CLI
    fc, fs = types.ModuleType("fastcore"), types.ModuleType("fastcore.script")
    fs.call_parse = lambda f=None, **kw: f if f is not None else (lambda g: g)
    fs.Param = lambda *a, **k: None
    fc.script = fs; sys.modules["fastcore"] = fc; sys.modules["fastcore.script"] = fs

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM, Trainer, TrainerCallback, TrainingArguments
from micota.sft import SFTCollator, pack_sft, packing_is_exact

TINY = "tiny" in sys.argv
dev = "cpu" if TINY else "cuda"
OUT = os.environ.get("OUT", ".")
log = open(os.path.join(OUT, "sft_gpu.jsonl"), "a")
MODES = ["anchor_padded", "anchor_wrapped", "grouped", "packed_sdpa", "packed_flex", "packed_flash"]
HAS_FLASH = importlib.util.find_spec("flash_attn") is not None

def emit(**kw):
    print(json.dumps(kw), flush=True); log.write(json.dumps(kw) + "\n"); log.flush()

def sync():
    if dev == "cuda": torch.cuda.synchronize()

shapes = {  # Qwen2.5-Instruct shapes, as in gpu_anchor.py
    "0.5B": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2),
    "1.5B": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2),
}
picked = [a for a in sys.argv[1:] if a in shapes]
if picked: shapes = {k: shapes[k] for k in picked}
if TINY: shapes = {"tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)}
modes = [m for m in sys.argv[1:] if m in MODES] or [m for m in MODES if m != "packed_flash" or HAS_FLASH]
if TINY: modes = [m for m in modes if m not in ("packed_flex", "packed_flash")]  # flex does not compile on a CPU here

def make(name, attn):
    cfg = Qwen2Config(vocab_size=151936 if not TINY else 1000, max_position_embeddings=32768, tie_word_embeddings=True,
                      rope_theta=1e6, use_cache=False, **shapes[name])  # use_cache=False: else the packed mask is skipped
    cfg._attn_implementation = attn
    torch.manual_seed(0)
    with torch.device(dev):
        m = Qwen2ForCausalLM(cfg)
    return m, cfg

def attn_of(mode):
    return {"packed_flex": "flex_attention", "packed_flash": "flash_attention_2"}.get(mode, "sdpa")

def data(cfg, mode, steps, bs, max_len):
    "Rows for a mode: the anchor's samples (same generator), packed or not."
    g = torch.Generator().manual_seed(1)
    n = steps * bs * (2 if mode.startswith("anchor") or mode == "grouped" else 4)
    lens = torch.randint(max_len // 8, max_len + 1, (n,), generator=g).tolist()
    rows = [torch.randint(100, cfg.vocab_size - 100, (L,), generator=g).tolist() for L in lens]
    if mode == "anchor_wrapped":
        flat = [t for r in rows for t in r]
        return [{"input_ids": flat[i:i + max_len]} for i in range(0, len(flat) - max_len + 1, max_len)]
    if mode == "anchor_padded": return [{"input_ids": r} for r in rows]
    ex = [{"input_ids": r, "labels": r} for r in rows]
    if mode == "grouped": return [{**e, "length": len(e["input_ids"])} for e in ex]
    return list(pack_sft(ex, max_len))

def anchor_collate(batch):  # gpu_anchor.py's: right-pad, labels = ids with pads ignored
    L = max(len(b["input_ids"]) for b in batch)
    ids = torch.zeros(len(batch), L, dtype=torch.long); lab = torch.full((len(batch), L), -100); att = torch.zeros(len(batch), L, dtype=torch.long)
    for i, b in enumerate(batch):
        n = len(b["input_ids"]); ids[i, :n] = torch.tensor(b["input_ids"]); lab[i, :n] = ids[i, :n]; att[i, :n] = 1
    return {"input_ids": ids, "labels": lab, "attention_mask": att}

class Counting:
    "A collator wrapper that records each batch's real tokens, in order (dataloader_num_workers=0)."
    def __init__(self, f): self.f, self.real = f, []
    def __call__(self, items):
        self.real.append(sum(len(it["input_ids"]) for it in items)); return self.f(items)

class StepTimer(TrainerCallback):
    def __init__(self, warm): self.warm, self.t0, self.steps = warm, None, 0
    def on_step_end(self, args, state, control, **kw):
        self.steps += 1
        if self.steps == self.warm: sync(); self.t0 = time.perf_counter()
    def seconds(self): sync(); return time.perf_counter() - self.t0

def check_packing(name):
    for attn in ["sdpa", "eager"] + ([] if TINY else ["flex_attention"]) + (["flash_attention_2"] if HAS_FLASH and not TINY else []):
        m, _ = make(name, attn)
        t = time.perf_counter()
        for flatten in (False, True):
            ok = packing_is_exact(m.to(torch.bfloat16) if not TINY else m, flatten=flatten)
            emit(kind="packing_check", model=name, attn=attn, layout="flattened" if flatten else "rows", exact=ok,
                 seconds=round(time.perf_counter() - t, 2))
        del m
        if dev == "cuda": torch.cuda.empty_cache()

def sft_bench(name, mode, steps=30, warm=5, max_len=4096, bs=4):
    if TINY: steps, warm, max_len, bs = 6, 2, 64, 2
    m, cfg = make(name, attn_of(mode))
    rows = data(cfg, mode, steps, bs, max_len)
    col = Counting(anchor_collate if mode.startswith("anchor") else SFTCollator(pad_id=0, layout={"grouped": "padded", "packed_flash": "flat"}.get(mode, "rows")))
    args = TrainingArguments(output_dir=os.path.join("/tmp", f"sftgpu-{name}-{mode}"), max_steps=steps, per_device_train_batch_size=bs,
                             learning_rate=1e-5, bf16=(dev == "cuda"), logging_steps=1000, save_strategy="no", report_to=[],
                             gradient_checkpointing=True, use_cpu=(dev == "cpu"), dataloader_num_workers=0, remove_unused_columns=False,
                             train_sampling_strategy="group_by_length" if mode == "grouped" else "random")
    timer = StepTimer(warm)
    tr = Trainer(model=m, args=args, train_dataset=rows, callbacks=[timer], data_collator=col)
    if dev == "cuda": torch.cuda.reset_peak_memory_stats()
    tr.train()
    dt = timer.seconds(); timed = steps - warm
    real = sum(col.real[warm:steps])  # batches warm..steps-1 are the timed steps (prefetched ones are not counted)
    params = sum(p.numel() for p in m.parameters())
    emit(kind="micota_sft", model=name, mode=mode, attn=attn_of(mode), params=params, batch=bs, max_len=max_len, timed_steps=timed,
         seconds=round(dt, 3), real_tok_per_s=round(real / dt, 1), mfu_vs_790tflops=round(6 * params * real / dt / 790e12, 4),
         boundaries_respected=not mode.endswith("wrapped"),
         peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if dev == "cuda" else None)
    del tr, m
    if dev == "cuda": torch.cuda.empty_cache()

if __name__ == "__main__":
    import transformers
    emit(kind="env", torch=torch.__version__, transformers=transformers.__version__, flash_attn=HAS_FLASH,
         gpu=torch.cuda.get_device_name(0) if dev == "cuda" else "cpu", modes=modes)
    for name in shapes:
        if "nocheck" not in sys.argv: check_packing(name)
        for mode in modes:
            try: sft_bench(name, mode)
            except Exception as e:  # one failing backend (flex compile, flash import) must not lose the other figures
                emit(kind="micota_sft", model=name, mode=mode, error=f"{type(e).__name__}: {str(e)[:500]}")
