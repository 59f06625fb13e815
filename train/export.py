"""Export a run's latest checkpoint to ONNX (the exporter itself is magma_policy.export)."""
from __future__ import annotations

import json
import os
import shutil
from typing import Dict, Optional

from train import checkpoint
from train.config import TrainConfig
from train.model import make_network


def export_checkpoint(run_dir: str, export_to: Optional[str] = None,
                      figures: Optional[Dict[str, float]] = None) -> str:
    """Write <run_dir>/policy.onnx and policy.json (training step, evaluation figures); copy both to
    `export_to` when given. Returns the ONNX path in the run directory."""
    from magma_policy.export import export_onnx

    state = checkpoint.load_latest(run_dir)
    cfg = TrainConfig.from_dict(json.loads(state["config"]))
    net = make_network(cfg)
    net.load_state_dict(state["net"])
    net.eval()
    evaluation = {k: float(v) for k, v in (figures or {}).items() if k.startswith("eval/")}
    if not evaluation:
        evaluation = _last_eval_row(run_dir)
    metadata = {"global_step": int(state["global_step"]), "update": int(state["update"]),
                "run": os.path.basename(os.path.abspath(run_dir)), "evaluation": evaluation,
                "training": {"preset_fields": json.loads(state["config"])},
                # The agent samples at the temperature the policy was trained at unless told otherwise.
                "play_temperature": float(cfg.policy_temperature)}
    path = os.path.join(run_dir, "policy.onnx")
    export_onnx(net, path, metadata)
    if export_to:
        os.makedirs(export_to, exist_ok=True)
        for name in os.listdir(run_dir):
            if name.startswith("policy."):
                shutil.copy(os.path.join(run_dir, name), os.path.join(export_to, name))
    return path


def _last_eval_row(run_dir: str) -> Dict[str, float]:
    """The newest evaluation figures in the run's metrics.csv."""
    import csv

    path = os.path.join(run_dir, "metrics.csv")
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("eval/finished_rate")]
    if not rows:
        return {}
    return {k: float(v) for k, v in rows[-1].items() if k.startswith("eval/") and v}
