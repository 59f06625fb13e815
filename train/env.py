"""One Lux game for training: the engine plus our heuristics for bidding, placement and factories.

`LuxGame` hides the setup phase: `reset` bids, places every factory with strategy/ for both seats and returns
the state at real step 0. `step` takes the robots' action queues of both players, adds the factory actions
(strategy.factories, watering only when allowed) and advances the engine by one step. A caller may replace the
bidding, the placement or the factory actions with its own functions (`bidder`, `placer`, `factory_policy`).
With `midgame` (train/midgame.py) a share of the games starts at a state of a recorded game instead, reached by
replaying its recorded actions, setup included.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from lux.config import GameConfig
from lux.state import PLAYERS, GameState
from strategy.bidding import bid
from strategy.factories import factory_actions
from strategy.placement import my_turn_to_place, place_factory

KAGGLE_GAME = dict(map_size=48, MIN_FACTORIES=2, MAX_FACTORIES=5)
NEURIPS_GAME = dict(map_size=64, MIN_FACTORIES=4, MAX_FACTORIES=10)


def make_engine(game: Dict[str, int], max_episode_length: int) -> Any:
    from luxai_s2 import LuxAI_S2  # training only: the agent never imports the engine

    # The engine's own action-space validation builds gym spaces per unit per step (half its time); our
    # action codec only emits well-formed actions, so it is off. Its statistics give the ice transferred.
    return LuxAI_S2(verbose=0, validate_action_space=False, collect_stats=True, max_episode_length=max_episode_length,
                    **game)


# The setup and factory decisions LuxGame takes from strategy/ unless given others:
Bidder = Callable[[GameState, str], Dict[str, Any]]  # (state, player) -> {"faction": ..., "bid": int}
Placer = Callable[[GameState, str], Dict[str, Any]]  # (state, player) -> {"spawn", "metal", "water"} or {}
FactoryPolicy = Callable[[GameState, str, Dict[str, Any]], Dict[str, int]]  # (state, player, robot queues)


class LuxGame:
    """A sequence of games on one engine; the game config (Kaggle or NeurIPS) is drawn per episode."""

    # Class-level defaults: runners pickled before these existed (checkpoints) unpickle with strategy/'s.
    bidder: Optional[Bidder] = None
    placer: Optional[Placer] = None
    factory_policy: Optional[FactoryPolicy] = None
    midgame: Any = None  # train.midgame.MidgameStarts, or None: every game from step 0
    start_step = 0  # the real step the current game started at (above 0: a mid-game start)

    def __init__(self, seed: int, kaggle_ratio: float = 1.0, max_episode_length: int = 1000,
                 allow_watering: bool = False, fixed_seed: Optional[int] = None, bidder: Optional[Bidder] = None,
                 placer: Optional[Placer] = None, factory_policy: Optional[FactoryPolicy] = None,
                 midgame: Any = None) -> None:
        """`placer` is asked only on the player's turn to place; `factory_policy` replaces strategy.factories
        (and so `allow_watering`) and gets the robots' queues of this step, to keep builds off moving robots."""
        self.rng = np.random.default_rng(seed)
        self.kaggle_ratio = kaggle_ratio
        self.max_episode_length = max_episode_length
        self.allow_watering = allow_watering
        self.fixed_seed = fixed_seed  # evaluation: always this game
        self._engines: Dict[str, Any] = {}
        self.engine: Any = None
        self.cfg: Optional[GameConfig] = None
        self.state: Optional[GameState] = None
        self.episode = 0
        self.game_seed = 0
        if bidder is not None:
            self.bidder = bidder
        if placer is not None:
            self.placer = placer
        if factory_policy is not None:
            self.factory_policy = factory_policy
        if midgame is not None:
            self.midgame = midgame

    def _engine_for(self, kaggle: bool) -> Any:
        key = "kaggle" if kaggle else "neurips"
        if key not in self._engines:
            self._engines[key] = make_engine(KAGGLE_GAME if kaggle else NEURIPS_GAME, self.max_episode_length)
        return self._engines[key]

    def reset(self) -> GameState:
        """Start a new game and play its setup phase; returns the state at real step 0 (or, for a mid-game
        start, the recorded game's state at its drawn step)."""
        start = self.midgame.draw(self.rng, self.max_episode_length) if self.midgame is not None else None
        if start is not None:
            return self._start_recorded(*start)
        kaggle = self.rng.random() < self.kaggle_ratio
        self.engine = self._engine_for(kaggle)
        self.game_seed = int(self.fixed_seed if self.fixed_seed is not None else self.rng.integers(0, 2 ** 31 - 1))
        obs, _ = self.engine.reset(seed=self.game_seed)
        self.cfg = GameConfig.from_dict(dataclasses.asdict(self.engine.state.env_cfg))
        self.episode += 1
        self.start_step = 0
        step = 0
        while True:
            state = GameState.from_obs(obs["player_0"], self.cfg)
            if state.real_env_steps >= 0 and step > 0:
                break
            actions = {}
            for player in PLAYERS:
                if step == 0:
                    actions[player] = (self.bidder or bid)(state, player)
                elif my_turn_to_place(state, player, step):
                    actions[player] = (self.placer or place_factory)(state, player)
                else:
                    actions[player] = {}
            obs, _, terminations, _, _ = self.engine.step(actions)
            step += 1
            if all(terminations.values()):
                raise RuntimeError("game with seed %d ended during setup" % self.game_seed)
        self.state = state
        return state

    def _start_recorded(self, game: Any, real_step: int) -> GameState:
        """The recorded game's state at `real_step`, its actions replayed through this game's engine."""
        from train.midgame import replay_to

        self.engine = self._engine_for(game.game == "kaggle")
        obs = replay_to(self.engine, game, real_step)
        self.game_seed = game.seed
        self.cfg = GameConfig.from_dict(dataclasses.asdict(self.engine.state.env_cfg))
        self.episode += 1
        self.start_step = real_step
        self.state = GameState.from_obs(obs["player_0"], self.cfg)
        return self.state

    def step(self, unit_actions: Dict[str, Dict[str, Any]]) -> Tuple[GameState, bool]:
        """Advance one real step; returns (next state, game over)."""
        if self.state is None:
            raise RuntimeError("step() before reset()")
        actions = {}
        for player in PLAYERS:
            acts: Dict[str, Any] = dict(unit_actions.get(player, {}))
            if self.factory_policy is not None:
                acts.update(self.factory_policy(self.state, player, dict(acts)))
            else:
                acts.update(factory_actions(self.state, player, allow_watering=self.allow_watering, unit_queues=acts))
            actions[player] = acts
        obs, _, terminations, _, _ = self.engine.step(actions)
        # The engine sends both players the same full observation.
        self.state = GameState.from_obs(obs["player_0"], self.cfg)
        return self.state, bool(all(terminations.values()))

    def stats(self) -> Dict[str, float]:
        """Game figures of the current game (summed over both players)."""
        st = self.engine.state
        ice = sum(float(st.stats[p]["transfer"]["ice"]) for p in PLAYERS)
        factories = {p: len(self.state.factories.get(p, {})) for p in PLAYERS}
        lichen = float(self.state.board.lichen.sum())
        figures = {
            "episode_length": float(max(self.state.real_env_steps, 0)),
            "ice_transferred": ice,
            "factories_alive": float(sum(factories.values())),
            "units_alive": float(sum(len(self.state.units.get(p, {})) for p in PLAYERS)),
            "lichen": lichen,
            # Finished: at least one factory of BOTH players alive at the last step.
            "finished": float(self.state.real_env_steps >= self.max_episode_length and min(factories.values()) > 0),
        }
        if self.midgame is not None:
            figures["start_step"] = float(self.start_step)
        return figures
