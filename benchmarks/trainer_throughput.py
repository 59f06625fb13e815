"""Trainer throughput against the engine's own speed, printed in one run.

  raw engine   env steps/s of the engine alone (validation off) in the same number of processes, robots driven
               by a cheap scripted policy (random moves), factories building robots
  rollouts     the trainer's env steps/s while collecting (encode, batched forward, decode, rewards)
  overall      the trainer's env steps/s including the PPO update
  --env-backend ray   the same training again with the envs on Ray actors (train.workers.RayEnvPool), then
               once more on the subprocess pool: the two pools' figures side by side
               (--ray-address: a running cluster; default: Ray starts on this machine)
  --profile    where one rollout's time goes (engine, features and masks, forward, decoding, rewards)
Usage: python benchmarks/trainer_throughput.py [--preset basic --num-workers 2 --num-envs 16 --num-steps 128
       --updates 2 --env-backend ray --profile]   (network size and PPO settings come from the preset; the options
       here override them)
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402


def _engine_worker(n_envs: int, steps: int, seed: int, queue) -> None:
    from lux import actions as A
    from train.env import LuxGame

    rng = np.random.default_rng(seed)
    games = [LuxGame(seed + i) for i in range(n_envs)]
    for g in games:
        g.reset()
    done_steps, start = 0, time.perf_counter()
    for _ in range(steps):
        for g in games:
            acts = {}
            for player, units in g.state.units.items():
                # A new queue every few steps, as a cheap stand-in for a policy.
                acts[player] = {uid: [A.move(int(rng.integers(1, 5)), repeat=1)]
                                for uid in units if rng.random() < 0.2}
            _, over = g.step(acts)
            done_steps += 1
            if over:
                g.reset()
    queue.put((done_steps, time.perf_counter() - start))


def raw_engine_sps(processes: int, envs_per_process: int, steps: int) -> float:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_engine_worker, args=(envs_per_process, steps, 100 + 17 * i, queue))
             for i in range(processes)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(n for n, _ in results) / max(t for _, t in results)


def trainer_sps(args: argparse.Namespace, backend: str = "subprocess", announce: bool = True) -> dict:
    from train.config import PRESETS, TrainConfig
    from train.run import Trainer

    values = dict(PRESETS[args.preset])
    values.update(num_workers=args.num_workers, num_envs=args.num_envs, num_steps=args.num_steps,
                  total_timesteps=args.num_envs * args.num_steps * args.updates, eval_every=0, export_onnx=False,
                  torch_threads=args.torch_threads, env_backend=backend, ray_address=args.ray_address)
    for name in ("update_epochs", "num_minibatches", "update_threads"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    cfg = TrainConfig.from_dict(values)
    if announce:
        print("trainer config: preset %s, net %s %d channels x %d blocks, %d epochs x %d minibatches, %d update "
              "threads" % (args.preset, cfg.net_arch, cfg.net_channels, cfg.net_blocks, cfg.update_epochs,
                           cfg.num_minibatches, cfg.update_threads), flush=True)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(cfg, run_dir, progress=False)
        start = time.perf_counter()
        figures = trainer.train()
        total = time.perf_counter() - start
    return {"rollout_sps": figures["charts/rollout_SPS"], "overall_sps": cfg.total_timesteps / total,
            "update_seconds": figures["charts/update_seconds"]}


# Where a rollout step's time goes: (label, file suffix, function) whose cumulative time is reported.
PROFILE_PARTS = (
    ("engine step (luxai_s2)", "luxai_s2/env.py", "step"),
    ("features + masks (magma_policy.features.encode)", "magma_policy/features.py", "encode"),
    ("  of which action masks", "magma_policy/actions.py", "action_masks"),
    ("policy forward + sampling (train.rollout.act)", "train/rollout.py", "act"),
    ("action decoding (magma_policy.actions.decode)", "magma_policy/actions.py", "decode"),
    ("rewards (train.rewards.step_rewards)", "train/rewards.py", "step_rewards"),
    ("factory heuristics (strategy.factories.factory_actions)", "strategy/factories.py", "factory_actions"),
)


def profile_rollout(args: argparse.Namespace, envs: int = 4, steps: int = 64) -> None:
    """cProfile of one rollout with the envs in this process (after a warm-up rollout past placement)."""
    import cProfile
    import pstats

    from train.config import PRESETS, TrainConfig
    from train.run import Trainer

    values = dict(PRESETS[args.preset])
    values.update(num_workers=0, num_envs=envs, num_steps=steps, eval_every=0, export_onnx=False,
                  torch_threads=args.torch_threads)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(TrainConfig.from_dict(values), run_dir, progress=False)
        try:
            trainer.collect()
            profiler = cProfile.Profile()
            start = time.perf_counter()
            profiler.enable()
            trainer.collect()
            profiler.disable()
            total = time.perf_counter() - start
        finally:
            trainer.pool.close()
            trainer.logger.close()
    stats = pstats.Stats(profiler).stats  # (file, line, function) -> (calls, ncalls, tottime, cumtime, callers)
    print("profile:     one rollout in one process, %d envs x %d steps: %.2f s (%.1f ms per env step)"
          % (envs, steps, total, 1000 * total / (envs * steps)))
    for label, suffix, function in PROFILE_PARTS:
        cum = sum(v[3] for (f, _, name), v in stats.items() if f.endswith(suffix) and name == function)
        print("  %-56s %6.2f s  %4.0f%%" % (label, cum, 100 * cum / total))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--num-steps", type=int, default=128)
    parser.add_argument("--updates", type=int, default=2)
    parser.add_argument("--preset", default="basic", help="train/config.py preset the trainer figures use")
    parser.add_argument("--update-epochs", type=int, default=None, help="override the preset's")
    parser.add_argument("--num-minibatches", type=int, default=None, help="override the preset's")
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--update-threads", type=int, default=None, help="torch threads of the PPO update "
                        "(override the preset's)")
    parser.add_argument("--env-backend", choices=("subprocess", "ray"), default="subprocess",
                        help="ray: also train with the envs on Ray actors and print both pools' figures")
    parser.add_argument("--ray-address", default=None, help="with --env-backend ray: a running Ray cluster "
                        "(auto, HOST:6379); default: Ray starts on this machine")
    parser.add_argument("--engine-steps", type=int, default=200, help="steps per env for the raw engine figure")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one rollout in this process and print where its time goes")
    parser.add_argument("--stub-policy", action="store_true",
                        help="use the tests' stand-in policy instead of magma_policy")
    args = parser.parse_args()
    if args.stub_policy:
        import pytest

        from tests.train import stub_policy

        stub_policy.install(pytest.MonkeyPatch())
    envs_per_process = max(args.num_envs // max(args.num_workers, 1), 1)
    raw = raw_engine_sps(max(args.num_workers, 1), envs_per_process, args.engine_steps)
    print("raw engine:  %.1f env steps/s (%d processes x %d envs, validation off, random-move robots)"
          % (raw, max(args.num_workers, 1), envs_per_process), flush=True)
    t = trainer_sps(args)
    line = ("%.1f env steps/s in rollouts, %.1f overall (%d %s, %d envs x %d steps, %d updates; last PPO update "
            "%.1f s)")
    print("trainer:     " + line % (t["rollout_sps"], t["overall_sps"], args.num_workers, "workers", args.num_envs,
                                    args.num_steps, args.updates, t["update_seconds"]), flush=True)
    print("ratio:       rollouts %.0f%% of raw engine, overall %.0f%%"
          % (100 * t["rollout_sps"] / raw, 100 * t["overall_sps"] / raw), flush=True)
    if args.env_backend == "ray":
        from train.workers import connect_ray

        # Ray is started (or joined) before the clock runs, as a long training run would have it.
        connect_ray(args.ray_address, args.num_workers)
        r = trainer_sps(args, "ray", announce=False)
        # The subprocess pool once more after the Ray pool: the two subprocess runs bracket the Ray run, so a
        # change of the machine's load in between shows, and the ratio is taken against their mean.
        w = trainer_sps(args, "subprocess", announce=False)
        print("ray pool:    " + line % (r["rollout_sps"], r["overall_sps"], args.num_workers, "actors", args.num_envs,
                                        args.num_steps, args.updates, r["update_seconds"]))
        print("subprocess:  " + line % (w["rollout_sps"], w["overall_sps"], args.num_workers, "workers",
                                        args.num_envs, args.num_steps, args.updates, w["update_seconds"])
              + ", again after the Ray pool")
        rollouts, overall = (t["rollout_sps"] + w["rollout_sps"]) / 2, (t["overall_sps"] + w["overall_sps"]) / 2
        print("ray/subproc: rollouts %.0f%% of the subprocess pool's (mean of its two runs), overall %.0f%%"
              % (100 * r["rollout_sps"] / rollouts, 100 * r["overall_sps"] / overall))
    if args.profile:
        profile_rollout(args)


if __name__ == "__main__":
    main()
