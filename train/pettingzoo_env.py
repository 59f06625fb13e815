"""Lux AI Season 2 as a PettingZoo `ParallelEnv`, with this project's observation encoding and action codec.

    from train.pettingzoo_env import LuxParallelEnv
    env = LuxParallelEnv(game="kaggle")            # or "neurips": 64 map, 4-10 factories
    obs, infos = env.reset(seed=0)

Agents are the two players. Bidding, factory placement and the factories' actions come from strategy/ (as in
training and play) unless the caller gives its own functions; the agents act for their robots only. One step
is one real game step; the game is played by `train.workers.GameRunner`, the trainer's own game loop
(magma_policy.features.encode for the observations, magma_policy.actions.decode for the actions, train.rewards
for the rewards).

Observation of a player (a Dict space; robots padded to `max_robots` rows, `unit_valid` marks the real ones, in
the order of `infos[player]["unit_ids"]`):
  map_planes         float32 [C, S, S]   the map planes, indexed [channel, x, y] (the trainer's float16 values)
  global_features    float32 [G]
  unit_pos           int64   [R, 2]      (x, y) of each robot
  unit_features      float32 [R, U]
  unit_action_mask   int8    [R, A]      the actions allowed to each robot (padding rows: NOOP only)
  unit_valid         int8    [R]         1 for a robot, 0 for padding
(The mask is not named `action_mask`: PettingZoo's helpers read a key of that name as one flat mask over a
Discrete action, and the action here is one id per robot.)

Action of a player: MultiDiscrete [R] of magma_policy.actions ids (0 NOOP, moves, dig, transfers, pickup, GO
walks), row i for robot i. Padding rows are ignored, and an action its mask forbids becomes NOOP (always
allowed), so any sample of the space is a valid action. Robots past `max_robots` are not observed and idle
(`infos[player]["robots"]` counts them all).

Reward of a player: its reward terms of the step summed (the team terms plus every robot's own, with the
config's reward_* weights and reward_scale; `config` defaults to the default training preset's).
`infos[player]["unit_rewards"]` holds the trainer's per-robot rewards (own and team mixed by reward_own_weight),
row i for robot i of the observation the actions were chosen on. A game ends for both players at once (at
`max_episode_length`, or when a player has lost every factory): both are terminated, `infos[p]["episode"]` has
the game's figures, and the observations are of the final state.

`reset(seed=s)` plays the engine's game s; later resets without a seed draw their games from s.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from lux.state import PLAYERS
from magma_policy.actions import N_ACTIONS, NOOP
from magma_policy.features import N_GLOBAL_FEATURES, N_MAP_CHANNELS, N_UNIT_FEATURES
from train.config import DEFAULT_PRESET, PRESETS, TrainConfig
from train.env import KAGGLE_GAME, NEURIPS_GAME, Bidder, FactoryPolicy, LuxGame, Placer
from train.workers import GameRunner, SeatObs

# The game configurations, as train/env.py builds them, and the kaggle_ratio that always draws each.
GAMES = {"kaggle": (KAGGLE_GAME, 1.0), "neurips": (NEURIPS_GAME, 0.0)}
# Trajectory keys are not part of this env's observations: the runner's slot map only must never run out.
SLOT_CAPACITY = 4096

Obs = Dict[str, np.ndarray]


class LuxParallelEnv(ParallelEnv):
    """Both players of one Lux S2 game (see the module docstring for the spaces, rewards and endings)."""

    metadata = {"name": "lux_s2_magma_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, game: str = "kaggle", max_episode_length: int = 1000, max_robots: int = 256,
                 config: Optional[TrainConfig] = None, bidder: Optional[Bidder] = None,
                 placer: Optional[Placer] = None, factory_policy: Optional[FactoryPolicy] = None,
                 render_mode: Optional[str] = None) -> None:
        """`game`: "kaggle" (48 map, 2-5 factories) or "neurips" (64, 4-10). `config`: reward weights, reward
        mixing and watering (its game settings are replaced by these arguments). `bidder`, `placer`,
        `factory_policy`: replace strategy/'s bidding, placement and factory actions (train.env.LuxGame)."""
        if game not in GAMES:
            raise ValueError("game must be one of %s, got %r" % (", ".join(GAMES), game))
        if max_robots < 1:
            raise ValueError("max_robots must be >= 1, got %d" % max_robots)
        if render_mode is not None:
            raise ValueError("no render modes: replays come from the runner (tools/, train/arena.py)")
        settings, ratio = GAMES[game]
        base = config if config is not None else TrainConfig(**PRESETS[DEFAULT_PRESET])
        self.config = dataclasses.replace(base, kaggle_ratio=ratio, max_episode_length=max_episode_length,
                                          opponent="selfplay", max_units=max(SLOT_CAPACITY, max_robots)).validate()
        self.game_name = game
        self.map_size = int(settings["map_size"])
        self.max_robots = max_robots
        self.render_mode = render_mode
        self.possible_agents: List[str] = list(PLAYERS)
        self.agents: List[str] = []
        # One space object per agent, built once: PettingZoo expects the same object on every call.
        self.observation_spaces = {a: self._observation_space() for a in self.possible_agents}
        self.action_spaces = {a: spaces.MultiDiscrete(np.full(max_robots, N_ACTIONS, dtype=np.int64))
                              for a in self.possible_agents}
        self._hooks = dict(bidder=bidder, placer=placer, factory_policy=factory_policy)
        self.runner: Optional[GameRunner] = None
        self._seat_obs: Dict[str, SeatObs] = {}

    def _observation_space(self) -> spaces.Dict:
        r, s = self.max_robots, self.map_size
        return spaces.Dict({
            "map_planes": spaces.Box(-np.inf, np.inf, (N_MAP_CHANNELS, s, s), dtype=np.float32),
            "global_features": spaces.Box(-np.inf, np.inf, (N_GLOBAL_FEATURES,), dtype=np.float32),
            "unit_pos": spaces.Box(0, s - 1, (r, 2), dtype=np.int64),
            "unit_features": spaces.Box(-np.inf, np.inf, (r, N_UNIT_FEATURES), dtype=np.float32),
            "unit_action_mask": spaces.MultiBinary([r, N_ACTIONS]),
            "unit_valid": spaces.MultiBinary(r),
        })

    def observation_space(self, agent: str) -> spaces.Dict:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        return self.action_spaces[agent]

    # -- reset and step ----------------------------------------------------------------------------------------

    def reset(self, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None
              ) -> Tuple[Dict[str, Obs], Dict[str, Dict[str, Any]]]:
        if seed is not None or self.runner is None:
            start = int(seed) if seed is not None else int(np.random.default_rng().integers(0, 2 ** 31 - 1))
            cfg = self.config
            game = LuxGame(start, cfg.kaggle_ratio, cfg.max_episode_length, cfg.allow_watering,
                           fixed_seed=None if seed is None else start, **self._hooks)
            self.runner = GameRunner(cfg, seed=start, auto_reset=False, selfplay=True, game=game)
        seat_obs = self.runner.reset()
        self.runner.game.fixed_seed = None  # the next reset without a seed draws its game from the seeded RNG
        self.agents = list(self.possible_agents)
        obs = self._observe(seat_obs)
        return obs, {p: self._info(p, None) for p in self.agents}

    def step(self, actions: Dict[str, Any]) -> Tuple[Dict[str, Obs], Dict[str, float], Dict[str, bool],
                                                     Dict[str, bool], Dict[str, Dict[str, Any]]]:
        if self.runner is None or not self.agents:
            raise RuntimeError("step() without a game: call reset() first (and after a game ended)")
        chosen = [self._robot_actions(p, actions.get(p)) for p in self.runner.seats]
        res = self.runner.step(chosen)
        players = list(self.agents)
        obs = self._observe(self.runner.observe() if res.ended else res.obs)
        rewards = {p: float(r) for p, r in zip(self.runner.seats, res.seat_rewards)}
        infos = {p: self._info(p, r) for p, r in zip(self.runner.seats, res.rewards)}
        if res.ended:
            for p in players:
                infos[p]["episode"] = dict(res.episode or {})
            self.agents = []
        terminations = {p: bool(res.ended) for p in players}
        truncations = {p: False for p in players}
        return obs, rewards, terminations, truncations, infos

    def _robot_actions(self, player: str, action: Any) -> np.ndarray:
        """One action id per robot the runner knows, from a padded action: forbidden ids and robots past
        max_robots get NOOP."""
        n = len(self.runner.unit_ids[player])
        out = np.full(n, NOOP, dtype=np.int64)
        if action is None:
            return out
        given = np.asarray(action).reshape(-1)
        if given.shape != (self.max_robots,):
            raise ValueError("%s: expected %d action ids (one per robot row), got shape %s"
                             % (player, self.max_robots, np.asarray(action).shape))
        k = min(n, self.max_robots)
        ids = given[:k].astype(np.int64)
        if k and (ids.min() < 0 or ids.max() >= N_ACTIONS):
            raise ValueError("%s: action ids must be in 0..%d, got %s" % (player, N_ACTIONS - 1, ids.tolist()))
        allowed = self._seat_obs[player].action_mask[np.arange(k), ids]
        out[:k] = np.where(allowed, ids, NOOP)
        return out

    # -- observations ------------------------------------------------------------------------------------------

    def _observe(self, seat_obs: List[SeatObs]) -> Dict[str, Obs]:
        self._seat_obs = dict(zip(self.runner.seats, seat_obs))
        return {p: self._pad(o) for p, o in self._seat_obs.items()}

    def _pad(self, o: SeatObs) -> Obs:
        r, k = self.max_robots, min(len(o.keys), self.max_robots)
        pos = np.zeros((r, 2), dtype=np.int64)
        feats = np.zeros((r, N_UNIT_FEATURES), dtype=np.float32)
        mask = np.zeros((r, N_ACTIONS), dtype=np.int8)
        mask[:, NOOP] = 1  # every row has an allowed action, so sampling from the mask never fails
        valid = np.zeros(r, dtype=np.int8)
        pos[:k], feats[:k], mask[:k], valid[:k] = o.unit_pos[:k], o.unit_features[:k], o.action_mask[:k], 1
        return {"map_planes": np.asarray(o.map_planes, dtype=np.float32),
                "global_features": np.asarray(o.global_features, dtype=np.float32),
                "unit_pos": pos, "unit_features": feats, "unit_action_mask": mask, "unit_valid": valid}

    def _info(self, player: str, unit_rewards: Optional[np.ndarray]) -> Dict[str, Any]:
        ids = self.runner.unit_ids[player]
        padded = np.zeros(self.max_robots, dtype=np.float32)
        if unit_rewards is not None:
            k = min(len(unit_rewards), self.max_robots)
            padded[:k] = unit_rewards[:k]
        return {"unit_ids": list(ids[:self.max_robots]), "robots": len(ids), "unit_rewards": padded}

    def render(self) -> None:
        return None

    def close(self) -> None:
        self.agents = []


def parallel_env(**kwargs: Any) -> LuxParallelEnv:
    """PettingZoo's usual constructor name (`LuxParallelEnv`'s arguments)."""
    return LuxParallelEnv(**kwargs)
