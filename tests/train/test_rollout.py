"""Rollout storage: per-step records become flat tensors whose entries line up with units and observations."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from train.rollout import RolloutStorage, split_actions, stack_planes
from train.separation import SeparationSwitches
from train.workers import SeatObs


def seat(keys, size=4):
    n = len(keys)
    return SeatObs(np.ones((2, size, size), dtype=np.float16), np.zeros(3, dtype=np.float32),
                   np.zeros((n, 2), dtype=np.int64), np.zeros((n, 1), dtype=np.float32), np.ones((n, 5), dtype=bool),
                   np.array(keys, dtype=np.int64))


def out(logprob, unit_value, global_value):
    return dict(actions=np.zeros(len(logprob), dtype=np.int64), logprob=np.array(logprob, dtype=np.float32),
                unit_value=np.array(unit_value, dtype=np.float32),
                global_value=np.array(global_value, dtype=np.float32))


def test_finish_lines_up_units_entries_and_observations():
    # Two observations per step (B=2), two steps; grouped keys: at t=0 obs 0 has units in keys 0, 0, 1.
    store = RolloutStorage(num_steps=2, obs_per_step=2, n_keys=2)
    store.add([seat([0, 0, 1]), seat([])], out([-1, -2, -3], [1, 3, 5], [7, 8]),
              [np.array([1.0, 3.0, 0.0]), np.zeros(0)], [False, False])
    store.add([seat([1]), seat([0])], out([-4, -5], [2, 4], [6, 9]), [np.array([2.0]), np.array([1.0])], [False, True])
    batch, figures = store.finish([seat([1]), seat([])], out([-1], [10.0], [0, 0]), gamma=0.5, lam=1.0,
                                  switches=SeparationSwitches(), device=torch.device("cpu"))
    assert batch.n_obs == 4 and figures["rollout/unit_entries"] == 5
    # Active entries in (t, b, k) order: (0,0,0), (0,0,1), (1,0,1), (1,1,0).
    assert batch.entry_obs.tolist() == [0, 0, 2, 3]
    assert batch.unit_entry.tolist() == [0, 0, 1, 2, 3]
    torch.testing.assert_close(batch.old_logp, torch.tensor([-3.0, -3.0, -4.0, -5.0]))  # group = sum
    torch.testing.assert_close(batch.old_value, torch.tensor([2.0, 5.0, 2.0, 4.0]))  # group = mean
    # Key 0 of obs 0 dies after t=0 (absent at t=1): A = mean reward 2 - value 2 = 0.
    # Key 1 of obs 0: r=0 + 0.5 * 2 - 5 = -4, then at t=1 r=2 + 0.5 * 10 - 2 = 5: A_0 = -4 + 0.5 * 5 = -1.5.
    # Key 0 of obs 1 at t=1: the episode ended: A = 1 - 4 = -3.
    torch.testing.assert_close(batch.advantages, torch.tensor([0.0, -1.5, 5.0, -3.0]))
    torch.testing.assert_close(batch.returns, batch.advantages + batch.old_value)


def test_storage_rejects_wrong_shapes():
    store = RolloutStorage(num_steps=1, obs_per_step=2, n_keys=1)
    with pytest.raises(ValueError, match="expected 2 observations"):
        store.add([seat([0])], out([0], [0], [0]), [np.zeros(1)], [False])
    with pytest.raises(RuntimeError, match="rollout has 0 of 1 steps"):
        store.finish([], out([], [], []), 0.9, 0.9, SeparationSwitches(), torch.device("cpu"))


def test_stack_planes_pads_smaller_maps():
    planes = stack_planes([np.ones((2, 3, 3), dtype=np.float32), np.ones((2, 5, 5), dtype=np.float32)])
    assert planes.shape == (2, 2, 5, 5)
    assert planes[0, :, 3:, :].sum() == 0 and planes[0, :, :3, :3].sum() == 18


def test_split_actions_per_env_and_seat():
    obs = [seat([0, 1]), seat([]), seat([0])]
    parts = split_actions(np.array([4, 5, 6]), obs, [2, 1])
    assert [p.tolist() for p in parts[0]] == [[4, 5], []] and [p.tolist() for p in parts[1]] == [[6]]
