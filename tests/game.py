"""In-process games for tests: the engine with our heuristic agent in both seats."""
from __future__ import annotations

import collections
import dataclasses
from typing import Callable, Dict, Iterator, Optional, Tuple

import luxai_s2.env
from luxai_s2 import LuxAI_S2

from agent import Agent
from lux.config import GameConfig
from lux.state import GameState

KAGGLE = dict(map_size=48, MIN_FACTORIES=2, MAX_FACTORIES=5)
NEURIPS: Dict[str, int] = {}


UNIT_ACTION_TYPES = ("transfer", "dig", "pickup", "move", "self_destruct", "recharge")


class ActionCounter:
    """Counts the actions the engine's validator receives and keeps, by wrapping luxai_s2.env.validate_actions:
    `count` all rejected actions (robots and factories), `seen` / `kept` / `rejected` robot actions only."""

    def __init__(self) -> None:
        self.count = 0
        self.seen = 0
        self.kept = 0
        self._original = luxai_s2.env.validate_actions

    def __enter__(self) -> ActionCounter:
        original = self._original

        def counting(env_cfg, state, actions_by_type, verbose=1):
            valid = original(env_cfg, state, actions_by_type, verbose=0)
            self.count += sum(len(v) for v in actions_by_type.values()) - sum(len(v) for v in valid.values())
            self.seen += sum(len(actions_by_type[k]) for k in UNIT_ACTION_TYPES)
            self.kept += sum(len(valid[k]) for k in UNIT_ACTION_TYPES)
            return valid

        luxai_s2.env.validate_actions = counting
        return self

    def __exit__(self, *exc) -> None:
        luxai_s2.env.validate_actions = self._original

    @property
    def rejected(self) -> int:
        return self.seen - self.kept


def play(seed: int, game: Dict[str, int], steps: int = 1000,
         on_step: Optional[Callable[[LuxAI_S2, Dict[str, GameState], Dict[str, dict]], None]] = None
         ) -> Iterator[Tuple[LuxAI_S2, int]]:
    """Play our heuristic agent against itself; yields (env, real step) after each step of the game proper.

    `on_step(env, states, actions)` sees each step's states and chosen actions before the engine runs them.
    """
    env = LuxAI_S2(verbose=0, validate_action_space=True, max_episode_length=steps, **game)
    obs, _ = env.reset(seed=seed)
    env_cfg = dataclasses.asdict(env.state.env_cfg)
    cfg = GameConfig.from_dict(env_cfg)
    agents = {p: Agent(p, env_cfg, unit_controller="heuristic") for p in env.agents}
    step = 0
    while env.agents:
        actions, states = {}, {}
        for player in env.agents:
            o = obs[player]
            states[player] = GameState.from_obs(o, cfg)
            if step == 0 or o["real_env_steps"] < 0:
                actions[player] = agents[player].early_setup(step, o)
            else:
                actions[player] = agents[player].act(step, o)
        if on_step is not None and states["player_0"].real_env_steps >= 0:
            on_step(env, states, actions)
        obs, _, terminations, _, _ = env.step(actions)
        step += 1
        if env.state.real_env_steps > 0:
            yield env, env.state.real_env_steps
        if all(terminations.values()):
            return


def play_to_end(seed: int, game: Dict[str, int], steps: int = 1000, on_step=None) -> Tuple[LuxAI_S2, int]:
    """Play a whole game (see `play`) and return the env and the last real step."""
    last = collections.deque(play(seed, game, steps, on_step), maxlen=1)
    assert last, "the game ended during setup"
    return last[0]
