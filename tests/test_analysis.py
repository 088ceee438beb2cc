"""`micota align` end to end through the console script, on the shipped toy student: its figures recompute from the
model's full logits, trained text scores lower than shuffled text, cut sequences are counted, bad input fails loudly."""
import csv, json, math, subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent/"micota"

def micota(*args, check=True):
    p = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=300)
    if check: assert p.returncode == 0, p.stderr
    return p

def rows(path): return list(csv.DictReader(open(path, newline="")))

@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from micota.core import write_jsonl
    from micota.toy import toy_sft_records
    from micota.analysis import shuffle_responses
    d = tmp_path_factory.mktemp("align")
    short = toy_sft_records("mid", 6)  # the style toy-s learnt
    write_jsonl(d/"short.jsonl", short)
    write_jsonl(d/"shuffled.jsonl", shuffle_responses(short, seed=1))
    return d, short

def render(tok, r):
    "Prompt tokens (generation prompt included) and response tokens (through <|im_end|>) of one record."
    msgs = r["messages"]
    p = tok.apply_chat_template(msgs[:-1], tokenize=False, add_generation_prompt=True)
    full = tok.apply_chat_template(msgs, tokenize=False)
    resp = full[len(p):]; resp = resp[:resp.index("<|im_end|>") + len("<|im_end|>")]
    return tok(p, add_special_tokens=False)["input_ids"], tok(resp, add_special_tokens=False)["input_ids"]

def direct_nll(records):
    "Per-record response-token NLLs from the model's full logits, rendered here independently of micota."
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from micota.toy import toy_model_path
    path = toy_model_path("toy-s")
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path).eval()
    out = []
    for r in records:
        P, R = render(tok, r)
        ids = torch.tensor([P + R])
        with torch.no_grad(): lp = model(input_ids=ids).logits[0].double().log_softmax(-1)
        out.append([-lp[len(P) + i - 1, t].item() for i, t in enumerate(R)])
    return out

def test_align_end_to_end(data, tmp_path):
    d, short = data
    out = tmp_path/"an"
    p = micota("align", "--model", "toy-s", "--data", f"{d}/short.jsonl,noise={d}/shuffled.jsonl", "--out", out,
               "--bins", "60,80", "--first_n", "16", "--batch_size", "4", "--chunk", "7")
    assert "short" in p.stdout and "noise" in p.stdout
    assert sorted(x.name for x in out.iterdir()) == ["alignment.csv", "alignment.json", "alignment_bins.csv", "lengths.png", "nll_bins.png"]
    ov = {r["data"]: r for r in rows(out/"alignment.csv")}
    assert list(rows(out/"alignment.csv")[0]) == ["data", "nll", "ppl", "tokens", "truncated", "sequences"]
    assert float(ov["short"]["nll"]) * 100 < float(ov["noise"]["nll"])  # trained text far likelier than its shuffle
    # the figures recompute from the model's full logits
    nll = direct_nll(short)
    n = sum(map(len, nll))
    assert int(ov["short"]["tokens"]) == n and int(ov["short"]["truncated"]) == 0 and int(ov["short"]["sequences"]) == 6
    assert abs(float(ov["short"]["nll"]) - sum(map(sum, nll)) / n) < 1e-5
    assert abs(float(ov["short"]["ppl"]) - math.exp(float(ov["short"]["nll"]))) < 1e-4
    bins = [r for r in rows(out/"alignment_bins.csv") if r["data"] == "short"]
    first = [r for r in bins if r["bin"] == "first 16"][0]
    assert int(first["tokens"]) == sum(min(16, len(x)) for x in nll)
    assert abs(float(first["nll"]) - sum(sum(x[:16]) for x in nll) / int(first["tokens"])) < 1e-5
    by_len = [r for r in bins if r is not first]
    assert sum(int(r["tokens"]) for r in by_len) == n and sum(int(r["sequences"]) for r in by_len) == 6
    for r in by_len:  # each bin holds the responses whose length falls in it
        lo, _, hi = r["bin"].partition("-")
        sel = [x for x in nll if int(lo.rstrip("+")) <= len(x) <= (int(hi) if hi else 10**9)]
        assert int(r["sequences"]) == len(sel) and abs(float(r["nll"]) - sum(map(sum, sel)) / sum(map(len, sel))) < 1e-5
    meta = json.loads((out/"alignment.json").read_text())
    assert meta["settings"]["chunk"] == 7 and meta["data"]["noise"].endswith("shuffled.jsonl")

def test_align_counts_truncation(data, tmp_path):
    d, short = data
    p = micota("align", "--model", "toy-s", "--data", f"{d}/short.jsonl", "--out", tmp_path, "--max_length", "130")
    ov = rows(tmp_path/"alignment.csv")[0]
    from transformers import AutoTokenizer
    from micota.toy import toy_model_path
    tok = AutoTokenizer.from_pretrained(toy_model_path("toy-s"))
    lens = [sum(map(len, render(tok, r))) for r in short]
    n_cut = sum(L > 130 for L in lens)
    assert 0 < n_cut < 6 and int(ov["truncated"]) == n_cut
    assert "longer than max_length=130 and were cut" in p.stderr

def test_align_bad_input_fails_loudly(data, tmp_path):
    d, _ = data
    (tmp_path/"bad.jsonl").write_text('{"messages": [{"role": "user", "content": "1+1"}, {"role": "assistant", "content": "2"}]}\n{"text": "hi"}\n')
    p = micota("align", "--model", "toy-s", "--data", tmp_path/"bad.jsonl", "--out", tmp_path/"o", check=False)
    assert p.returncode != 0 and "bad.jsonl:2" in p.stderr and not (tmp_path/"o"/"alignment.csv").exists()
    p = micota("align", "--model", "toy-s", "--data", f"{d}/short.jsonl", "--out", tmp_path/"o", "--chunk", "0", check=False)
    assert p.returncode != 0 and "--chunk" in p.stderr
    p = micota("align", "--model", "toy-s", "--data", f"a={d}/nothere.jsonl", "--out", tmp_path/"o", check=False)
    assert p.returncode != 0 and "nothere.jsonl" in p.stderr

def test_import_is_light():
    code = "import sys, micota.analysis; bad=[m for m in ('torch','transformers','matplotlib') if m in sys.modules]; assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)
