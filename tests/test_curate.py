"""Process-level checks of `micota curate`: the console script end to end, its exit codes and one-line errors,
traces (JSONL and Parquet) with gold answers from a Problem file, decontamination against MATH-500."""
import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
MICOTA = Path(sys.executable).parent/"micota"


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), MICOTA_THREADS="1", OMP_NUM_THREADS="1")

def _micota(*args):
    cmd = [str(MICOTA)] if MICOTA.exists() else [sys.executable, "-c", "from micota.cli import main; main()"]
    return subprocess.run(cmd + ["curate", *map(str, args)], capture_output=True, text=True, env=_env(), timeout=300)

def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path

def _gen(pid, s, answer, boxed, tokens, reason="stop"):
    return dict(id=f"{pid}#{s}", problem_id=pid, sample=s, source="toy", answer=answer, completion=f"so \\boxed{{{boxed}}}",
                finish_reason=reason, completion_tokens=tokens, prompt="<|im_start|>user\n...")

GENS = [_gen("p1", 0, "2", "2", 40), _gen("p1", 1, "2", "2", 10), _gen("p1", 2, "2", "9", 5),
        _gen("p2", 0, "5", "5", 500), _gen("p2", 1, "5", "5", 90, "length"), _gen("p2", 2, "5", "5", 60),
        _gen("p3", 0, "1", "4", 30)]
PROBS = [dict(id="p1", problem="What is 1 + 1?", answer="2"), dict(id="p2", problem="What is 2 + 3?", answer="5"),
         dict(id="p3", problem="What is 3 - 2?", answer="1")]


def test_cli_end_to_end_generation_shards(tmp_path):
    gen = tmp_path/"gen"
    _write(gen/"part-00000.jsonl", GENS[:4]); _write(gen/"part-00001.jsonl", GENS[4:])
    probs = _write(tmp_path/"problems.jsonl", PROBS)
    out = tmp_path/"cur"
    r = _micota(gen, "--out", out, "--problems", probs, "--max-tokens", "100", "--policy", "shortest")
    assert r.returncode == 0, r.stderr
    kept = [json.loads(l) for l in (out/"curated.jsonl").read_text().splitlines()]
    assert [k["id"] for k in kept] == ["p1#1", "p2#2"]
    assert kept[0]["messages"] == [{"role": "user", "content": "What is 1 + 1?"}, {"role": "assistant", "content": "so \\boxed{2}"}]
    st = json.loads((out/"stats.json").read_text())
    assert st["records"] == 7 and st["kept"] == 2 and st["graded_here"] == 7
    assert sum(s["dropped"] for s in st["steps"]) + st["kept"] == st["records"]
    assert st["dropped"] == {"wrong": 3, "too_long": 1, "policy": 1}  # p2#1 cut at the limit: graded wrong
    assert st["settings"]["policy"] == "shortest" and (out/"lengths.png").stat().st_size > 1000
    reasons = {d["id"]: d["reason"] for d in map(json.loads, (out/"dropped.jsonl").read_text().splitlines())}
    assert reasons == {"p1#0": "policy", "p1#2": "wrong", "p2#0": "too_long", "p2#1": "wrong", "p3#0": "wrong"}
    from micota.sft import load_sft_data
    assert [r["completion"][0]["content"] for r in load_sft_data(out)] == ["so \\boxed{2}", "so \\boxed{5}"]


def test_cli_empty_kept_set_is_an_error_naming_the_step(tmp_path):
    gen = _write(tmp_path/"gen.jsonl", GENS)
    out = tmp_path/"cur"
    (out).mkdir(); (out/"curated.jsonl").write_text('{"stale": 1}\n')
    r = _micota(gen, "--out", out, "--problems", _write(tmp_path/"p.jsonl", PROBS), "--max_tokens", "4")
    assert r.returncode != 0
    assert "step 'too_long'" in r.stderr and "nothing kept" in r.stderr, r.stderr
    assert not (out/"curated.jsonl").exists()  # no stale or empty SFT file left to train on
    assert json.loads((out/"stats.json").read_text())["kept"] == 0


def test_cli_refuses_bad_trace_line_and_missing_gold(tmp_path):
    rows = [dict(problem="What is $1+1$?", solution="\\boxed{2}"), dict(problem="What is $2+2$?")]
    bad = _write(tmp_path/"traces.jsonl", rows)
    r = _micota(bad, "--out", tmp_path/"o", "--tokenizer", "toy-s")
    assert r.returncode != 0 and f"{bad}:2" in r.stderr, r.stderr
    good = _write(tmp_path/"traces2.jsonl", rows[:1])
    r = _micota(good, "--out", tmp_path/"o", "--tokenizer", "toy-s")
    assert r.returncode != 0 and "no gold answer" in r.stderr and "--ungraded" in r.stderr, r.stderr
    r = _micota(good, "--out", tmp_path/"o", "--tokenizer", "toy-s", "--ungraded")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path/"o"/"stats.json").read_text())["ungraded"] == 1


def test_traces_like_uwnsl_with_map_gold_and_decontamination(tmp_path, eval_dir):
    from micota.cli import run_command
    from micota.data import load_benchmark
    m500 = load_benchmark("math500", eval_dir)[3]
    copy = "\n".join(m500["problem"].upper().split(" "))  # case and white space changed
    rows = [dict(problem="What is $1+1$?", solution="human solution", qwq="Okay... so \\boxed{2}."),
            dict(problem="What is $1+1$?", solution="human solution", qwq="Hmm, longer, still \\boxed{2}, yes: \\boxed{2}."),
            dict(problem="Compute $3\\cdot 4$.", solution="s", qwq="That is \\boxed{13}."),
            dict(problem=copy, solution="s", qwq=f"\\boxed{{{m500['answer']}}}"),
            dict(problem="What is the value of $x$ in the equation above, if we know it is nice?", solution="s", qwq="\\boxed{7}")]
    gold = _write(tmp_path/"gold.jsonl", [dict(id="g1", problem="what is $1+1$?", answer="2"), dict(id="g2", problem="Compute $3\\cdot 4$.", answer="12"),
                                          dict(id="g3", problem=m500["problem"], answer=m500["answer"]),
                                          dict(id="g4", problem="What is the value of $x$ in the equation above, if we know it is nice?", answer="7")])
    import pyarrow as pa, pyarrow.parquet as pq
    pq.write_table(pa.Table.from_pylist(rows), tmp_path/"long_cot.parquet")
    out = tmp_path/"cur"
    run_command("curate", [str(tmp_path/"long_cot.parquet"), "--out", str(out), "--columns", "response=qwq",
                                  "--problems", str(gold), "--tokenizer", "toy-s", "--policy", "first",
                                  "--decontaminate", "math500", "--source", str(eval_dir)])
    kept = [json.loads(l) for l in (out/"curated.jsonl").read_text().splitlines()]
    assert [k["messages"][1]["content"] for k in kept] == ["Okay... so \\boxed{2}.", "\\boxed{7}"]
    st = json.loads((out/"stats.json").read_text())
    assert st["kind"] == "traces" and st["dropped"] == {"wrong": 1, "contaminated": 1, "policy": 1}
    hits = [json.loads(l) for l in (out/"decontaminated.jsonl").read_text().splitlines()]
    assert [h["benchmark_id"] for h in hits] == [m500["id"]] and st["decontamination"]["problems"] == 1
    with pytest.raises(ValueError, match="no response column|not in the data"):
        run_command("curate", [str(tmp_path/"long_cot.parquet"), "--out", str(out), "--columns", "response=r1"])
