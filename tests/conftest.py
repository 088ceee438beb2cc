import os, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT.parent/"shared"/"data"/"eval"

def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False, help="also run tests marked slow")

def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long tests, run with --slow")
    os.environ.setdefault("MICOTA_THREADS", "1")

def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"): return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if "slow" in item.keywords: item.add_marker(skip)

@pytest.fixture(scope="session")
def eval_dir():
    if not EVAL_DIR.exists(): pytest.fail(f"{EVAL_DIR} is missing: tests read the benchmark files in ../shared/data/eval")
    return EVAL_DIR
