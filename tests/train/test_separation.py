"""train/separation.py: trajectory slots, random groups, reward mixing."""
from __future__ import annotations

import numpy as np
import pytest

from train.separation import SlotMap, mix_rewards, random_group


def test_slot_map_frees_and_delays_reuse():
    slots = SlotMap(2)
    assert list(slots.assign(["unit_5", "unit_9"])) == [0, 1]
    # unit_5 dies: its slot is not handed to the newcomer at once.
    with pytest.raises(RuntimeError, match="more than 2 units"):
        slots.assign(["unit_9", "unit_12"])
    slots = SlotMap(3)
    slots.assign(["unit_5", "unit_9"])
    assert list(slots.assign(["unit_9", "unit_12"])) == [1, 2]
    # One step later the freed slot 0 is usable again, ids far beyond the capacity are fine.
    assert list(slots.assign(["unit_9", "unit_12", "unit_100000"])) == [1, 2, 0]


def test_slot_map_rejects_bad_capacity():
    with pytest.raises(ValueError, match="capacity must be >= 1"):
        SlotMap(0)


def test_random_group_is_stable_and_bounded():
    assert random_group("unit_17", 4) == random_group("unit_17", 4)
    assert {random_group("unit_%d" % i, 4) for i in range(200)} == {0, 1, 2, 3}


def test_mix_rewards():
    own = np.array([1.0, 0.0, 2.0])
    mixed, team = mix_rewards(own, team_terms=0.5, w=0.75, separate=True)
    assert team == pytest.approx(0.5 + 1.0)
    np.testing.assert_allclose(mixed, 0.75 * own + 0.25 * 1.5)
    same, _ = mix_rewards(own, team_terms=0.5, w=0.75, separate=False)
    np.testing.assert_allclose(same, [1.5, 1.5, 1.5])
