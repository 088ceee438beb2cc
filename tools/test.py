"""Run micota's tests: every notebook through `nbdev_test`, then `pytest tests`; print one closing line
`N passed, N failed` (', N skipped' when any) counting notebooks and pytest tests together.
usage: python tools/test.py [--slow] [pytest args...]   (--slow also runs cells and tests marked slow)"""
import os, re, subprocess, sys, time, xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

def notebooks():
    "The notebooks nbdev_test runs: not starting with `_` or `.`, not in such folders."
    nbs = ROOT/"nbs"
    return sorted(p for p in nbs.rglob("*.ipynb") if not any(part.startswith(("_", ".")) for part in p.relative_to(nbs).parts))

def run_notebooks(slow):
    cmd = [str(BIN/"nbdev_test"), "--n_workers", os.environ.get("MICOTA_TEST_WORKERS", "2"), "--timing"]
    if slow: cmd += ["--flags", "slow"]
    t = time.time()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    out = p.stdout + p.stderr
    print(out[-20000:])
    failed = set()
    if "nbdev Tests Failed On The Following Notebooks" in out:
        failed = {l.strip() for l in out.split("nbdev Tests Failed On The Following Notebooks")[1].splitlines() if l.strip().endswith(".ipynb")}
    total = len(notebooks())
    if p.returncode and not failed: failed = {"(nbdev_test failed before reporting a notebook)"}
    print(f"notebooks: {total - len(failed)} passed, {len(failed)} failed in {time.time()-t:.0f}s")
    return total - len(failed), len(failed)

def run_pytest(slow, extra):
    xml = ROOT/".pytest-report.xml"
    cmd = [str(BIN/"python"), "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}", *extra]
    if slow: cmd += ["--slow"]
    p = subprocess.run(cmd, cwd=ROOT)
    if p.returncode == 5: return 0, 0, 0  # no tests collected
    if not xml.exists(): return 0, 1, 0
    suites = ET.parse(xml).getroot()
    suites = [suites] if suites.tag == "testsuite" else list(suites)
    n = sum(int(s.get("tests", 0)) for s in suites); f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    s_ = sum(int(s.get("skipped", 0)) for s in suites)
    xml.unlink()
    if p.returncode and not f: f = 1
    return n - f - s_, f, s_

if __name__ == "__main__":
    args = sys.argv[1:]
    slow = "--slow" in args; args = [a for a in args if a != "--slow"]
    os.environ.setdefault("MICOTA_HOME", str(ROOT/".cache"/"micota"))
    t0 = time.time()
    np_, nf = run_notebooks(slow)
    pp, pf, ps = run_pytest(slow, args)
    print(f"total time {time.time()-t0:.0f}s")
    print(f"{np_ + pp} passed, {nf + pf} failed" + (f", {ps} skipped" if ps else ""))
    sys.exit(1 if nf + pf else 0)
