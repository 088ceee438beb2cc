"""Two CPU processes (`accelerate launch`, gloo) train the tiny SFT like one process with the same global batch.

Single process: batch 4 rows. DDP: `micota sft --num_processes 2` (it re-launches itself through `accelerate launch`
with micota's ddp.yaml), 2 rows a process. Same packed rows, same sampler seed, token-mean loss averaged across
ranks: the per-step losses agree to 1e-4 (relative) and the final weights to 1e-4 (absolute), float reduction order
being the only difference.
"""
import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

def records(n=16):
    import random
    rng = random.Random(0)
    out = []
    for i in range(n):
        a, b = rng.randint(0, 99), rng.randint(0, 99)
        steps = " ".join(f"{a} + {k} = {a + k}." for k in range(rng.randint(1, 4)))
        out.append({"id": f"r{i}", "prompt": f"Compute {a} + {b}.", "completion": f"{steps} So {a} + {b} = {a + b}. \\boxed{{{a + b}}}"})
    return out

COMMON = dict(max_steps=4, learning_rate=1e-3, max_length=96, grad_accum=1, warmup_ratio=0.0, logging_steps=1, save_steps=1000, seed=0)

def losses(out):
    return [h["loss"] for h in map(json.loads, (out/"log_history.jsonl").read_text().splitlines()) if "loss" in h]

def weights(folder):
    from safetensors.torch import load_file
    return load_file(str(folder/"model.safetensors"))

def test_ddp_two_processes_match_one(tmp_path):
    data = tmp_path/"data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records()))
    cfg = tmp_path/"cfg.yaml"
    cfg.write_text("".join(f"{k}: {v}\n" for k, v in COMMON.items()))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MICOTA_THREADS": "1"}
    # one process, 4 rows a step
    one = subprocess.run([sys.executable, "-m", "micota.sft", "--model", "tiny-s", "--data", str(data), "--out", str(tmp_path/"one"),
                          "--config", str(cfg), "--batch_size", "4"], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert one.returncode == 0, one.stderr[-3000:]
    # two processes, 2 rows each
    two = subprocess.run([sys.executable, "-m", "micota.sft", "--model", "tiny-s", "--data", str(data), "--out", str(tmp_path/"two"),
                          "--config", str(cfg), "--batch_size", "2", "--num_processes", "2", "--strategy", "ddp"],
                         env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert two.returncode == 0, two.stderr[-3000:]
    m1, m2 = (json.loads((tmp_path/d/"metrics.json").read_text()) for d in ("one", "two"))
    assert m1["world_size"] == 1 and m2["world_size"] == 2
    assert m1["packed"] and m2["packed"] and m1["rows"] == m2["rows"]
    assert m1["real_tokens"] == m2["real_tokens"]  # the same tokens were trained on
    l1, l2 = losses(tmp_path/"one"), losses(tmp_path/"two")
    assert len(l1) == len(l2) == 4 and l1[-1] < l1[0]
    assert l2 == pytest.approx(l1, rel=1e-4)
    w1, w2 = weights(tmp_path/"one"/"final"), weights(tmp_path/"two"/"final")
    assert w1.keys() == w2.keys()
    worst = max((w1[k] - w2[k]).abs().max().item() for k in w1)
    print(f"losses one {l1}\nlosses two {l2}\nlargest weight difference {worst:.2e}")
    assert worst < 1e-4, worst
    moved = max((w1[k] - weights(Path(__import__("micota.tiny", fromlist=["x"]).build_tiny_model("tiny-s")))[k]).abs().max().item() for k in w1)
    assert moved > 1e-3  # training did change the weights: the agreement is not vacuous

@pytest.mark.parametrize("strategy", ["fsdp", "zero3"])
def test_fsdp_zero3_configs_parse_and_dry_run(strategy, tmp_path):
    "FSDP and ZeRO-3 cannot run on this CPU machine: their shipped configs are parsed, and the launch is printed."
    from micota.sft import check_accelerate_config
    raw = check_accelerate_config(strategy)
    assert raw["distributed_type"] == {"fsdp": "FSDP", "zero3": "DEEPSPEED"}[strategy]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "micota.sft", "--model", "tiny-s", "--data", "d.jsonl", "--out", str(tmp_path/"o"),
                        "--lora", "--num_processes", "4", "--strategy", strategy, "--dry_run"],
                       env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    cmd = r.stdout.strip().splitlines()[-1].split()
    assert cmd[1:3] == ["-m", "accelerate.commands.launch"] and cmd[cmd.index("--num_processes") + 1] == "4"
    assert cmd[cmd.index("--config_file") + 1].endswith(f"micota/assets/accelerate/{strategy}.yaml")
    assert cmd[cmd.index("micota.sft") + 1:] == ["--model", "tiny-s", "--data", "d.jsonl", "--out", str(tmp_path/"o"), "--lora"]
    assert not (tmp_path/"o").exists()
