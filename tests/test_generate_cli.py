"""`micota generate`'s options are derived from `GenerateConfig`: every field is an option with its default in the
help, and a default changed in the dataclass changes both the help and the settings a run gets, with no other edit."""
import dataclasses, json
from dataclasses import dataclass
import pytest
from micota.core import cli_parser, call_cli, opt
import micota.generate as gen
from micota.generate import GenerateConfig, generate_cli


def _shown(default) -> str:
    return ",".join(map(str, default)) if isinstance(default, tuple) else str(default)


def test_help_lists_every_field_with_its_default():
    text = cli_parser(generate_cli, "micota generate").format_help()
    flat = " ".join(text.split())  # argparse wraps long help lines
    for f in dataclasses.fields(GenerateConfig):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        assert f"--{f.name} " in flat, f.name
        assert f"default: {_shown(default)}" in flat, (f.name, default)
    for own in ("--model", "--problems", "--out", "--limit", "--quiet"): assert own in flat
    assert "one of auto, vllm, transformers" in flat and "one of chat, raw" in flat


def test_a_changed_default_reaches_help_and_run(tmp_path, monkeypatch):
    @dataclass
    class Changed(GenerateConfig):
        max_new_tokens: int = opt(777, ge=1)  # completion budget, changed
    monkeypatch.setattr(generate_cli.__wrapped__, "__micota_config__", (Changed, ()))
    p = cli_parser(generate_cli, "micota generate")
    assert "default: 777" in " ".join(p.format_help().split())
    seen = {}
    def fake_generate(probs, model, out, cfg):
        seen["cfg"] = cfg; return []
    monkeypatch.setattr(gen, "generate", fake_generate)
    probs = tmp_path/"p.jsonl"; probs.write_text(json.dumps(dict(id="a", problem="1+1?")) + "\n")
    call_cli(generate_cli, vars(p.parse_args(["--model", "tiny-s", "--problems", str(probs), "--out", str(tmp_path/"o"), "--n", "3"])))
    assert seen["cfg"].max_new_tokens == 777 and seen["cfg"].n == 3
    with pytest.raises(ValueError, match="option --temperature: -1.0 is not allowed"):
        call_cli(generate_cli, vars(p.parse_args(["--model", "m", "--problems", str(probs), "--out", "o", "--temperature", "-1"])))
