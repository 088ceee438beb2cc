"""Execute notebooks in place and keep their outputs (nbdev's `clear_all = False`), skipping the cells nbdev_test
skips (`#| eval: false`, and the flags in settings.ini's `tst_flags`: slow, gpu, notest), then `nbdev_clean` them.
A skipped cell keeps no stale output. Torch is capped at one thread (MICOTA_THREADS=1), as under nbdev_test.
usage: python tools/run_nb.py nbs/04_curate.ipynb [more notebooks...] [--flags slow]   (--flags: also run those)"""
import os, sys, time
from pathlib import Path

def run_notebook(path, force=()):
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.process import extract_directives
    from nbdev.config import get_config
    skip = set(get_config().get("tst_flags", "").split()) - set(force)
    path = Path(path).resolve()
    nb = read_nb(path)
    def _skip(cell):
        if cell.cell_type != "code": return True
        if "nbdev_export" + "(" in cell.source: return True
        from fastcore.basics import AttrDict
        d = extract_directives(AttrDict(source=cell.source), remove=False)
        if d.get("eval:", [""])[0].lower() == "false" or skip & d.keys():
            cell.outputs = []; cell.execution_count = None
            return True
        return False
    os.environ.setdefault("MICOTA_THREADS", "1"); os.environ["IN_TEST"] = "1"
    os.environ["TQDM_DISABLE"] = "1"; os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # results, not progress bars
    t = time.time()
    sh = CaptureShell(path)
    cwd = os.getcwd(); os.chdir(path.parent)
    try: sh.run_all(nb, exc_stop=True, preproc=_skip)
    except Exception:
        sys.stderr.write(sh.prettytb(fname=path) + "\n"); os.chdir(cwd); return False
    os.chdir(cwd)
    write_nb(nb, path)
    print(f"{path.name}: ran in {time.time()-t:.0f}s, outputs saved")
    return True

if __name__ == "__main__":
    args = sys.argv[1:]
    force = ()
    if "--flags" in args:
        i = args.index("--flags"); force = tuple(args[i+1].split(",")); del args[i:i+2]
    ok = all([run_notebook(a, force) for a in args])
    import subprocess
    subprocess.run([str(Path(sys.executable).parent/"nbdev_clean")], check=False)
    sys.exit(0 if ok else 1)
