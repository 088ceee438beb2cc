"""micota.grade on the real benchmark files, on hostile responses, through the pool's kill path, and via `micota grade`."""
import builtins, json, math, os, re, shutil, subprocess, sys, threading, time
from pathlib import Path
import pytest
from micota.grade import (extract_answer, is_equiv, grade_records, grade_file, pass_at_k, summarize, summary_table,
                          verify_in_pool, MAX_ANSWER_CHARS)

ROOT = Path(__file__).resolve().parent.parent

def rows(eval_dir, name): return [json.loads(l) for l in open(eval_dir/name/"test.jsonl", encoding="utf-8")]

# ---------------------------------------------------------------- real data: golds against worked solutions

@pytest.fixture(scope="module")
def real(eval_dir):
    "One batch: MATH-500 self, MATH-500 negative control, consecutive golds against each other, AIME 2024 self."
    m5, aime = rows(eval_dir, "math500"), rows(eval_dir, "aime24")
    n = len(m5)
    recs = [dict(completion=r["solution"], answer=r["answer"], source="math500", kind="self", i=i) for i, r in enumerate(m5)]
    recs += [dict(completion=r["solution"], answer=m5[(i+1) % n]["answer"], source="math500", kind="negative", i=i) for i, r in enumerate(m5)]
    recs += [dict(completion=r"\boxed{%s}" % r["answer"], answer=m5[(i+1) % n]["answer"], source="math500", kind="golds", i=i)
             for i, r in enumerate(m5)]
    recs += [dict(completion=r["solution"], answer=r["answer"], source="aime24", kind="aime", i=i) for i, r in enumerate(aime)]
    t0 = time.time()
    graded = grade_records(recs, timeout=10)
    print(f"\n{len(recs)} real items graded in {time.time()-t0:.1f}s")
    return {k: [g for g in graded if g["kind"] == k] for k in ("self", "negative", "golds", "aime")}

def test_math500_golds_match_their_solutions(real):
    wrong = [(g["i"], g["answer"], g["pred"], g["grade_error"]) for g in real["self"] if not g["correct"]]
    print("MATH-500 self-check failures:", wrong)
    assert len(real["self"]) == 500 and len(wrong) <= 1, wrong

def test_math500_negative_control(real):
    "Each solution against the next problem's gold is wrong, except where the two golds are equal as mathematics."
    equal_golds = [(g["i"], (g["i"] + 1) % 500) for g in real["golds"] if g["correct"]]
    print("pairs whose golds are equal as mathematics:", [(i, j, real["self"][i]["answer"], real["self"][j]["answer"]) for i, j in equal_golds])
    accepted = [(g["i"], (g["i"] + 1) % 500) for g in real["negative"] if g["correct"]]
    assert accepted == equal_golds
    assert equal_golds == [(22, 23), (186, 187), (403, 404)]   # 5 and x=5; 7 and 7; 3 and 3

def test_aime_golds_match_their_solutions(real):
    ok = {g["i"] for g in real["aime"] if g["correct"]}
    assert len(ok) >= 29 and 15 in ok   # 15 ends in \boxed{\textbf{(073)}}
    assert real["aime"][15]["pred"] == "073"
    # solution 0 has no \boxed{} but ends its first part in \framebox{204}, a box all the same
    assert real["aime"][0]["pred"] == "204" and real["aime"][0]["correct"]

def test_gsm8k_worked_solutions(eval_dir):
    gsm = rows(eval_dir, "gsm8k")[:200]
    recs = [dict(completion=r["answer"], answer=r["answer"], source="gsm8k") for r in gsm]
    assert all(g["correct"] for g in grade_records(recs, timeout=10))

# ---------------------------------------------------------------- hostile responses

def test_hostile_responses_are_bounded_and_run_nothing(tmp_path):
    sentinel = tmp_path/"PWNED"
    touch = f"__import__('os').system('touch {sentinel}')"
    mb = 10**6
    hostile = {
        "power tower": r"\boxed{9^9^9^9^9}",
        "power tower, braced": r"\boxed{9^{9^{9^{9^{9}}}}}",
        "factorial tower": r"\boxed{(10^{10^{10}})!}",
        "nested braces": "\\boxed{" + "{" * 400 + "1" + "}" * 400 + "}",
        "nested braces, too long": "\\boxed{" + "{" * 5000 + "1" + "}" * 5000 + "}",
        "1 MB of text": "word " * (mb // 5),
        "1 MB of open braces": "\\boxed{" + "{" * mb,
        "1 MB inside a box": "\\boxed{" + "1+" * (mb // 2) + "1}",
        "python in a box": r"\boxed{%s}" % touch,
        "python in \\text": r"\boxed{\text{%s}}" % touch,
        "python as Final Answer": "Final Answer: " + touch,
        "eval in a box": r"\boxed{eval(\"%s\")}" % touch.replace("'", '"'),
        "invalid LaTeX": r"\boxed{\frac{1}{\sqrt[}{\left(}",
        "unbalanced": r"Final Answer: }{\frac{",
        "dangling environment": r"\boxed{\begin{pmatrix}1 & 2}",
        "empty": "",
        "empty box": r"\boxed{}",
    }
    normal = [(r"so the answer is $\boxed{\frac{3}{4}}$.", "0.75"), ("word " * (mb // 5) + r"\boxed{42}", "42"), (r"\boxed{x=5}", "5")]
    T = 2.0
    recs = [dict(completion=c, answer="7", source="math500", name=k) for k, c in hostile.items()]
    recs += [dict(completion=c, answer=a, source="math500", name="normal") for c, a in normal]
    recs += [dict(completion=r"\boxed{7}", answer=touch, source="math500", name="python as the gold")]
    recs += [dict(completion="I spent " + touch + " and 7 dollars", answer="7", source="gsm8k", name="gsm8k last number")]
    t0 = time.time()
    graded = grade_records(recs, timeout=T, workers=2, with_seconds=True)
    wall = time.time() - t0
    for g in graded: print(f"{g['name']:28s} {g['correct']!s:5} {g['grade_seconds']:6.2f}s  pred={str(g['pred'])[:30]!r:34} {g['grade_error']}")
    print(f"wall {wall:.1f}s")
    assert [g["name"] for g in graded] == [r["name"] for r in recs]   # order kept
    for g in graded:
        assert g["grade_seconds"] <= T + 1, g["name"]
        if g["name"] == "normal": assert g["correct"], g
        elif g["name"] == "gsm8k last number": assert g["correct"]   # GSM8K's own convention: the last number, 7
        else: assert not g["correct"], g["name"]
    errors = {g["name"]: g["grade_error"] for g in graded}
    assert errors["power tower, braced"].startswith("timeout")
    assert errors["1 MB of open braces"] == f"no answer: answer too long (over {MAX_ANSWER_CHARS} characters)"
    assert not sentinel.exists()

def test_no_response_text_reaches_eval(tmp_path):
    "Trap `eval`/`exec` while grading real and hostile answers in this process: only numeric sympy literals get there."
    sentinel = tmp_path/"PWNED"
    touch = f"__import__('os').system('touch {sentinel}')"
    is_equiv("1", "1")  # imports done before the trap
    seen, real_eval, real_exec = [], builtins.eval, builtins.exec
    def trap(f):
        def wrapped(code, *a, **k):
            if isinstance(code, (str, bytes)): seen.append(str(code))   # code objects are compiled modules being imported
            return f(code, *a, **k)
        return wrapped
    builtins.eval, builtins.exec = trap(real_eval), trap(real_exec)
    try:
        for p in [touch, r"\text{%s}" % touch, r"\operatorname{%s}" % touch, "os.system('ls')", r"1.5\times 10^{3}", r"\frac{3}{4}",
                  "3.14", r"\pi", "e", r"\begin{pmatrix}1\\2\end{pmatrix}", r"(1, 2]", r"x = 5", r"50\%"]:
            assert is_equiv("7", p) is False
        is_equiv(touch, touch); is_equiv(touch, "7")   # a hostile gold: whatever the verdict, nothing runs
    finally: builtins.eval, builtins.exec = real_eval, real_exec
    print(sorted(set(seen))[:12], len(set(seen)))
    assert "Integer (7 )" in seen and "Float ('1.5' )" in seen   # the trap works: sympy's number tokens do pass eval
    for code in seen:   # ... and nothing from the responses does (what else passes is sympy's own: unit prefixes, codegen)
        for bad in ("__import__", "system", "touch", "PWNED", "os.", "operatorname"): assert bad not in code, code
    assert not sentinel.exists()

def test_hung_worker_is_killed_and_replaced():
    "With the worker's own timer off, a hang is ended by killing the worker; the rest of its chunk is graded by a new one."
    items = [(0, "5", "5"), (1, "9", r"9^{9^{9^{9^{9}}}}"), (2, "7", "7"), (3, r"\frac{1}{2}", "0.5")]
    t0 = time.time()
    res = verify_in_pool(items, timeout=1.0, workers=1, chunk_size=4, soft=False, grace=0.5)
    print(res, f"{time.time()-t0:.1f}s")
    assert res[1][0] is False and "worker killed" in res[1][1] and res[1][2] <= 1.0 + 1
    assert [res[i][0] for i in (0, 2, 3)] == [True, True, True]

def test_pool_from_a_thread():
    "math-verify's signal.alarm fails outside the main thread; the pool does not care."
    out = {}
    def run(): out["g"] = grade_records([dict(completion=r"\boxed{\dfrac{1}{2}}", answer="0.5", source="toy")], timeout=3)
    t = threading.Thread(target=run); t.start(); t.join(60)
    assert out["g"][0]["correct"] is True
    err = {}
    def run2():
        try: is_equiv("1", "1", timeout=1)
        except ValueError as e: err["e"] = str(e)
    t = threading.Thread(target=run2); t.start(); t.join(10)
    assert "main thread" in err["e"]   # in-process timeouts are signals: is_equiv says so instead of hanging

# ---------------------------------------------------------------- metrics

def test_pass_at_k_closed_form():
    for n in range(1, 9):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert math.isclose(pass_at_k(n, c, k), 1 - math.comb(n - c, k) / math.comb(n, k), abs_tol=1e-12)

def test_avg_at_k_of_identical_samples_is_accuracy():
    single = [dict(problem_id=i, source="aime24", pred=str(i % 3), correct=i % 3 == 0, grade_error=None) for i in range(30)]
    copies = [dict(r, sample=j) for r in single for j in range(8)]
    a, b = summarize(single)["sources"]["aime24"], summarize(copies)["sources"]["aime24"]
    assert math.isclose(a["acc"], 10 / 30) and math.isclose(b["acc"], a["acc"]) and b["k"] == 8
    assert math.isclose(b["pass_at_k"], a["acc"]) and math.isclose(b["maj_at_k"], a["acc"])
    assert math.isclose(a["acc_se"], math.sqrt((10/30) * (20/30) / 29))   # sample sd / sqrt(n): 8.8 points on AIME's 30

# ---------------------------------------------------------------- the command line

def _micota(*args):
    exe = Path(sys.executable).parent/"micota"
    if exe.exists(): cmd = [str(exe), "grade", *args]
    else:  # before the console script exists: the same parser the dispatcher uses
        code = ("import sys; from fastcore.script import anno_parser; from micota.grade import grade_cli as f; g = f.__wrapped__; "
                "a = vars(anno_parser(g).parse_args(sys.argv[1:])); a.pop('pdb', None); a.pop('xtra', None); g(**a)")
        cmd = [sys.executable, "-c", code, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)

def test_cli_grades_a_folder_of_shards(tmp_path):
    gens = tmp_path/"gens"; gens.mkdir()
    def rec(pid, s, src, gold, comp, fr="stop"):
        return dict(id=f"{pid}/{s}", problem_id=pid, sample=s, source=src, answer=gold, completion=comp, finish_reason=fr)
    shard0 = [rec("m/1", 0, "math500", r"\frac{1}{2}", r"so $\boxed{0.5}$"), rec("m/1", 1, "math500", r"\frac{1}{2}", r"\boxed{1/3}"),
              rec("m/2", 0, "math500", "3", r"\boxed{3}", "length"), rec("m/2", 1, "math500", "3", r"Final Answer: 3")]
    shard1 = [rec("g/1", 0, "gsm8k", "18", "She makes 9 * 2 = $18."), rec("g/1", 1, "gsm8k", "18", "#### 18"),
              rec("t/1", 0, "toy", "12", r"\boxed{12}"), rec("t/1", 1, "toy", "12", "12")]
    for name, recs in (("00000.jsonl", shard0), ("00001.jsonl", shard1)):
        (gens/name).write_text("".join(json.dumps(r) + "\n" for r in recs))
    out, summ = tmp_path/"graded.jsonl", tmp_path/"summary.json"
    p = _micota(str(gens), "--out", str(out), "--k", "2", "--summary", str(summ), "--timeout", "3", "--workers", "2")
    print(p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    graded = [json.loads(l) for l in out.read_text().splitlines()]
    assert [g["id"] for g in graded] == [r["id"] for r in shard0 + shard1]
    assert [g["correct"] for g in graded] == [True, False, False, True, True, True, True, False]
    assert graded[2]["pred"] is None and "length" in graded[2]["grade_error"]
    s = json.loads(summ.read_text())
    assert s["sources"]["math500"]["acc"] == 0.5 and s["sources"]["math500"]["pass_at_k"] == 1.0
    assert "| gsm8k | 1 | 2 | 2 | 100.0 |" in p.stdout and "macro average (3)" in p.stdout

def test_cli_bad_record_names_file_and_line(tmp_path):
    f = tmp_path/"gens.jsonl"
    f.write_text(json.dumps(dict(problem_id="a", sample=0, completion="1", answer="1")) + "\n\n" + json.dumps(dict(answer="2")) + "\n")
    p = _micota(str(f), "--out", str(tmp_path/"o.jsonl"))
    assert p.returncode != 0 and f"{f}:3" in p.stderr and "completion" in p.stderr
    assert not (tmp_path/"o.jsonl").exists()

def test_grade_file_refuses_to_overwrite_its_input(tmp_path):
    f = tmp_path/"g.jsonl"; f.write_text(json.dumps(dict(problem_id="a", sample=0, completion="1", answer="1")) + "\n")
    with pytest.raises(ValueError, match="overwrite"): grade_file(f, f)
