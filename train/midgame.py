"""Mid-game starts: training games that begin at a state of a recorded game (config `midgame_dir`,
`midgame_share`).

A game from step 0 spends most of a rollout in the opening; a policy that already opens well learns more from
the middle and the end, and from the states its sparring partners lead to. A recorded game is a replay JSON of
the official runner (train/arena.py's `play_game(..., replay_paths=[...json])`, `train/evaluate.py --replays`):
the game's seed in its metadata, the observation before every engine step and the actions both players sent.

The state at real step k is rebuilt by replaying: the engine is reset with the recorded seed and stepped
through the recorded actions (bids, placements, then k real steps), as the runner passed them to it. The engine
is deterministic, so this is the recorded game's state exactly, engine internals included (which restoring it
from an observation would have to reconstruct); tests/train/test_midgame.py checks that the engine's next
observation after step k, given the recorded actions of step k, is the recorded one. The cost is k engine steps
without agents, a small share of playing the rest of the game.
"""
from __future__ import annotations

import collections
import glob
import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

MAP_SIZE_GAMES = {48: "kaggle", 64: "neurips"}  # train.env's KAGGLE_GAME and NEURIPS_GAME by map size
CACHED_GAMES = 8  # recorded games kept parsed per process (a full game's actions are a few MB of objects)


@dataclass
class RecordedGame:
    path: str
    seed: int
    game: str  # "kaggle" or "neurips"
    actions: List[Dict[str, Any]]  # per engine step, both players' actions as sent (bids, placements, real steps)
    setup_steps: int  # engine steps before real step 0 (the bid and the placements)

    @property
    def real_steps(self) -> int:
        """Real steps whose actions are recorded."""
        return len(self.actions) - self.setup_steps


def read_replay(path: str) -> RecordedGame:
    """A runner replay JSON as a RecordedGame; ValueError for a file that is not one."""
    with open(path) as f:
        data = json.load(f)
    try:
        observations, actions = data["observations"], data["actions"]
        seed = int(data.get("metadata", {}).get("seed", data.get("default_seed")))
        size = len(observations[0]["board"]["ice"])
        steps = [int(o["real_env_steps"]) for o in observations]
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise ValueError("%s is not a replay of the official runner (%r)" % (path, exc)) from None
    if size not in MAP_SIZE_GAMES:
        raise ValueError("%s: map size %d is neither game config's (%s)" % (path, size, sorted(MAP_SIZE_GAMES)))
    setup = next((i for i, s in enumerate(steps) if s >= 0 and i > 0), len(actions))
    return RecordedGame(path, seed, MAP_SIZE_GAMES[size], actions, setup)


def engine_actions(actions: Dict[str, Any]) -> Dict[str, Any]:
    """One step's recorded actions as the runner hands them to the engine (lists as numpy arrays)."""
    out: Dict[str, Any] = {}
    for player, action in actions.items():
        if isinstance(action, dict):
            out[player] = {k: np.array(v) if isinstance(v, list) else v for k, v in action.items()}
        else:
            out[player] = action
    return out


def replay_to(engine: Any, game: RecordedGame, real_step: int) -> Dict[str, Any]:
    """Reset `engine` (a LuxAI_S2 of the game's config) to the recorded seed and step it through the recorded
    actions up to real step `real_step`; returns the engine's observations there."""
    if not 0 <= real_step < game.real_steps:
        raise ValueError("%s: real step %d is not in [0, %d)" % (game.path, real_step, game.real_steps))
    obs, _ = engine.reset(seed=game.seed)
    for i in range(game.setup_steps + real_step):
        obs, _, terminations, _, _ = engine.step(engine_actions(game.actions[i]))
        if all(terminations.values()):
            raise ValueError("%s: the replayed game ended at engine step %d, before real step %d (a replay of "
                             "another engine version or game config?)" % (game.path, i, real_step))
    return obs


_CACHE: collections.OrderedDict[str, RecordedGame] = collections.OrderedDict()


def cached_replay(path: str) -> RecordedGame:
    """read_replay, kept for the next games of this process (per process: never pickled with a runner)."""
    if path in _CACHE:
        _CACHE.move_to_end(path)
        return _CACHE[path]
    game = _CACHE[path] = read_replay(path)
    while len(_CACHE) > CACHED_GAMES:
        _CACHE.popitem(last=False)
    return game


class MidgameStarts:
    """Where a training game starts: with probability `share`, at a uniformly drawn real step of a uniformly
    drawn recorded game of `folder` (its *.json files); else at step 0."""

    def __init__(self, folder: str, share: float) -> None:
        if not os.path.isdir(folder):
            raise FileNotFoundError("midgame_dir: no folder %s" % folder)
        self.paths = sorted(glob.glob(os.path.join(folder, "*.json")))
        if not self.paths:
            raise FileNotFoundError("midgame_dir: no replay JSON (*.json) in %s (record some with "
                                    "train/evaluate.py --replays)" % folder)
        self.share = share

    def draw(self, rng: np.random.Generator, max_episode_length: int) -> Optional[Tuple[RecordedGame, int]]:
        """(recorded game, real step) to start from, or None for a game from step 0."""
        if rng.random() >= self.share:
            return None
        game = cached_replay(self.paths[int(rng.integers(len(self.paths)))])
        last = min(game.real_steps, max_episode_length)
        if last < 1:
            return None
        return game, int(rng.integers(last))


def midgame_starts(cfg: Any) -> Optional[MidgameStarts]:
    """The config's mid-game starts, or None when it has none (midgame_share 0)."""
    share = float(getattr(cfg, "midgame_share", 0.0))
    return MidgameStarts(cfg.midgame_dir, share) if share > 0 else None
