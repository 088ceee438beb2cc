"""micota's GSM8K verdicts against lm-eval 0.4.13's `gsm8k` task (flexible-extract filter + exact_match), same responses.

Run with micota's python (it calls the lm-eval venv for lm-eval's side):
    bash bench/lmeval_env.sh                       # once: .venv-lmeval with lm-eval==0.4.13
    python bench/lmeval_gsm8k.py [--n 100] [--out bench/lmeval_gsm8k.json]
No model is run: the responses are GSM8K's gold worked solutions and rewrites of them (answer styles a model
writes, and wrong answers), and the toy models' real outputs on GSM8K prompts. lm-eval's own filter and metric
functions are called on the strings, with the task's YAML settings read from the installed task.
"""
import argparse, json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LMEVAL_PY = ROOT/".venv-lmeval"/"bin"/"python"

LMEVAL_SIDE = r'''
import json, sys, yaml, importlib.resources as ir
from lm_eval.filters.extraction import RegexFilter
from lm_eval.api.metrics import exact_match_hf_evaluate
class _L(yaml.SafeLoader): pass
_L.add_multi_constructor("!", lambda loader, suffix, node: None)
task = yaml.load((ir.files("lm_eval")/"tasks"/"gsm8k"/"gsm8k.yaml").read_text(), Loader=_L)
flex = [f for f in task["filter_list"] if f["name"] == "flexible-extract"][0]["filter"][0]
metric = task["metric_list"][0]
filt = RegexFilter(regex_pattern=flex["regex_pattern"], group_select=flex["group_select"])
recs = [json.loads(l) for l in open(sys.argv[1])]
preds = [r[0] for r in filt.apply([[r["completion"]] for r in recs], None)]   # take_first: one response each
out = []
for r, p in zip(recs, preds):
    em = exact_match_hf_evaluate([p], [r["target"]], regexes_to_ignore=metric["regexes_to_ignore"],
                                 ignore_case=metric["ignore_case"], ignore_punctuation=metric["ignore_punctuation"])["exact_match"]
    out.append(dict(lmeval_pred=p, lmeval_correct=bool(em)))
print(json.dumps(dict(regex=flex["regex_pattern"], regexes_to_ignore=metric["regexes_to_ignore"], verdicts=out)))
'''

def styles(row):
    "Responses written from one GSM8K row: (kind, text)."
    sol, ans = row["answer"].rsplit("####", 1)
    sol, ans = sol.strip(), ans.strip()
    n = int(ans.replace(",", ""))
    big = f"{n:,}"
    return [("gold solution (#### N)", row["answer"]),
            ("the answer is N.", f"{sol}\nThe answer is {ans}."),
            ("boxed N", f"{sol}\nSo the final answer is $\\boxed{{{ans}}}$."),
            ("thousands separator $N,NNN", f"{sol}\nShe ends up with ${big}."),
            ("N.00", f"{sol}\nThe answer is {n}.00"),
            ("wrong: N+1", f"{sol}\nThe answer is {n + 1}."),
            ("number after the answer", f"{sol}\nThe answer is {ans}. (Check: that took 3 steps.)"),
            ("answer then units sentence", f"{sol}\n#### {ans}\nQuestion: next one has 7 apples"),
           ]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40, help="GSM8K problems (8 responses each)")
    ap.add_argument("--source", default=str(ROOT.parent/"shared"/"data"/"eval"))
    ap.add_argument("--toy", type=int, default=40, help="also this many real toy-m responses on GSM8K prompts (0: none)")
    ap.add_argument("--out", default=str(ROOT/"bench"/"lmeval_gsm8k.json"))
    a = ap.parse_args()
    from micota.data import load_benchmark, benchmark
    from micota.grade import grade_records
    rows = [json.loads(l) for l in open(Path(a.source)/"gsm8k"/"test.jsonl")][:a.n]
    recs = [dict(problem_id=f"gsm8k/{r['idx']}", kind=k, completion=t, answer=r["answer"], target=r["answer"], source="gsm8k")
            for r in rows for k, t in styles(r)]
    if a.toy:
        import tempfile
        from micota.generate import generate
        probs = load_benchmark("gsm8k", a.source, a.toy, seed=0)
        gens = generate(probs, "toy-m", Path(tempfile.mkdtemp())/"g", template=benchmark("gsm8k").prompt, max_new_tokens=64, progress=False)
        full = {f"gsm8k/{r['idx']}": r["answer"] for r in (json.loads(l) for l in open(Path(a.source)/"gsm8k"/"test.jsonl"))}
        recs += [dict(problem_id=g["problem_id"], kind="toy-m output", completion=g["completion"], answer=g["answer"],
                      target=full[g["problem_id"]], source="gsm8k", finish_reason=g["finish_reason"]) for g in gens]
    graded = grade_records(recs)
    tmp = Path(a.out).with_suffix(".responses.jsonl")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in recs))
    lm = json.loads(subprocess.run([str(LMEVAL_PY), "-c", LMEVAL_SIDE, str(tmp)], check=True, capture_output=True, text=True).stdout)
    tmp.unlink()
    ver = subprocess.run([str(LMEVAL_PY), "-c", "import importlib.metadata as m; print(m.version('lm-eval'))"], capture_output=True, text=True).stdout.strip()
    out, kinds = [], {}
    for g, v in zip(graded, lm["verdicts"]):
        r = dict(kind=g["kind"], problem_id=g["problem_id"], gold=g["target"].rsplit("####", 1)[1].strip(), micota_pred=g["pred"],
                 micota_correct=g["correct"], **v, tail=g["completion"][-120:])
        out.append(r)
        k = kinds.setdefault(r["kind"], dict(n=0, micota=0, lmeval=0, disagree=0))
        k["n"] += 1; k["micota"] += r["micota_correct"]; k["lmeval"] += r["lmeval_correct"]; k["disagree"] += r["micota_correct"] != r["lmeval_correct"]
    dis = [r for r in out if r["micota_correct"] != r["lmeval_correct"]]
    res = dict(lm_eval=ver, task="gsm8k flexible-extract exact_match", regex=lm["regex"], regexes_to_ignore=lm["regexes_to_ignore"],
               responses=len(out), agree=len(out) - len(dis), by_kind=kinds, disagreements=dis)
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    print(f"{len(out)} responses, {len(out) - len(dis)} agree, {len(dis)} disagree -> {a.out}")
    for k, v in kinds.items(): print(f"  {k:32s} n={v['n']:3d} micota={v['micota']:3d} lm-eval={v['lmeval']:3d} disagree={v['disagree']}")

if __name__ == "__main__": main()
