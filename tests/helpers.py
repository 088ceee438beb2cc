"""Shared helpers of the test files."""
from pathlib import Path


def wide_init_model(folder:Path, shape:str="tiny-l", std:float=0.6, seed:int=2) -> Path:
    "A tiny model with a wide weight init: varied greedy text with clear logit margins."
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig
    from micota.tiny import build_tiny_model
    base = build_tiny_model(shape)
    cfg = AutoConfig.from_pretrained(base); cfg.initializer_range = std
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(cfg)
    model.generation_config = GenerationConfig.from_pretrained(base)
    model.save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(base).save_pretrained(folder)
    return folder
