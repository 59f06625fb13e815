"""In-process games for the policy's tests: simple setup of our own, then robots driven by a callback."""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Iterator, Optional, Tuple

import numpy as np
from luxai_s2 import LuxAI_S2

from lux.config import GameConfig
from lux.state import GameState

KAGGLE = dict(map_size=48, MIN_FACTORIES=2, MAX_FACTORIES=5)
NEURIPS: Dict[str, int] = {}

UnitPolicy = Callable[[GameState, str], Dict[str, list]]


def _placement(state: GameState, player: str, rng: np.random.RandomState) -> dict:
    """A spawn next to ice (most ice within 3 tiles), with an even share of water and metal."""
    team = state.teams[player]
    spawns = np.argwhere(state.board.valid_spawns_mask)
    if team.factories_to_place <= 0 or len(spawns) == 0:
        return {}
    ice = np.pad(state.board.ice > 0, 3)
    scores = np.array([ice[x: x + 7, y: y + 7].sum() for x, y in spawns]) + rng.rand(len(spawns)) * 0.1
    x, y = spawns[int(np.argmax(scores))]
    share = max(team.factories_to_place, 1)
    return {"spawn": [int(x), int(y)], "metal": team.metal // share, "water": team.water // share}


def _factory_actions(state: GameState, player: str, rng: np.random.RandomState) -> Dict[str, int]:
    """Build robots now and then so the games have a crowd; water only to stay alive."""
    out = {}
    for fid, f in state.factories[player].items():
        centre_free = all(not np.array_equal(u.pos, f.pos) for units in state.units.values()
                          for u in units.values())
        if centre_free and f.cargo.metal >= 100 and f.power >= 500:
            out[fid] = 1
        elif centre_free and f.cargo.metal >= 10 and f.power >= 50 and rng.rand() < 0.5:
            out[fid] = 0
        elif f.cargo.water > 50 and state.real_env_steps > 0 and f.cargo.water < 80:
            out[fid] = 2
    return out


def play(seed: int, game: Dict[str, int], steps: int, unit_policy: UnitPolicy,
         on_step: Optional[Callable[[LuxAI_S2, Dict[str, GameState], Dict[str, dict]], None]] = None,
         validate: bool = True) -> Iterator[Tuple[LuxAI_S2, Dict[str, GameState]]]:
    """Play `steps` real steps; yields (env, states) before each step of the game proper."""
    env = LuxAI_S2(verbose=0, validate_action_space=validate, max_episode_length=steps, **game)
    obs, _ = env.reset(seed=seed)
    cfg = GameConfig.from_dict(dataclasses.asdict(env.state.env_cfg))
    rng = np.random.RandomState(seed)
    step = 0
    while env.agents:
        states = {p: GameState.from_obs(obs[p], cfg) for p in env.agents}
        actions: Dict[str, dict] = {}
        for p in env.agents:
            s = states[p]
            if step == 0:
                actions[p] = {"faction": "AlphaStrike", "bid": 0}
            elif s.real_env_steps < 0:
                my_turn = s.teams[p].place_first == (step % 2 == 1)
                actions[p] = _placement(s, p, rng) if my_turn else {}
            else:
                actions[p] = dict(_factory_actions(s, p, rng))
                actions[p].update(unit_policy(s, p))
        if step > 0 and states["player_0"].real_env_steps >= 0:
            yield env, states
            if on_step is not None:
                on_step(env, states, actions)
        obs, _, term, trunc, _ = env.step(actions)
        step += 1
        if all(term.values()) or all(trunc.values()):
            return
