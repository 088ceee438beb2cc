"""The toy world's shipped models: size, checksums, and that `micota toy build` reproduces them."""
import json, subprocess, sys
from pathlib import Path
import pytest
from micota.toy import TOY_MODELS, toy_assets
from micota.toymodels import sha256_file as _sha256

def manifest():
    return json.loads((toy_assets()/"MANIFEST.json").read_text())

def test_shipped_models_are_small_and_match_their_checksums():
    total = sum(f.stat().st_size for f in toy_assets().rglob("*") if f.is_file())
    assert total < 10e6, total
    m = manifest()
    assert set(m["models"]) == set(TOY_MODELS)
    for name, info in m["models"].items():
        for fname, digest in info["sha256"].items():
            assert _sha256(toy_assets()/name/fname) == digest, (name, fname)

def test_package_data_includes_the_toy_models(tmp_path):
    "A built wheel carries the toy models (they are package data, not only files in the checkout)."
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(root)],
                   check=True, capture_output=True)
    import zipfile
    names = zipfile.ZipFile(next(tmp_path.glob("micota-*.whl"))).namelist()
    for n in TOY_MODELS: assert f"micota/assets/toy/{n}/model.safetensors" in names
    assert "micota/assets/toy/MANIFEST.json" in names

@pytest.mark.slow
def test_toy_build_reproduces_the_shipped_bytes(tmp_path):
    "Rebuild toy-s from nothing (about 5 minutes on one core): same bytes as shipped."
    out = tmp_path/"toy"
    subprocess.run([str(Path(sys.executable).parent/"micota"), "toy", "build", "--models", "toy-s", "--out", str(out)], check=True)
    assert _sha256(out/"toy-s"/"model.safetensors") == manifest()["models"]["toy-s"]["sha256"]["model.safetensors"]

@pytest.mark.slow
def test_toy_learnability_cli_shows_the_gap(tmp_path):
    "`micota toy learnability`: the student trained on ground-truth SHORT, MID and LONG (about 3 minutes on one core)."
    p = subprocess.run([str(Path(sys.executable).parent/"micota"), "toy", "learnability", "--work", str(tmp_path), "--n", "100"],
                       capture_output=True, text=True, check=True)
    acc = {l.split("|")[1].strip(): float(l.split("|")[2]) for l in p.stdout.splitlines() if l.startswith("| ") and l.split("|")[2].strip()[:1].isdigit()}
    assert set(acc) == {"nothing (the base)", "SHORT", "MID", "LONG"}, p.stdout
    assert acc["MID"] >= acc["LONG"] + 5, acc  # the learnability gap
    assert "learnability controls in" in p.stdout
