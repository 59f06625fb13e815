"""train/rollout.py: the policy's flat actions go back to their envs and seats."""
from __future__ import annotations

import numpy as np

from train.rollout import split_actions
from train.workers import SeatObs


def seat(keys, size=4):
    n = len(keys)
    return SeatObs(np.ones((2, size, size), dtype=np.float16), np.zeros(3, dtype=np.float32),
                   np.zeros((n, 2), dtype=np.int64), np.zeros((n, 1), dtype=np.float32), np.ones((n, 5), dtype=bool),
                   np.array(keys, dtype=np.int64))


def test_split_actions_per_env_and_seat():
    obs = [seat([0, 1]), seat([]), seat([0])]
    parts = split_actions(np.array([4, 5, 6]), obs, [2, 1])
    assert [p.tolist() for p in parts[0]] == [[4, 5], []] and [p.tolist() for p in parts[1]] == [[6]]
