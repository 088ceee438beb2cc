"""`SFTRunConfig` is the one place an SFT default is written: change it there, and `micota sft --help`, `sft_config()`
and the settings a launched run is given all follow, with no other edit."""
import json, os, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r'''
import json, sys
from micota.core import cli_parser, call_cli
import micota.sft as sft
helps = {a.dest[4:]: a.help for a in cli_parser(sft.sft_cli, prog="micota sft")._actions if a.dest.startswith("cfg.")}
args = vars(cli_parser(sft.sft_cli).parse_args(["--model", "tiny-s", "--data", "d.jsonl", "--out", "o", "--num_processes", "2", "--dry_run"]))
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()): cmd = call_cli(sft.sft_cli, args)
print(json.dumps({"help": helps["learning_rate"], "default": sft.sft_config().learning_rate, "launched": cmd[cmd.index("micota.sft") + 1:]}))
'''

def probe(pkg_parent):
    env = {**os.environ, "PYTHONPATH": str(pkg_parent), "MICOTA_THREADS": "1"}
    r = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120, cwd=pkg_parent)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])

def test_changing_a_default_in_sftrunconfig_changes_the_cli(tmp_path):
    shutil.copytree(ROOT/"micota", tmp_path/"micota", ignore=shutil.ignore_patterns("__pycache__"))
    src = tmp_path/"micota"/"sft.py"
    text = src.read_text()
    line = "learning_rate: float = opt(1e-5, gt=0)"
    assert text.count(line) == 1
    src.write_text(text.replace(line, "learning_rate: float = opt(3e-4, gt=0)"))
    before, after = probe(ROOT), probe(tmp_path)
    assert before["help"] == "peak learning rate (default: 1e-05; > 0)" and before["default"] == 1e-5
    assert after["help"] == "peak learning rate (default: 0.0003; > 0)" and after["default"] == 3e-4
    assert "1e-05" not in after["help"] and "1e-5" not in src.read_text().split("class SFTRunConfig")[1].split("def sft_cli")[1]
    # the launched processes get no copy of the default: they read it from the same dataclass
    assert before["launched"] == after["launched"] == ["--model", "tiny-s", "--data", "d.jsonl", "--out", "o"]
