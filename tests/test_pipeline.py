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
    assert any("Wait, let me check" in k["messages"][1]["content"] for k in kept)
    assert (run/"ta_sft"/"final"/"config.json").exists()
    m = json.loads((run/"manifest.json").read_text())
    assert m["stages"]["teacher"]["traces"] == str(traces) and m["stages"]["ta_sft"]["status"] == "done"

def test_bad_values_refused_before_any_stage(tmp_path):
    for sets, says in ((["sft.lora=ture"], "--set sft.lora: takes a bool"), (["n_train=-1"], "--set n_train: -1 is not allowed"),
                       (["benchmarks=toy,math5000"], "'math5000' is not allowed"), (["eval.limit=-3"], "--set eval.limit: -3 is not allowed")):
        p = micota("run", "--preset", "tiny", "--out", tmp_path/"r", *[a for s in sets for a in ("--set", s)], check=False)
        assert p.returncode != 0 and says in p.stderr, (sets, p.stderr[-500:])
        assert not (tmp_path/"r").exists()  # nothing was started

SMALL = ["--set", "n_train=48", "--set", "n_probe=16", "--set", "eval.limit=24", "--set", "sft.epochs=1", "--set", "merge.weights=0.5,0.9"]

import pytest

@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    "The tiny preset through every stage, on a reduced size (48 problems, 16 probes, 24 test problems, one epoch)."
    run = tmp_path_factory.mktemp("tiny")/"run"
    p = micota("run", "--preset", "tiny", "--out", run, *SMALL)
    return run, p

def test_tiny_run_through_every_stage(tiny_run):
    run, p = tiny_run
    from micota.pipeline import STAGES
    m = json.loads((run/"manifest.json").read_text())
    assert {s: v["status"] for s, v in m["stages"].items()} == {s: "done" for s in STAGES}
    for s in STAGES:  # each stage records what it was made from, and its time
        rec = m["stages"][s]
        assert rec["fingerprint"] and "settings" in rec and "inputs" in rec and rec["seconds"] >= 0, s
    assert m["stages"]["ta_sft"]["inputs"].keys() == {"teacher/curated.jsonl"}
    for f in ("teacher", "ta_gen", "mix_sft/short"):  # every curated set is non-empty
        assert json.loads((run/f/"stats.json").read_text())["kept"] > 0, f
        assert (run/f/"lengths.png").exists()
    for f in ("ta_merge/sweep.csv", "ta_merge/sweep.png", "ta_merge/choice.json", "eval/compare.md", "analysis/alignment.csv",
              "analysis/nll_bins.png", "report.md", "report_accuracy.png"):
        assert (run/f).exists(), f
    rows = [l.split("|")[1].strip() for l in p.stdout.splitlines() if l.startswith("| ") and not l.startswith("| model")]
    assert rows == ["base", "long_cot", "mix_long", "micota", "ta", "ta_merged"], p.stdout[-2000:]
    assert f"report: {run/'report.md'}" in p.stdout
    report = (run/"report.md").read_text()
    for part in ("## Results", "## MiCoTA against each baseline", "### micota vs long_cot", "### micota vs mix_long",
                 "## TA merge sweep", "| merged | task_arithmetic | 0.5 |", "| merged | task_arithmetic | 0.9 |", "## Training data",
                 "## Alignment", "## Stages", "| ta_merge | done |", "## Settings", "sft (SFTRunConfig"):
        assert part in report, part
    choice = json.loads((run/"ta_merge"/"choice.json").read_text())
    assert choice["weight"] in (0.5, 0.9) and Path(choice["model"]).exists()  # the chosen merged TA writes the mid CoT
    assert json.loads((run/"ta_gen"/"generations"/"settings.json").read_text())["model"] == choice["model"]
    probes = {json.loads(l)["problem_id"] for l in (run/"ta_merge"/"generations"/"tuned").glob("*.jsonl").__next__().read_text().splitlines()}
    trained = {json.loads(l)["problem_id"] for l in (run/"teacher"/"curated.jsonl").read_text().splitlines()}
    assert probes and not probes & trained  # the sweep's probes are held out of SFT

def test_changed_setting_refused_and_from_reruns(tiny_run):
    run, _ = tiny_run
    before = (run/"manifest.json").read_text()
    p = micota("run", "--preset", "tiny", "--out", run, *SMALL, "--set", "sft.epochs=2", check=False)
    assert p.returncode != 0 and "stage ta_sft was made with sft.epochs=1.0; this run has sft.epochs=2.0" in p.stderr, p.stderr[-800:]
    assert "--from ta_sft" in p.stderr
    assert (run/"manifest.json").read_text() == before  # nothing ran, nothing was written
    p = micota("run", "--preset", "tiny", "--out", run, *SMALL, "--set", "eval.limit=12", "--from", "eval")
    m, old = json.loads((run/"manifest.json").read_text()), json.loads(before)
    assert m["stages"]["mix_sft"]["finished"] == old["stages"]["mix_sft"]["finished"]  # earlier stages kept
    assert m["stages"]["eval"]["settings"]["eval.limit"] == 12 and m["stages"]["analysis"]["status"] == "done"
    assert "[teacher] done already" in p.stdout

def test_paper_dry_run_shows_the_plan_and_estimates(tmp_path):
    p = micota("run", "--preset", "paper-3b", "--dry-run")
    for part in ("DeepSeek-R1-Distill-Qwen-32B", "Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-3B-Instruct", "math12k", "Please reason step by step", "max_new_tokens 16384",
                 "curation cap 16000", "learning_rate=1e-05", "dare_ties", "resource estimates", "ta_sft:", "GPU"):
        assert part in p.stdout, (part, p.stdout[-3000:])
