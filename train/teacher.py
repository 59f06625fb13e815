"""The teacher's labels for PPO's teacher term (config `teacher_coef`; the term itself: train/ppo.py).

The teacher is the heuristic unit controller, the policy the shipped network imitates. At a run's start the
trainer records `teacher_games` heuristic self-play games (train/imitation.py's recorder: every `teacher_every`-th
step of both players, each robot labelled with the controller's choice) and keeps them in the run directory, so a
resumed run replays the same labels without playing the games again.
"""
from __future__ import annotations

import os
from typing import Callable, List

import torch

from train import checkpoint
from train.config import TrainConfig

TEACHER_FILE = "teacher.pt"
SEED_OFFSET = 700_001  # teacher games' seeds lie apart from the training games' (train.workers.build_runners)


def teacher_seeds(cfg: TrainConfig) -> List[int]:
    return [cfg.seed * 100_003 + SEED_OFFSET + i for i in range(cfg.teacher_games)]


def load_or_record(cfg: TrainConfig, run_dir: str, log: Callable[[str], None] = print) -> List:
    """The run's teacher samples (train.imitation.Sample, robots with labels only): read from the run directory,
    or recorded and written there first."""
    path = os.path.join(run_dir, TEACHER_FILE)
    if os.path.isfile(path):
        return checkpoint.load(path)["samples"]
    from train.imitation import record  # the recorder needs the real policy package, not the tests' stand-in

    seeds = teacher_seeds(cfg)
    log("recording %d heuristic games for the teacher term (every %d-th step, %d steps a game)"
        % (len(seeds), cfg.teacher_every, cfg.max_episode_length))
    torch_threads = torch.get_num_threads()
    games = record(seeds, cfg.kaggle_ratio, cfg.teacher_every, cfg.max_episode_length, max(cfg.num_workers, 1))
    torch.set_num_threads(torch_threads)  # the recorder sets one thread in the processes it runs games in
    samples = [s for game in games for s in game if len(s.labels)]
    if not samples:
        raise ValueError("the teacher's %d games recorded no robot: raise max_episode_length or teacher_games"
                         % len(seeds))
    checkpoint.atomic_save({"samples": samples, "seeds": seeds, "every": cfg.teacher_every}, path)
    return samples
