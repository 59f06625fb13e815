"""`python train/run.py --preset smoke` end to end with the real policy: trains, evaluates, exports an ONNX
policy that magma_policy.runtime loads and the agent plays with."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from train.config import DEFAULT_PRESET, PRESETS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytest.importorskip("magma_policy.export")
pytest.importorskip("magma_policy.runtime")


def test_help_lists_options():
    out = subprocess.run([sys.executable, "train/run.py", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0
    assert "--reward-own-weight" in out.stdout and "--resume RUN_DIR" in out.stdout
    blocks = {" ".join(b.split()).split(" ")[0]: " ".join(b.split()) for b in out.stdout.split("\n  --")}
    for name in ("net_channels", "num_steps", "clip_vloss"):  # the preset's values, not the dataclass's
        value = PRESETS[DEFAULT_PRESET][name]
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        assert blocks[name.replace("_", "-")].endswith("(default %s)" % shown), blocks[name.replace("_", "-")]


def test_smoke_run_exports_a_policy_the_agent_uses(tmp_path):
    run_dir = tmp_path / "smoke"
    weights = tmp_path / "weights"
    out = subprocess.run([sys.executable, "train/run.py", "--preset", "smoke", "--run-dir", str(run_dir),
                          "--export-to", str(weights), "--no-progress"],
                         cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    for name in ("config.json", "metrics.csv", "policy.onnx"):
        assert (run_dir / name).exists(), name
    assert (weights / "policy.onnx").exists()
    assert json.loads((run_dir / "config.json").read_text())["exp_name"] == "smoke"

    # --evaluate replays the run's evaluation with its last checkpoint; sampled games repeat exactly.
    evaluations = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "train/run.py", "--evaluate", str(run_dir), "--eval-seeds", "1000,1001"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-3000:]
        evaluations.append(json.loads(out.stdout))
    assert evaluations[0]["global_step"] == 64 and 0.0 <= evaluations[0]["eval/finished_rate"] <= 1.0
    assert evaluations[0]["eval/episode_length"] == 24  # the smoke preset's evaluation games run 24 steps
    drop = ("eval/seconds",)
    assert {k: v for k, v in evaluations[0].items() if k not in drop} == \
        {k: v for k, v in evaluations[1].items() if k not in drop}

    from luxai_s2 import LuxAI_S2

    from agent import Agent
    from magma_policy.runtime import load_policy

    policy = load_policy(str(weights / "policy.onnx"), backend="numpy")
    env = LuxAI_S2(verbose=0, map_size=48, MIN_FACTORIES=2, MAX_FACTORIES=5)
    obs, _ = env.reset(seed=7)
    env_cfg = dataclasses.asdict(env.state.env_cfg)
    agents = {p: Agent(p, env_cfg, weights_path=str(weights / "policy.onnx"), unit_controller="policy")
              for p in env.agents}
    assert all(a.unit_controller == "policy" for a in agents.values())
    step = 0
    while env.state.real_env_steps < 5:
        actions = {}
        for p, a in agents.items():
            o = obs[p]
            actions[p] = a.early_setup(step, o) if o["real_env_steps"] < 0 or step == 0 else a.act(step, o)
        obs, _, _, _, _ = env.step(actions)
        step += 1
    assert all(a.unit_controller == "policy" for a in agents.values())  # never fell back
    assert policy is not None


def test_a_smoke_run_on_the_fast_presets_network_and_update_trains_and_exports(tmp_path):
    """The fast preset's network (quarter) and update schedule, at the smoke preset's size: trains, and its export
    plays through the numpy executor as torch computes it."""
    import numpy as np
    import torch

    from magma_policy.features import encode
    from magma_policy.runtime import load_policy
    from train import checkpoint
    from train.config import TrainConfig
    from train.export import export_checkpoint
    from train.model import make_network
    from train.run import Trainer

    fast = PRESETS["fast"]
    values = dict(PRESETS["smoke"], eval_every=0, export_onnx=False)
    values.update({k: fast[k] for k in ("net_arch", "net_channels", "net_blocks", "update_epochs", "num_minibatches",
                                        "clip_coef")})
    cfg = TrainConfig.from_dict(values)
    run_dir = str(tmp_path / "fast")
    figures = Trainer(cfg, run_dir, progress=False).train()
    assert figures["losses/minibatches"] == cfg.update_epochs * cfg.num_minibatches
    assert np.isfinite(figures["losses/loss"]) and figures["charts/rollout_SPS"] > 0
    path = export_checkpoint(run_dir)
    policy = load_policy(path, backend="numpy")
    assert policy.metadata["network"]["arch"] == "quarter"
    net = make_network(cfg)
    net.load_state_dict(checkpoint.load_latest(run_dir)["net"])
    net.eval()
    from train.env import LuxGame

    game = LuxGame(5)
    game.reset()
    for _ in range(3):  # the factories build their first robots
        state, _ = game.step({})
    f = encode(state, "player_0")
    n = len(f.unit_ids)
    assert n > 0
    if n:
        with torch.no_grad():
            want = net(torch.from_numpy(f.map_planes[None]), torch.from_numpy(f.global_features[None]),
                       torch.zeros(n, dtype=torch.long), torch.from_numpy(f.unit_pos),
                       torch.from_numpy(f.unit_features), torch.from_numpy(f.action_mask))[0].numpy()
        np.testing.assert_allclose(policy.evaluate(f)[0], want, atol=1e-4, rtol=0)


def test_the_finetune_preset_runs_from_the_shipped_policy_at_a_tiny_size(tmp_path):
    """`--preset finetune` with its pieces on and the sizes cut down: the shipped weights, the teacher's recorded
    game, the opponent pool (a snapshot after the value phase), mid-game starts from a replay; then a resume."""
    import csv

    from train.arena import play_game

    replays = tmp_path / "replays"
    replays.mkdir()
    play_game(os.path.join(ROOT, "main.py"), os.path.join(ROOT, "main.py"), seed=1, config="kaggle",
              replay_paths=[str(replays / "game.json")], max_episode_length=20)
    run_dir = tmp_path / "finetune"
    tiny = ["--num-envs", "2", "--num-steps", "16", "--num-workers", "1", "--max-episode-length", "24",
            "--num-minibatches", "2", "--value-warmup-updates", "1", "--actor-lr-ramp-updates", "1",
            "--pool-snapshot-every", "1", "--teacher-games", "1", "--teacher-batch", "8", "--eval-every", "0",
            "--export-onnx", "false", "--no-progress", "--midgame-dir", str(replays), "--midgame-share", "0.5"]
    out = subprocess.run([sys.executable, "train/run.py", "--preset", "finetune", "--run-dir", str(run_dir),
                          "--total-timesteps", "64"] + tiny, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (run_dir / "teacher.pt").exists()
    with open(run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["charts/actor_lr_scale"]) for r in rows] == [0.0, 1.0]
    assert float(rows[-1]["pool/snapshots"]) == 1 and float(rows[-1]["losses/teacher_ce"]) > 0
    assert "losses/teacher_ce" not in {k for k, v in rows[0].items() if v}  # the value phase: no policy terms
    out = subprocess.run([sys.executable, "train/run.py", "--resume", str(run_dir), "--total-timesteps", "96",
                          "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "recording" not in out.stdout  # the teacher's games are read back, not played again
    assert "update 3 |" in out.stdout
