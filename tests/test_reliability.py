"""Nothing mixes silently (issue 10), process by process: one writer a folder, resumes only of what is the same,
values checked at the door, outputs never among input shards, file errors naming the file. Each case of the issue's
"Why" list is run as a user would run it, and must be refused with one line naming the option or file, exit code
non-zero, and nothing written before lost or changed."""
import json, os, shutil, signal, subprocess, sys, time
from collections import Counter
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "MICOTA_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}
ENV.pop("MICOTA_HELD_LOCKS", None)
GEN = ["--backend", "transformers", "--max_new_tokens", "8", "--quiet"]


def micota(*args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from micota.cli import main; main()", *map(str, args)],
                          env=ENV, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def refused(r, *msgs):
    "A one-line refusal: non-zero, every message in stderr, no traceback."
    assert r.returncode != 0, (r.stdout[-1000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    for m in msgs: assert m in r.stderr, (m, r.stderr[-2000:])


def snapshot(folder:Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


def write_problems(path:Path, texts) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"problem": t, "answer": "1"}) + "\n" for t in texts))
    return path


@pytest.fixture(scope="module")
def probs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rel")
    return tmp, write_problems(tmp/"setA"/"problems.jsonl", [f"What is {i} + {i}?" for i in range(6)])


# ---------------------------------------------------------------- one writer a folder

def test_two_writers_started_together(probs):
    "Two `micota generate` into one folder at once, other temperatures: exactly one finishes, each record once."
    tmp, pf = probs
    out = tmp/"two"
    cmds = [[sys.executable, "-c", "from micota.cli import main; main()", "generate", "--model", "tiny-s", "--problems", str(pf),
             "--out", str(out), "--n", "2", "--temperature", t, "--backend", "transformers", "--max_new_tokens", "48",
             "--batch_size", "1", "--quiet"] for t in ("0", "0.7")]
    ps = [subprocess.Popen(c, env=ENV, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds]
    res = [(p.wait(timeout=300), *p.communicate()) for p in ps]
    codes = [r[0] for r in res]
    assert sorted(c == 0 for c in codes) == [False, True], [(c, e[-1500:]) for c, _, e in res]
    loser = res[codes.index(next(c for c in codes if c != 0))][2]
    assert "Traceback" not in loser and ("being written by another process (pid" in loser or "other settings" in loser), loser
    lines = [json.loads(l) for f in sorted(out.glob("part-*.jsonl")) for l in f.read_text().splitlines() if l.strip()]
    keys = Counter((r["problem_id"], r["sample"]) for r in lines)
    assert len(keys) == 12 and max(keys.values()) == 1
    winner_t = float(cmds[codes.index(0)][cmds[0].index("--temperature") + 1])
    assert json.loads((out/"settings.json").read_text())["temperature"] == winner_t  # the settings describe the records
    assert {r["temperature"] for r in lines} == {winner_t}


def test_a_held_lock_names_its_holder_and_a_dead_one_is_taken_over(probs):
    from micota.core import lock_folder
    tmp, pf = probs
    out = tmp/"held"
    with lock_folder(out, "generation folder"):
        r = micota("generate", "--model", "tiny-s", "--problems", pf, "--out", out, *GEN)
    refused(r, f"{out}: generation folder is being written by another process (pid {os.getpid()}")
    # a writer killed with SIGKILL leaves its lock file (naming it) but no flock: the next run takes over and finishes
    p = subprocess.Popen([sys.executable, "-c", f"from micota.core import lock_folder; import time\nwith lock_folder({str(out)!r}): time.sleep(60)"],
                         env=ENV, cwd=ROOT)
    t0 = time.time()
    while not (out/".lock").read_text().strip():
        assert time.time() - t0 < 60; time.sleep(0.05)
    p.send_signal(signal.SIGKILL); p.wait()
    assert str(p.pid) in (out/".lock").read_text()
    r = micota("generate", "--model", "tiny-s", "--problems", pf, "--out", out, *GEN)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["records"] == 6


# ---------------------------------------------------------------- resume only what is the same

def test_another_problem_file_of_the_same_name_is_refused(probs):
    tmp, pf = probs
    out = tmp/"X"
    assert micota("generate", "--model", "tiny-s", "--problems", pf, "--out", out, *GEN).returncode == 0
    before = snapshot(out)
    pb = write_problems(tmp/"setB"/"problems.jsonl", [f"What is {i} times {i}?" for i in range(6)])  # same ids problems/0..5
    refused(micota("generate", "--model", "tiny-s", "--problems", pb, "--out", out, *GEN), "generated from other inputs (problems.sha256:")
    refused(micota("generate", "--model", "tiny-m", "--problems", pf, "--out", out, *GEN), "other settings (model:")
    assert snapshot(out) == before
    r = micota("generate", "--model", "tiny-s", "--problems", pb, "--out", out, *GEN, "--overwrite")  # asked for: starts over
    assert r.returncode == 0 and "times" in json.loads((out/"part-00000.jsonl").read_text().splitlines()[0])["user"]


SFT = r'''
import sys
from micota.core import set_threads; set_threads(1)
from micota.sft import train_sft
n, lr = int(sys.argv[2]), float(sys.argv[3])
data = [{"prompt": f"Compute {a} + {a}.", "completion": f"{2 * a}"} for a in range(n)]
train_sft("tiny-s", data, sys.argv[1], max_steps=int(sys.argv[4]), save_steps=2, batch_size=2, grad_accum=1, learning_rate=lr, max_length=64)
'''

def test_sft_resumes_only_its_own_checkpoints(tmp_path):
    script = tmp_path/"train.py"; script.write_text(SFT)
    out = tmp_path/"sft"
    run = lambda *a: subprocess.run([sys.executable, str(script), str(out), *map(str, a)], env=ENV, cwd=ROOT,
                                    capture_output=True, text=True, timeout=300)
    r = run(4, 1e-3, 2); assert r.returncode == 0, r.stderr[-3000:]
    shutil.rmtree(out/"final")  # as if killed after checkpoint-2, before the end
    assert (out/"checkpoints"/"checkpoint-2").is_dir() and (out/"checkpoints"/"fingerprint.json").exists()
    before = snapshot(out)
    for args, msg in (((4, 1e-2, 2), "settings.learning_rate: 0.001 before, 0.01 now"), ((6, 1e-3, 2), "data.count: 4 before, 6 now")):
        r = run(*args)
        assert r.returncode != 0 and msg in r.stderr and "resuming would train one model on both" in r.stderr, r.stderr[-2000:]
        assert snapshot(out) == before
    st = out/"checkpoints"/"checkpoint-2"/"trainer_state.json"
    st.write_text(st.read_text()[:40])  # a trainer state cut short
    r = run(4, 1e-3, 2)
    assert r.returncode != 0 and f"{st}: not a complete trainer state" in r.stderr


def test_sft_cli_errors_name_the_file(tmp_path):
    (tmp_path/"bin.jsonl").write_bytes(json.dumps({"prompt": "a", "completion": "b"}).encode() + b"\n" + b'{"prompt": "\xff\xfe"}\n')
    refused(micota("sft", "--model", "tiny-s", "--data", tmp_path/"bin.jsonl", "--out", tmp_path/"o", "--max_steps", "1"),
            f"{tmp_path/'bin.jsonl'}:2: not UTF-8 text")
    (tmp_path/"empty.jsonl").write_text("")
    refused(micota("sft", "--model", "tiny-s", "--data", tmp_path/"empty.jsonl", "--out", tmp_path/"o", "--max_steps", "1"), "no SFT records")
    assert not (tmp_path/"o").exists()


def test_a_cut_weight_file_is_named(probs, tmp_path):
    from micota.tiny import build_tiny_model
    _, pf = probs
    m = tmp_path/"cut"; shutil.copytree(build_tiny_model("tiny-s"), m)
    w = m/"model.safetensors"; w.write_bytes(w.read_bytes()[:w.stat().st_size - 1000])
    refused(micota("generate", "--model", m, "--problems", pf, "--out", tmp_path/"g", *GEN), f"{w}: not a complete safetensors file")
    (tmp_path/"d.jsonl").write_text(json.dumps({"prompt": "a", "completion": "b"}) + "\n")
    refused(micota("sft", "--model", m, "--data", tmp_path/"d.jsonl", "--out", tmp_path/"s", "--max_steps", "1"), f"{w}: not a complete safetensors file")
    assert not (tmp_path/"g").exists() and not (tmp_path/"s").exists()
    assert not list(tmp_path.rglob("*.tmp"))


# ---------------------------------------------------------------- values at the door, outputs beside their inputs

def graded_shards(folder:Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    recs = [dict(problem_id=f"m/{i}", sample=0, source="math500", answer=r"\frac{1}{2}", completion=r"so \boxed{0.5}") for i in range(3)]
    (folder/"part-00000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    return folder


def test_grade_values_and_outputs(tmp_path):
    gen = graded_shards(tmp_path/"out"/"gen")
    refused(micota("grade", gen, "--workers", "-1"), "option --workers: -1 is not allowed (must be >= 0)")
    refused(micota("grade", gen, "--timeout", "0"), "option --timeout: 0.0 is not allowed (must be > 0)")
    refused(micota("grade", gen, "--k", "0"), "option --k: 0 is not allowed (must be >= 1)")
    refused(micota("grade", gen/"part-00000.jsonl", "--out", gen/"part-00000.graded.jsonl"), "would land among the generation shards")
    assert [p.name for p in gen.iterdir()] == ["part-00000.jsonl"]
    r = micota("grade", gen/"part-00000.jsonl", "--workers", "1")  # the default output goes beside the folder
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path/"out"/"gen.part-00000.graded.jsonl").exists() and [p.name for p in gen.iterdir()] == ["part-00000.jsonl"]
    # a stray graded copy someone put in the folder anyway is not read as a shard
    shutil.copy(tmp_path/"out"/"gen.part-00000.graded.jsonl", gen/"part-00000.graded.jsonl")
    r = micota("grade", gen, "--workers", "1", "--out", tmp_path/"all.jsonl")
    assert r.returncode == 0 and "3 responses graded" in r.stdout, r.stdout + r.stderr[-2000:]
    (tmp_path/"bad.jsonl").write_bytes(b'{"problem_id": "a", "sample": 0, "completion": "\xff", "answer": "1"}\n')
    refused(micota("grade", tmp_path/"bad.jsonl", "--out", tmp_path/"b.jsonl"), f"{tmp_path/'bad.jsonl'}:1: not UTF-8 text")
    (tmp_path/"empty.jsonl").write_text("")
    refused(micota("grade", tmp_path/"empty.jsonl", "--out", tmp_path/"e.jsonl"), "no generation records")
    assert not (tmp_path/"b.jsonl").exists() and not (tmp_path/"e.jsonl").exists()


def test_limits_and_problem_fields(probs, tmp_path, eval_dir):
    _, pf = probs
    r = micota("data", "math500", "--out", tmp_path/"m.jsonl", "--source", eval_dir, "--limit", "-1")
    refused(r, "option --limit: -1 is not allowed"); assert not (tmp_path/"m.jsonl").exists()
    r = micota("data", "math500", "--out", tmp_path/"m.jsonl", "--source", eval_dir, "--limit", "5")
    assert r.returncode == 0 and len((tmp_path/"m.jsonl").read_text().splitlines()) == 5  # applied once
    refused(micota("generate", "--model", "tiny-s", "--problems", pf, "--out", tmp_path/"g", "--limit", "-1", *GEN), "option --limit: -1 is not allowed")
    (tmp_path/"typed.jsonl").write_text(json.dumps({"problem": 12, "answer": "1"}) + "\n")
    refused(micota("generate", "--model", "tiny-s", "--problems", tmp_path/"typed.jsonl", "--out", tmp_path/"g", *GEN),
            "'problem' must be a string, got int")
    (tmp_path/"empty.jsonl").write_text("")
    refused(micota("generate", "--model", "tiny-s", "--problems", tmp_path/"empty.jsonl", "--out", tmp_path/"g", *GEN), "no problems")
    assert not (tmp_path/"g").exists()
    refused(micota("generate", "--model", "tiny-s", "--problems", pf, "--out", tmp_path/"g", "--overwrite", "ture", *GEN),
            "option --overwrite: takes a bool")
