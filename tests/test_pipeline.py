"""`micota run` end to end in processes: the tiny preset trains the TA from a file of teacher traces instead of
running the teacher, and every value is checked before the first stage starts."""
import json, subprocess, sys
from pathlib import Path

def micota(*args, check=True):
    p = subprocess.run([sys.executable, "-c", "from micota.cli import main; main()", *map(str, args)],
                       capture_output=True, text=True, timeout=600)
    if check: assert p.returncode == 0, p.stderr[-3000:]
    return p

def _traces(path:Path, n:int) -> Path:
    "A local file shaped like UWNSL/MATH_training_split_long_cot (problem, a long-CoT response column, no gold column)."
    from micota.toy import toy_problems, solve_long
    probs = toy_problems("train", n)
    rows = [dict(problem=p["problem"], solution=solve_long(p)) for p in probs]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path

def test_tiny_run_trains_the_ta_from_teacher_traces(tmp_path):
    traces = _traces(tmp_path/"traces.jsonl", 24)
    run = tmp_path/"run"
    micota("run", "--preset", "tiny", "--out", run, "--stages", "teacher,ta_sft", "--set", f"teacher_traces={traces}",
           "--set", "n_train=24", "--set", "sft.max_steps=3", "--set", "sft.save_steps=100")
    stats = json.loads((run/"teacher"/"stats.json").read_text())
    assert stats["kind"] == "traces" and stats["records"] == 24 and stats["kept"] == 24, stats
    assert not (run/"teacher"/"generations").exists()  # the teacher never ran
    kept = [json.loads(l) for l in (run/"teacher"/"curated.jsonl").read_text().splitlines()]
    assert "Wait, let me verify" in kept[0]["messages"][1]["content"]
    assert (run/"ta_sft"/"final"/"config.json").exists()
    m = json.loads((run/"manifest.json").read_text())
    assert m["stages"]["teacher"]["traces"] == str(traces) and m["stages"]["ta_sft"]["status"] == "done"

def test_bad_values_refused_before_any_stage(tmp_path):
    for sets, says in ((["sft.lora=ture"], "--set sft.lora: takes a bool"), (["n_train=-1"], "--set n_train: -1 is not allowed"),
                       (["benchmarks=toy,math5000"], "'math5000' is not allowed"), (["eval.limit=-3"], "--set eval.limit: -3 is not allowed")):
        p = micota("run", "--preset", "tiny", "--out", tmp_path/"r", *[a for s in sets for a in ("--set", s)], check=False)
        assert p.returncode != 0 and says in p.stderr, (sets, p.stderr[-500:])
        assert not (tmp_path/"r").exists()  # nothing was started
