"""The package's shape: no import circle among micota's modules (imports inside functions counted), and no module,
benchmark or test that imports another module's private (`_name`) names."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT/"micota"

def _imports(path:Path):
    "(target micota module, imported names) for every `from micota.X import ...` / `from .X import ...` in a file."
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom):
            mod = n.module or ""
            if n.level == 1: target = mod.split(".")[0]
            elif mod.startswith("micota."): target = mod.split(".")[1]
            elif mod == "micota": target = None
            else: continue
            yield target, [a.name for a in n.names]
        elif isinstance(n, ast.Import):
            for a in n.names:
                if a.name.startswith("micota."): yield a.name.split(".")[1], []

def _modules(): return {p.stem: p for p in PKG.glob("*.py") if p.stem not in ("__init__", "_modidx")}

def test_no_import_circle():
    mods = _modules()
    edges = {m: {t for t, _ in _imports(p) if t in mods and t != m} for m, p in mods.items()}
    def reach(a):
        seen, todo = set(), list(edges[a])
        while todo:
            b = todo.pop()
            if b not in seen: seen.add(b); todo += edges[b]
        return seen
    circles = {m: sorted(edges[m]) for m in mods if m in reach(m)}
    assert not circles, f"modules in an import circle (module: what it imports): {circles}"

def test_no_private_names_across_modules():
    mods = _modules()
    files = [*mods.values(), *(ROOT/"tests").glob("*.py"), *(ROOT/"bench").glob("*.py")]
    bad = [f"{f.relative_to(ROOT)}: micota.{t}.{name}" for f in files for t, names in _imports(f)
           for name in names if name.startswith("_") and not name.startswith("__") and not (f.parent == PKG and t == f.stem)]
    assert not bad, "private names used outside their module: " + "; ".join(bad)
