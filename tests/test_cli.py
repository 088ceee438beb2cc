"""The `micota` console script: listing, per-stage help, clear errors, and `micota data` on the real files."""
import json, subprocess, sys
from pathlib import Path

BIN = Path(sys.executable).parent/"micota"

def micota(*args, check=True):
    p = subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=300)
    if check: assert p.returncode == 0, p.stderr
    return p

def test_lists_every_stage():
    out = micota().stdout
    for cmd in ("data", "generate", "grade", "curate", "sft", "merge", "eval", "align", "run", "toy"):
        assert f"\n  {cmd} " in out

def test_unknown_command_names_the_valid_ones():
    p = micota("frobnicate", check=False)
    assert p.returncode != 0 and "commands: data" in p.stderr

def test_data_writes_problem_records(tmp_path, eval_dir):
    out = tmp_path/"gsm8k.jsonl"
    micota("data", "gsm8k", "--source", str(eval_dir), "--out", str(out), "--limit", "5")
    recs = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(recs) == 5 and recs[0]["answer"] == "18" and recs[0]["source"] == "gsm8k"

def test_data_bad_file_names_line(tmp_path):
    (tmp_path/"aime24").mkdir()
    (tmp_path/"aime24"/"test.jsonl").write_text('{"problem": "1+1", "answer": "2"}\n{oops\n')
    p = micota("data", "aime24", "--source", str(tmp_path), "--out", str(tmp_path/"o.jsonl"), check=False)
    assert p.returncode != 0 and "test.jsonl:2" in p.stderr
    assert not (tmp_path/"o.jsonl").exists()

def test_import_is_light():
    code = "import time,sys; t=time.time(); import micota, micota.core, micota.cli, micota.data; dt=time.time()-t; " \
           "bad=[m for m in ('torch','vllm','trl','transformers') if m in sys.modules]; print(dt, bad); assert not bad, bad; assert dt < 2, dt"
    subprocess.run([sys.executable, "-c", code], check=True)
