"""Defaults live in one place: changing a field's default in a stage dataclass (one generation field, one SFT field)
changes the stage CLI's help, the presets and what a run resolves (its plan and manifest), with no other edit."""
import re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _patched_package(tmp:Path) -> Path:
    "A copy of the package whose GenerateConfig.top_p (from DecodeConfig) and SFTRunConfig.warmup_ratio defaults are changed in the source."
    dest = tmp/"pkg"; shutil.copytree(ROOT/"micota", dest/"micota", ignore=shutil.ignore_patterns("assets", "__pycache__"))
    (dest/"micota"/"assets").symlink_to(ROOT/"micota"/"assets")
    for mod, field, old, new in (("decode", "top_p", "1.0", "0.9"), ("sft", "warmup_ratio", "0.03", "0.07")):
        f = dest/"micota"/f"{mod}.py"; src = f.read_text()
        pat = re.compile(rf"^(\s+{field}: float = (?:opt\()?){re.escape(old)}\b", re.M)
        assert len(pat.findall(src)) == 1, f"{f}: no single `{field}` field with default {old}"
        f.write_text(pat.sub(rf"\g<1>{new}", src))
    return dest

def _run(pkg:Path, *code_or_cli) -> str:
    env = {"PYTHONPATH": str(pkg), "PATH": "/usr/bin:/bin", "MICOTA_THREADS": "1"}
    p = subprocess.run([sys.executable, *code_or_cli], capture_output=True, text=True, env=env, timeout=300, cwd=pkg)  # cwd: sys.path[0]
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout

def test_a_changed_default_reaches_cli_preset_and_run(tmp_path):
    pkg = _patched_package(tmp_path)
    cli = ["-c", "from micota.cli import main; main()"]
    assert re.search(r"--top_p FLOAT\s+nucleus sampling mass \(default: 0\.9", _run(pkg, *cli, "generate", "--help"))
    assert re.search(r"--warmup_ratio FLOAT\s+.*\(default: 0\.07", _run(pkg, *cli, "sft", "--help"))
    out = _run(pkg, "-c", "from micota.presets import load_preset as l; p = l('tiny'); q = l('paper-3b'); "
                          "print(p.generate.top_p, q.generate.top_p, p.sft.warmup_ratio, q.sft.warmup_ratio)")
    assert out.split() == ["0.9", "0.9", "0.07", "0.07"]
    plan = _run(pkg, *cli, "run", "--preset", "tiny", "--dry_run")
    assert "top_p=0.9" in plan and "warmup_ratio=0.07" in plan
    # and the unpatched package says otherwise, so the test can fail
    assert "top_p=1.0" in _run(ROOT, *cli, "run", "--preset", "tiny", "--dry_run")
