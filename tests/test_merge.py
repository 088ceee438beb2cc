"""`micota merge` and `micota merge-sweep` as processes: end to end, bad input, a killed merge, and mergekit's numbers."""
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
MK = ROOT/".venv-mergekit"/"bin"/"mergekit-yaml"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MICOTA_THREADS": "1"}


def micota(*args, check=True, timeout=300):
    code = "import sys; from micota.cli import main; sys.argv = ['micota'] + sys.argv[1:]; main()"
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=ENV)
    if check: assert p.returncode == 0, p.stderr[-3000:]
    return p


def nudged(src, dst, scale=0.02, seed=1):
    "A copy of a model folder with every float tensor moved by a fixed random task vector."
    import torch
    from safetensors.torch import load_file, save_file
    shutil.copytree(src, dst, dirs_exist_ok=True)
    sd = load_file(Path(src)/"model.safetensors"); g = torch.Generator().manual_seed(seed)
    save_file({k: (v + scale * torch.randn(v.shape, generator=g)).to(v.dtype) if v.is_floating_point() else v for k, v in sd.items()},
              Path(dst)/"model.safetensors", metadata={"format": "pt"})
    return Path(dst)


def load_all(folder):
    from safetensors import safe_open
    from micota.merge import model_files
    out = {}
    for f in model_files(folder):
        with safe_open(str(f), "pt") as h: out.update({k: h.get_tensor(k) for k in h.keys()})
    return out


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from micota.tiny import build_tiny_model
    d = tmp_path_factory.mktemp("pair")
    base = Path(build_tiny_model("tiny-s"))  # float32
    return base, nudged(base, d/"tuned")


def test_merge_cli_end_to_end(pair, tmp_path):
    base, tuned = pair
    out = tmp_path/"m"
    p = micota("merge", "--base", str(base), "--tuned", str(tuned), "--out", str(out), "--method", "dare_ties", "--weight", "0.5", "--density", "0.7", "--seed", "5")
    assert "merged (dare_ties" in p.stdout
    for f in ("config.json", "tokenizer.json", "chat_template.jinja", "model.safetensors", "merge.json"): assert (out/f).exists(), f
    again = tmp_path/"m2"
    micota("merge", "--base", str(base), "--tuned", str(tuned), "--out", str(again), "--method", "dare_ties", "--weight", "0.5", "--density", "0.7", "--seed", "5")
    assert (out/"model.safetensors").read_bytes() == (again/"model.safetensors").read_bytes()
    from transformers import AutoModelForCausalLM
    AutoModelForCausalLM.from_pretrained(str(out))  # a loadable model


def test_merge_cli_refuses_mismatch_naming_the_tensor(pair, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file
    base, tuned = pair
    bad = tmp_path/"bad"; shutil.copytree(tuned, bad)
    sd = load_file(bad/"model.safetensors"); sd["model.layers.1.mlp.down_proj.weight"] = torch.zeros(3, 3)
    save_file(sd, bad/"model.safetensors", metadata={"format": "pt"})
    p = micota("merge", "--base", str(base), "--tuned", str(bad), "--out", str(tmp_path/"o"), check=False)
    assert p.returncode != 0 and "model.layers.1.mlp.down_proj.weight" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and not (tmp_path/"o").exists()
    p = micota("merge", "--base", str(base), "--tuned", str(tuned), "--out", str(tmp_path/"o"), "--method", "slerp", check=False)
    assert p.returncode != 0 and "slerp" in p.stderr


def big_pair(d, rows=2048, n=8):
    "Two random float32 models big enough that a merge takes a few seconds (config taken from tiny-s)."
    import torch
    from safetensors.torch import save_file
    from micota.tiny import build_tiny_model
    base = Path(build_tiny_model("tiny-s"))
    out = []
    for i, name in enumerate(("base", "tuned")):
        f = d/name; shutil.copytree(base, f)
        g = torch.Generator().manual_seed(i)
        save_file({f"w{j}": torch.randn(rows, 2048, generator=g) for j in range(n)}, f/"model.safetensors", metadata={"format": "pt"})
        out.append(f)
    return out


def test_killed_merge_leaves_no_finished_folder(tmp_path):
    base, tuned = big_pair(tmp_path)
    out = tmp_path/"out"
    code = "import sys; from micota.cli import main; sys.argv = ['micota'] + sys.argv[1:]; main()"
    p = subprocess.Popen([sys.executable, "-c", code, "merge", "--base", str(base), "--tuned", str(tuned), "--out", str(out),
                          "--method", "dare_ties"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.time()
    while time.time() - t0 < 60 and not any(x.name.startswith(".out.") and (x/"model.safetensors").exists() for x in tmp_path.iterdir()):
        time.sleep(0.05)
    assert p.poll() is None, "the merge ended before it could be killed"
    p.send_signal(signal.SIGKILL); p.wait()
    assert not out.exists()
    # a rerun finishes and its folder is complete
    micota("merge", "--base", str(base), "--tuned", str(tuned), "--out", str(out), "--method", "dare_ties")
    assert (out/"merge.json").exists() and len(load_all(out)) == 8


def test_merge_sweep_cli_on_toy_models(tmp_path):
    from micota.core import write_jsonl
    from micota.toy import toy_model_path, toy_problems
    base = toy_model_path("toy-s"); tuned = nudged(base, tmp_path/"tuned")
    write_jsonl(tmp_path/"probes.jsonl", toy_problems("test", n=6))
    code = ("import sys; from micota.core import cli_parser, call_cli; from micota.merge import merge_sweep_cli as f; "
            "call_cli(f, vars(cli_parser(f).parse_args(sys.argv[1:])))")
    p = subprocess.run([sys.executable, "-c", code, "--base", str(base), "--tuned", str(tuned), "--problems", str(tmp_path/"probes.jsonl"),
                        "--out", str(tmp_path/"sweep"), "--weights", "0.4,0.8", "--densities", "0.5,1", "--backend", "transformers",
                        "--max_new_tokens", "32"], capture_output=True, text=True, timeout=300, env=ENV)
    assert p.returncode == 0, p.stderr[-3000:]
    import csv
    rows = list(csv.DictReader(open(tmp_path/"sweep"/"sweep.csv")))
    assert [r["model"] for r in rows] == ["base", "tuned"] + ["merged"] * 4
    for c in ("weight", "density", "accuracy", "accuracy_se", "mean_tokens", "median_tokens", "truncated", "reflections"): assert c in rows[0]
    ch = json.loads((tmp_path/"sweep"/"choice.json").read_text())
    assert ch["rule"] == "within" and "reference" in ch and Path(ch["model"]).exists()
    assert len(list((tmp_path/"sweep"/"models").iterdir())) == 1  # the others deleted
    assert (tmp_path/"sweep"/"sweep.png").stat().st_size > 1000


def mergekit_merge(base, tuned, out, method, weight, density=1.0):
    cfg = out.parent/f"{out.name}.yml"
    cfg.write_text(json.dumps({"merge_method": method, "base_model": str(base), "dtype": "float32",
                               "models": [{"model": str(tuned), "parameters": {"weight": weight, "density": density}}],
                               "parameters": {"normalize": False}}))
    p = subprocess.run([str(MK), str(cfg), str(out)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    return out


@pytest.mark.skipif(not MK.exists(), reason="no .venv-mergekit (bench/mergekit_env.sh builds it)")
@pytest.mark.parametrize("method", ["ties", "dare_ties"])
def test_equals_mergekit_at_density_1(pair, tmp_path, method):
    from micota.merge import merge_models
    base, tuned = pair
    ours = load_all(merge_models(base, tuned, tmp_path/"ours", method=method, weight=0.7, density=1.0))
    theirs = load_all(mergekit_merge(base, tuned, tmp_path/"mk", method, 0.7))
    common = [k for k in ours if k in theirs]
    assert len(common) >= len(ours) - 1, (sorted(ours), sorted(theirs))  # mergekit may drop or add a tied lm_head
    diff = max((ours[k].float() - theirs[k].float()).abs().max().item() for k in common)
    print(f"{method}: max abs difference to mergekit over {len(common)} tensors: {diff:.3g}")
    assert diff <= 1e-6
