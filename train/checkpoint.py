"""Checkpoints: written atomically (temporary file, then os.replace) so a crash never leaves half a file.

A checkpoint holds everything a resumed run needs to continue as if it never stopped: network and optimiser
state, the update and env-step counters, the random states (python, numpy, torch and the sampling generator),
the pickled games of every env (engine state, env seeds, trajectory slots) and the observations the next
rollout starts from.
"""
from __future__ import annotations

import glob
import io
import os
import random
import re
from typing import Any, Dict, Optional

import numpy as np
import torch

PATTERN = "checkpoint_%07d.pt"


def rng_state(generator: torch.Generator) -> Dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "generator": generator.get_state()}


def set_rng_state(state: Dict[str, Any], generator: torch.Generator) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    generator.set_state(state["generator"])


def atomic_save(obj: Any, path: str) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save(run_dir: str, state: Dict[str, Any], keep: int) -> str:
    """Write `state` (with an "update" field) and keep only the newest `keep` checkpoints."""
    path = os.path.join(run_dir, PATTERN % int(state["update"]))
    atomic_save(state, path)
    for old in list_checkpoints(run_dir)[:-keep]:
        os.remove(old)
    return path


def list_checkpoints(run_dir: str):
    paths = glob.glob(os.path.join(run_dir, "checkpoint_*.pt"))
    return sorted(p for p in paths if re.search(r"checkpoint_\d+\.pt$", p))


def latest(run_dir: str) -> Optional[str]:
    paths = list_checkpoints(run_dir)
    return paths[-1] if paths else None


def load(path: str) -> Dict[str, Any]:
    # Our own files: they hold numpy random states and pickled games, not just tensors.
    return torch.load(path, map_location="cpu", weights_only=False)


def load_latest(run_dir: str) -> Dict[str, Any]:
    if not os.path.isdir(run_dir):
        raise FileNotFoundError("run directory %s does not exist" % run_dir)
    path = latest(run_dir)
    if path is None:
        raise FileNotFoundError("no checkpoint_*.pt in %s" % run_dir)
    return load(path)
