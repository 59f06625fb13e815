"""The opponent pool (config `opponent=pool`): who plays the other seat of each training game.

The pool holds the heuristic controller (played inside the env worker), the start policy (the weights the run
began from) and the newest `opponent_pool` snapshots of the learner (one every `pool_snapshot_every` updates).
Each game draws its opponent once, when it starts, with weight

    max(beats_j, pool_floor),   beats_j = exponential average (rate `pool_rate`) over the games against j of
                                          1 for a learner loss, 0.5 for a draw, 0 for a learner win

so the learner mostly meets the opponents it still loses to, and every opponent keeps a share of the games (a
policy that stops meeting an opponent can forget how to beat it). A newcomer starts at 0.5, as unknown.

A snapshot that ages out of the pool is no longer drawn, but it keeps playing the games it started: a game's
result is credited to the opponent that played all of it. The pool's state (entries, weights of the snapshots,
averages, which env plays whom) is part of every checkpoint.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import torch

HEURISTIC = "heuristic"  # played by strategy.units in the env worker: no weights here
START = "start"  # the policy the run started from


@dataclass
class Opponent:
    name: str
    weights: Optional[Dict[str, torch.Tensor]]  # None: the heuristic controller
    beats: float = 0.5  # exponential average of "beat the learner" (1 loss, 0.5 draw, 0 win of the learner)
    games: int = 0
    active: bool = True  # drawn for new games (False: aged out, finishing the games it started)


class OpponentPool:
    def __init__(self, start_weights: Dict[str, torch.Tensor], size: int, rate: float, floor: float) -> None:
        self.size, self.rate, self.floor = size, rate, floor
        self.entries: List[Opponent] = [Opponent(HEURISTIC, None), Opponent(START, _cpu_copy(start_weights))]
        self.env_opponent: List[str] = []  # per env: the opponent of its current game

    # -- membership ----------------------------------------------------------------------------------------------

    def get(self, name: str) -> Opponent:
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def add_snapshot(self, name: str, weights: Dict[str, torch.Tensor]) -> None:
        """A snapshot of the learner joins; the oldest active snapshot beyond `size` stops being drawn."""
        self.entries.append(Opponent(name, _cpu_copy(weights)))
        snapshots = [e for e in self.entries if e.active and e.name not in (HEURISTIC, START)]
        for old in snapshots[:-self.size]:
            old.active = False
        self._prune()

    def _prune(self) -> None:
        """Drop aged-out snapshots no game is playing any more."""
        playing = set(self.env_opponent)
        self.entries = [e for e in self.entries if e.active or e.name in playing]

    # -- drawing and results ---------------------------------------------------------------------------------------

    def draw_weights(self) -> torch.Tensor:
        return torch.tensor([max(e.beats, self.floor) if e.active else 0.0 for e in self.entries],
                            dtype=torch.float64)

    def draw(self, generator: torch.Generator) -> str:
        index = int(torch.multinomial(self.draw_weights(), 1, generator=generator))
        return self.entries[index].name

    def start_games(self, num_envs: int, generator: torch.Generator) -> None:
        self.env_opponent = [self.draw(generator) for _ in range(num_envs)]

    def game_over(self, env: int, learner_result: float, generator: torch.Generator) -> str:
        """Credit env's finished game (learner_result: 1 win, 0.5 draw, 0 loss) to its opponent; draw the next."""
        entry = self.get(self.env_opponent[env])
        entry.beats += self.rate * ((1.0 - learner_result) - entry.beats)
        entry.games += 1
        self.env_opponent[env] = self.draw(generator)
        self._prune()
        return self.env_opponent[env]

    def figures(self) -> Dict[str, float]:
        """Fixed names for the logs: heuristic, start policy, and the snapshots' mean."""
        snaps = [e for e in self.entries if e.active and e.name not in (HEURISTIC, START)]
        out = {"pool/heuristic_beats": self.get(HEURISTIC).beats, "pool/start_beats": self.get(START).beats,
               "pool/snapshots": float(len(snaps)),
               "pool/games": float(sum(e.games for e in self.entries))}
        if snaps:
            out["pool/snapshot_beats"] = sum(e.beats for e in snaps) / len(snaps)
        return out

    # -- checkpoints -------------------------------------------------------------------------------------------------

    def state_dict(self) -> Dict[str, Any]:
        return {"entries": copy.deepcopy(self.entries), "env_opponent": list(self.env_opponent)}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.entries = copy.deepcopy(state["entries"])
        self.env_opponent = list(state["env_opponent"])


def _cpu_copy(weights: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in weights.items()}
