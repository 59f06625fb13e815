"""Short real games shared by the policy's tests: both seats play random allowed actions (masks + decode)."""
from __future__ import annotations

from typing import Dict, List

import numpy as np
import pytest

from magma_policy.actions import decode
from magma_policy.features import encode
from tests.game import ActionCounter
from tests.magma_policy.games import KAGGLE, NEURIPS, play


class RecordedGame:
    def __init__(self, game: Dict[str, int], seed: int, steps: int) -> None:
        rng = np.random.RandomState(seed)
        self.states: List = []  # GameState of player_0, every step
        self.envs: List = []  # deep copies of the env at a few steps, for replaying rejected actions
        self.decoded: List = []  # (state, player, queues) per step and seat
        self.collisions = 0

        def policy(state, player):
            f = encode(state, player)
            chosen = np.array([rng.choice(np.flatnonzero(m)) for m in f.action_mask], dtype=np.int64)
            queues = decode(state, player, f.unit_ids, chosen)
            self.decoded.append((state, player, queues))
            return queues

        import copy

        with ActionCounter() as counter:
            for env, states in play(seed, game, steps, policy):
                self.states.append(states["player_0"])
                if len(self.states) % 15 == 0 and len(self.envs) < 3:
                    self.envs.append((copy.deepcopy(env), states))
        self.counter = counter


@pytest.fixture(scope="session")
def game48() -> RecordedGame:
    return RecordedGame(KAGGLE, seed=3, steps=80)


@pytest.fixture(scope="session")
def game64() -> RecordedGame:
    return RecordedGame(NEURIPS, seed=5, steps=60)
