"""Kill training (SIGKILL) after a checkpoint, start it again: it continues from that step, not from zero."""
import json, os, signal, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r'''
import json, sys, time
from micota.core import set_threads; set_threads(1)
from transformers import TrainerCallback
from micota.sft import train_sft

class Probe(TrainerCallback):
    "Records the step training starts at; sleeps a little each step when asked (so a kill lands mid-run)."
    def __init__(self, nap): self.nap = nap
    def on_train_begin(self, args, state, control, **kw):
        open(sys.argv[2], "w").write(json.dumps({"start_step": state.global_step}))
    def on_step_end(self, args, state, control, **kw): time.sleep(self.nap)

data = [{"prompt": f"Compute {a} + {a}.", "completion": f"{a} + {a} = {2 * a}. \\boxed{{{2 * a}}}"} for a in range(8)]
train_sft("tiny-s", data, sys.argv[1], max_steps=30, save_steps=10, save_total_limit=5, batch_size=2, grad_accum=1,
          learning_rate=1e-3, max_length=64, logging_steps=1, callbacks=[Probe(float(sys.argv[3]))])
'''

def test_resume_after_kill(tmp_path):
    script = tmp_path/"train.py"; script.write_text(SCRIPT)
    out = tmp_path/"run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MICOTA_THREADS": "1"}
    p = subprocess.Popen([sys.executable, str(script), str(out), str(tmp_path/"first.json"), "0.3"], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ck = out/"checkpoints"/"checkpoint-10"/"trainer_state.json"
    t0 = time.time()
    while not ck.exists():
        assert p.poll() is None, f"training ended before its first checkpoint: {p.stderr.read()[-2000:]}"
        assert time.time() - t0 < 300, "no checkpoint after 5 minutes"
        time.sleep(0.1)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert not (out/"final").exists()
    done = sorted(int(c.name.split("-")[1]) for c in (out/"checkpoints").glob("checkpoint-*") if (c/"trainer_state.json").exists())
    assert done and done[-1] < 30
    # the same command again: it picks up the last complete checkpoint
    r = subprocess.run([sys.executable, str(script), str(out), str(tmp_path/"second.json"), "0"], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    start = json.loads((tmp_path/"second.json").read_text())["start_step"]
    assert start == done[-1] > 0
    m = json.loads((out/"metrics.json").read_text())
    assert m["global_step"] == 30 and m["resumed_from"].endswith(f"checkpoint-{done[-1]}")
    steps = [h["step"] for h in map(json.loads, (out/"log_history.jsonl").read_text().splitlines()) if "loss" in h]
    assert steps == list(range(1, 31))  # one loss curve across the kill: the first run's steps, then the rest
    assert (out/"final"/"model.safetensors").exists() and (out/"loss.png").exists()
