"""A `micota run` killed (SIGKILL) in the middle of a stage, run again, finishes with the same results as a run never
interrupted, and redoes no stage that was done. Default run: one kill point (mid-CoT generation); `--slow`: every stage."""
import csv, json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--set", "n_train=48", "--set", "n_probe=16", "--set", "eval.limit=24", "--set", "sft.epochs=1",
         "--set", "merge.weights=0.5,0.9", "--set", "sft.save_steps=2"]
CMD = [sys.executable, "-c", "from micota.cli import main; main()", "run", "--preset", "tiny", *SMALL]

def _run(out):
    p = subprocess.run(CMD + ["--out", str(out)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    return p

def _status(out, stage):
    try: return json.loads((out/"manifest.json").read_text())["stages"].get(stage, {}).get("status")
    except (OSError, ValueError): return None

def _partial(out, stage) -> bool:
    "Some of the stage's work is on disk (a generation shard with a line, an SFT checkpoint), or it is short enough."
    d = out/stage
    shards = [f for f in d.rglob("part-*.jsonl") if f.stat().st_size > 0]
    return bool(shards) or any(d.rglob("checkpoint-*")) or stage in ("analysis",)

def _kill_during(out, stage, timeout=300):
    "Start the run, SIGKILL its process group once `stage` is running and part of it is done; True if killed mid-stage."
    p = subprocess.Popen(CMD + ["--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.time()
    try:
        while p.poll() is None and time.time() - t0 < timeout:
            if _status(out, stage) == "running" and _partial(out, stage):
                os.killpg(p.pid, signal.SIGKILL); p.wait(); return True
            time.sleep(0.02)
    finally:
        if p.poll() is None: os.killpg(p.pid, signal.SIGKILL); p.wait()
    return False

def _results(out):
    rows = list(csv.DictReader((out/"eval"/"results.csv").open()))
    sweep = [{k: v for k, v in r.items() if k != "path"} for r in csv.DictReader((out/"ta_merge"/"sweep.csv").open())]
    data = {f: (out/f/"curated.jsonl").read_text() for f in ("teacher", "ta_gen", "mix_sft/short")}
    return rows, sweep, data, (out/"mix_sft"/"mix.jsonl").read_text(), (out/"analysis"/"alignment.csv").read_text()

@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")/"run"
    _run(out)
    return _results(out)

def _killed_then_resumed(tmp_path, stage, reference):
    out = tmp_path/"run"
    assert _kill_during(out, stage), f"the run ended before {stage} could be killed"
    before = json.loads((out/"manifest.json").read_text())["stages"]
    assert before[stage]["status"] == "running"
    done = {s: v["finished"] for s, v in before.items() if v.get("status") == "done"}
    p = _run(out)
    after = json.loads((out/"manifest.json").read_text())["stages"]
    for s, fin in done.items():  # no completed stage is redone
        assert after[s]["finished"] == fin and after[s]["attempts"] == 1, s
        assert f"[{s}] done already" in p.stdout
    assert after[stage]["attempts"] == 2 and after[stage]["status"] == "done"
    got = _results(out)
    for name, a, b in zip(("results", "sweep", "curated data", "mix", "alignment"), got, reference):
        assert a == b, f"{name} differ after the kill in {stage}"

def test_kill_during_mid_cot_generation_then_rerun(tmp_path, reference):
    _killed_then_resumed(tmp_path, "ta_gen", reference)

@pytest.mark.slow
@pytest.mark.parametrize("stage", ["teacher", "ta_sft", "ta_merge", "student_sft", "baseline_sft", "mix_sft", "eval", "analysis"])
def test_kill_during_every_stage_then_rerun(tmp_path, reference, stage):
    _killed_then_resumed(tmp_path, stage, reference)
