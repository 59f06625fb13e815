"""The Ray env pool: the same training as the subprocess pool from the same seed, clear errors, its options.

One local Ray (2 CPUs) serves the module. The actors import the real magma_policy (the tests' stand-in policy
lives only in this process's sys.modules), so the training compared is the smoke preset's."""
from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import torch

ray = pytest.importorskip("ray")

from train.config import PRESETS, TrainConfig, config_from_args  # noqa: E402
from train.run import Trainer  # noqa: E402
from train.workers import RayEnvPool, build_runners, make_pool  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def smoke(**kw) -> TrainConfig:
    # The smoke preset with three games over two workers: one worker runs two games, the other one.
    values = dict(PRESETS["smoke"], num_envs=3, num_workers=2, total_timesteps=96, eval_every=0, export_onnx=False,
                  torch_threads=1, update_threads=1)
    values.update(kw)
    return TrainConfig.from_dict(values)


def train_and_record(cfg: TrainConfig, run_dir: str):
    """Train; return every step's results (rewards, ends, next observations), the figures and the last batch."""
    trainer = Trainer(cfg, run_dir, progress=False)
    steps = []
    real_recv = trainer.pool.recv

    def recv(group):
        results = real_recv(group)
        steps.append([(res.ended, [r.tolist() for r in res.rewards], res.seat_rewards,
                       [(o.map_planes, o.unit_features, o.action_mask, o.keys) for o in res.obs]) for res in results])
        return results

    trainer.pool.recv = recv
    trainer.train()
    rows = trainer.logger.rows
    return steps, rows, trainer.batch


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def test_ray_pool_trains_exactly_as_the_subprocess_pool(local_ray, tmp_path):
    sub_steps, sub_rows, sub_batch = train_and_record(smoke(), str(tmp_path / "subprocess"))
    ray_steps, ray_rows, ray_batch = train_and_record(smoke(env_backend="ray"), str(tmp_path / "ray"))
    assert len(sub_steps) == len(ray_steps) == 2 * 16 * 2  # updates x steps x groups
    assert any(ended for step in sub_steps for ended, *_ in step)  # 24-step games end and restart
    for i, (a, b) in enumerate(zip(sub_steps, ray_steps)):
        assert same(a, b), "step results differ at recv %d" % i
    for f in dataclasses.fields(sub_batch):
        assert torch.equal(getattr(sub_batch, f.name), getattr(ray_batch, f.name)), f.name
    assert len(sub_rows) == len(ray_rows) == 2
    timing = ("SPS", "seconds")
    for a, b in zip(sub_rows, ray_rows):
        assert {k: v for k, v in a.items() if not k.endswith(timing)} == \
            {k: v for k, v in b.items() if not k.endswith(timing)}
        assert "losses/policy_loss" in a


def test_ray_pool_errors_are_clear(local_ray):
    cfg = smoke(env_backend="ray")
    with pytest.raises(ValueError, match="has 2 CPUs, too few for 3 env actors"):
        RayEnvPool(build_runners(cfg, range(3)), 3)
    pool = make_pool(dataclasses.replace(cfg, num_envs=1))
    try:
        obs = pool.reset()
        ray.kill(pool.actors[0])
        with pytest.raises(RuntimeError, match="env actor 0 exited unexpectedly"):
            pool.step([[np.zeros(len(o.keys), dtype=np.int64) for o in obs[0]]])
    finally:
        pool.close()


def test_backend_options():
    cfg, _ = config_from_args(["--preset", "smoke", "--env-backend", "ray", "--ray-address", "auto"])
    assert (cfg.env_backend, cfg.ray_address) == ("ray", "auto")
    assert config_from_args(["--ray-address", "none"])[0].ray_address is None
    assert config_from_args([])[0].env_backend == "subprocess"
    with pytest.raises(SystemExit):
        config_from_args(["--env-backend", "threads"])
    with pytest.raises(ValueError, match="env_backend=ray needs num_workers >= 1"):
        config_from_args(["--env-backend", "ray", "--num-workers", "0"])
    with pytest.raises(ValueError, match="env_backend must be one of subprocess, ray"):
        TrainConfig(env_backend="threads").validate()


def test_backend_options_show_in_help():
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "train/run.py", "--help"], cwd=root, capture_output=True, text=True,
                         timeout=60)
    text = " ".join(out.stdout.split())
    assert "--env-backend {subprocess,ray}" in text and "(default subprocess)" in text
    assert "--ray-address ADDRESS" in text
