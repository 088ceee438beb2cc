"""Packing keeps samples apart (same per-sample loss packed or alone), and only response tokens carry loss.

The bins are trl's `pack_dataset` (bfd) and the batches trl's `DataCollatorForLanguageModeling` (micota's `pack_sft`,
`SFTCollator`): `flatten=True` is trl's padding-free layout, `flatten=False` micota's one-row-a-bin layout over it."""
import pytest
from micota.core import set_threads

set_threads()

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from micota.tiny import build_tiny_model
from micota.sft import SFTCollator, pack_sft, sft_record, tokenize_sft

def pack_examples(examples, max_length): return list(pack_sft(examples, max_length))  # rows as dicts

RECORDS = [sft_record(r) for r in [
    {"prompt": "Compute 12 + 30.\nPlease reason step by step.", "completion": "12 + 30 = 42. So the answer is \\boxed{42}."},
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 7 * 6?"},
                  {"role": "assistant", "content": "42"}, {"role": "user", "content": "And 81 - 9?"},
                  {"role": "assistant", "content": "81 - 9 = 72. Final Answer: \\boxed{72}"}]},
    {"problem": "Solve 5 + 5.", "completion": "First, 5 + 5 = 10. \\boxed{10}"},
    {"prompt": [{"role": "user", "content": "Add 1 and 2."}], "completion": [{"role": "assistant", "content": "3"}]},
]]

@pytest.fixture(scope="module")
def tiny():
    path = build_tiny_model("tiny-s")
    tok = AutoTokenizer.from_pretrained(path)
    examples, stats = tokenize_sft(RECORDS, tok, max_length=512)
    return path, tok, examples, stats

def per_sample_nll(model, batch, spans):
    "Per-sample summed NLL of the response tokens, from one forward of `batch`; spans: (row, start, length) per sample."
    with torch.no_grad():
        logits = model(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False).logits.float()
    out = []
    for row, start, n in spans:
        lg, lab = logits[row, start:start + n - 1], batch["labels"][row, start + 1:start + n]
        out.append(torch.nn.functional.cross_entropy(lg, lab, ignore_index=-100, reduction="sum").item())
    return out

@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("flatten", [False, True])
def test_packed_loss_equals_each_sample_alone(tiny, attn, flatten):
    path, tok, examples, _ = tiny
    model = AutoModelForCausalLM.from_pretrained(path, attn_implementation=attn).eval()
    col = SFTCollator(pad_id=tok.pad_token_id, layout="flat" if flatten else "rows")
    one = SFTCollator(pad_id=tok.pad_token_id)  # an example alone: a padded batch of one
    alone = [per_sample_nll(model, one([e]), [(0, 0, len(e["input_ids"]))])[0] for e in examples]
    rows = pack_examples(examples, max_length=2 * max(len(e["input_ids"]) for e in examples))
    assert len(rows) < len(examples)  # something was really packed
    batch = col(rows)
    spans, order, off = [], [], 0
    for r, row in enumerate(rows):
        start = off if flatten else 0
        for n in row["seq_lengths"]:
            spans.append((0 if flatten else r, start, n)); start += n
        off += len(row["input_ids"])
    # which example is which: match by their tokens
    ids = batch["input_ids"]
    for row_i, start, n in spans:
        seq = ids[row_i, start:start + n].tolist()
        order.append(next(i for i, e in enumerate(examples) if e["input_ids"] == seq))
    packed = per_sample_nll(model, batch, spans)
    assert sorted(order) == list(range(len(examples)))
    for i, got in zip(order, packed):
        assert got == pytest.approx(alone[i], rel=1e-5, abs=1e-4), (i, got, alone[i])

def test_packed_batch_loss_equals_padded_batch_loss(tiny):
    "The token-mean loss the trainer minimises is the same for a packed batch and a padded one."
    path, tok, examples, _ = tiny
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    col = SFTCollator(pad_id=tok.pad_token_id)
    with torch.no_grad():
        padded = model(**col(examples), use_cache=False).loss.item()
        packed = model(**SFTCollator(pad_id=tok.pad_token_id, layout="rows")(pack_examples(examples, 512)), use_cache=False).loss.item()
    assert packed == pytest.approx(padded, rel=1e-5)

def test_only_response_tokens_carry_loss(tiny):
    path, tok, examples, stats = tiny
    for r, e in zip(RECORDS, examples):
        trained = [t for t in e["labels"] if t != -100]
        assert tok.decode(trained) == r["completion"][0]["content"] + "<|im_end|>"  # the response and its EOS, nothing else
        prompt = [t for t, l in zip(e["input_ids"], e["labels"]) if l == -100]
        assert tok.decode(prompt) == tok.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
        assert e["labels"][-1] == tok.convert_tokens_to_ids("<|im_end|>") != tok.pad_token_id
    # the multi-turn record: its earlier assistant turn ("42") is context, not target
    assert tok.decode([t for t in examples[1]["labels"] if t != -100]).startswith("81 - 9")
    # packed: labels kept are exactly the responses, and no sample's first token is a target
    batch = SFTCollator(pad_id=tok.pad_token_id, layout="rows")(pack_examples(examples, 512))
    kept = sorted(t for t in batch["labels"].flatten().tolist() if t != -100)
    assert kept == sorted(t for e in examples for t in e["labels"] if t != -100)
    starts = batch["position_ids"] == 0
    assert (batch["labels"][starts] == -100).all()
    assert stats["response_tokens"] == len(kept)

def test_pad_is_never_eos_and_padding_carries_no_loss(tiny):
    path, tok, examples, _ = tiny
    batch = SFTCollator(pad_id=tok.pad_token_id)(examples)
    assert tok.pad_token_id != tok.eos_token_id
    assert (batch["labels"][batch["attention_mask"] == 0] == -100).all()
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    assert (batch["labels"] == eos).sum().item() >= len(examples)  # every response's EOS is a target

def test_trl_rows_with_a_mask_leak_so_micota_drops_it(tiny):
    "Why micota's `rows` layout is not trl's `return_position_ids=True`: with trl's all-ones mask, packed samples see each other."
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling
    from micota.sft import packing_is_exact
    path, tok, _, _ = tiny
    model = AutoModelForCausalLM.from_pretrained(path, attn_implementation="sdpa").eval()
    assert packing_is_exact(model, collator=SFTCollator(pad_id=0, layout="rows"))
    assert not packing_is_exact(model, collator=DataCollatorForLanguageModeling(pad_token_id=0, return_position_ids=True))
