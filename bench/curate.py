"""Time `micota.curate.curate` on N synthetic generation records of about T tokens each (pre-graded: grading is
excluded), with lengths from the records (`count_with=writer`, the paper's rule) -- goal: 20,000 x 4,000 in under a
minute -- and, beside it, retokenising the responses with a fast tokenizer of Qwen's vocabulary size (BPE trained
here with `tokenizers`, Qwen2's split regex, byte-level), batched. Retokenising is measured on a subset and
extrapolated to N when --retok_n < N (say so in the figures).

usage: python bench/curate.py [--n 20000] [--tokens 4000] [--retok_n 1000] [--threads 1]
"""
import argparse, json, os, random, sys, tempfile, time
from pathlib import Path

QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN_VOCAB = 151646


def corpus_text(limit_mb:float=24.0) -> str:
    "Real, varied text to train the tokenizer on and to cut responses from: Python sources and docs of the venv."
    import site
    roots = [Path(p) for p in site.getsitepackages()]
    out, size = [], 0
    for root in roots:
        for f in sorted(root.rglob("*.py")):
            try: t = f.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError): continue
            out.append(t); size += len(t)
            if size > limit_mb * 1e6: return "".join(out)
    return "".join(out)


def qwen_like_tokenizer(cache:Path, text:str, vocab:int=QWEN_VOCAB):
    "A fast BPE tokenizer with Qwen2's pre-tokenizer, trained on `text` (cached as tokenizer.json)."
    from tokenizers import Tokenizer, Regex, models, pre_tokenizers, decoders, trainers
    from transformers import PreTrainedTokenizerFast
    f = cache/"tokenizer.json"
    if not f.exists():
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
                                                     pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<|endoftext|>"], show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        chunk = 1 << 16
        t0 = time.time()
        tok.train_from_iterator((text[i:i + chunk] for i in range(0, len(text), chunk)), trainer=trainer)
        print(f"trained the tokenizer in {time.time() - t0:.0f}s: vocabulary {tok.get_vocab_size()} (asked {vocab})")
        cache.mkdir(parents=True, exist_ok=True); tok.save(str(f))
    return PreTrainedTokenizerFast(tokenizer_file=str(f), eos_token="<|endoftext|>")


def synthetic_records(n:int, tokens:int, text:str, seed:int=0) -> list:
    "N pre-graded generation records, about `tokens` long (4 characters a token), 4 samples a problem."
    rng = random.Random(seed)
    out = []
    for i in range(n):
        t = max(1, int(rng.gauss(tokens, tokens / 5)))
        start = rng.randrange(0, len(text) - 4 * t - 1)
        pid, s = f"p{i // 4}", i % 4
        out.append(dict(id=f"{pid}#{s}", problem_id=pid, sample=s, source="math12k", answer="1", user=f"Problem {i // 4}: what is x?",
                        completion=text[start:start + 4 * t] + " \\boxed{1}", finish_reason="length" if rng.random() < 0.1 else "stop",
                        completion_tokens=t, correct=rng.random() < 0.7, pred="1"))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000); ap.add_argument("--tokens", type=int, default=4000)
    ap.add_argument("--retok_n", type=int, default=1000, help="records retokenised (extrapolated to --n)")
    ap.add_argument("--threads", type=int, default=1, help="tokenizer threads (RAYON_NUM_THREADS)")
    ap.add_argument("--corpus_mb", type=float, default=40.0)
    a = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(a.threads); os.environ["TOKENIZERS_PARALLELISM"] = "true" if a.threads > 1 else "false"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from micota.core import micota_home, write_jsonl
    from micota.curate import curate, count_tokens
    text = corpus_text(a.corpus_mb)
    print(f"corpus: {len(text) / 1e6:.1f} MB of text")
    recs = synthetic_records(a.n, a.tokens, text)
    tmp = Path(tempfile.mkdtemp(prefix="bench-curate-"))
    for i in range(0, len(recs), 1000): write_jsonl(tmp/"gen"/f"part-{i // 1000:05d}.jsonl", recs[i:i + 1000])
    size = sum(f.stat().st_size for f in (tmp/"gen").iterdir()) / 1e6
    t0, c0 = time.time(), time.process_time()
    kept = curate(tmp/"gen", tmp/"out", max_tokens=int(a.tokens * 1.2), policy="all", pass_rate="0.25,1")
    secs, csecs = time.time() - t0, time.process_time() - c0
    st = json.loads((tmp/"out"/"stats.json").read_text())
    print(f"curate, lengths from the records: {a.n} records of ~{a.tokens} tokens ({size:.0f} MB of shards) -> {len(kept)} kept "
          f"in {secs:.1f}s wall, {csecs:.1f}s CPU ({a.n / secs:.0f} records/s; read, filter, write, plot; grading excluded)")
    print("  steps: " + ", ".join(f"{s['step']} -{s['dropped']}" for s in st["steps"]))
    tok = qwen_like_tokenizer(micota_home()/"bench"/"qwen-like-bpe", text)
    sub = [r["completion"] for r in recs[:a.retok_n]]
    t0, c0 = time.time(), time.process_time(); counts = count_tokens(sub, tok); rsecs, rcpu = time.time() - t0, time.process_time() - c0
    per = rsecs / len(sub)
    ratio = sum(counts) / sum(len(s) for s in sub)
    tag = "measured" if a.retok_n >= a.n else f"extrapolated from {len(sub)} records"
    print(f"retokenise (fast BPE, vocabulary {tok.vocab_size}, Qwen2 split regex, {a.threads} thread(s)): {len(sub)} responses, "
          f"{sum(counts) / len(sub):.0f} tokens each on average ({ratio:.2f} tokens/char), in {rsecs:.1f}s wall, {rcpu:.1f}s CPU "
          f"({sum(counts) / rsecs:,.0f} tokens/s); {a.n} records: {per * a.n:.0f}s wall, {rcpu / len(sub) * a.n:.0f}s CPU ({tag})")


if __name__ == "__main__":
    main()
