"""Where the heuristic controller walks its robots, against the target tiles the policy's features show.

    python tools/target_agreement.py --seeds 0-1 --configs kaggle neurips

The unit features point each robot at its home factory and at one claimed tile of ice, ore and rubble
(magma_policy.features.target_tiles), so that a walk of the controller is one of those steps to imitate. This
plays heuristic self-play games in-process (the training env) and, every `--every`-th step, compares each moving
robot's goal (the controller's `intentions`) with the feature's tile of the goal's kind (a factory tile: home;
else the resource under it, or rubble). It prints per robot type and goal kind how many walks went to the
feature's tile, and over all moves how many the controller wanted along one of the features' first steps and
how many collision resolution changed (a side-step or a wait): the moves no target feature explains.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lux import actions as A  # noqa: E402
from lux.state import PLAYERS, Board, GameState, Unit  # noqa: E402
from train.evaluate import parse_seeds  # noqa: E402

Tile = Tuple[int, int]
KINDS = ("home", "ice", "ore", "rubble")


@dataclass
class Agreement:
    walks: Counter = field(default_factory=Counter)  # (robot type, goal kind) -> moves toward such a goal
    same_tile: Counter = field(default_factory=Counter)  # ... of them, toward the feature's tile of that kind
    moves: int = 0  # moves the controller wanted
    along_a_feature: int = 0  # ... along the first step toward one of the robot's feature tiles
    changed_by_collisions: int = 0  # ... turned into a side-step or a wait

    def add(self, other: Agreement) -> None:
        self.walks.update(other.walks)
        self.same_tile.update(other.same_tile)
        self.moves += other.moves
        self.along_a_feature += other.along_a_feature
        self.changed_by_collisions += other.changed_by_collisions


def goal_kind(board: Board, tile: Tile) -> str:
    if board.factory_occupancy[tile] >= 0:
        return "home"
    if board.ice[tile] > 0:
        return "ice"
    return "ore" if board.ore[tile] > 0 else "rubble"


def tally(board: Board, units: Sequence[Unit], targets: Dict[str, List[Optional[Tile]]], goals: Dict[str, Tile],
          wanted: Dict[str, int], plans: Dict[str, List[int]], out: Agreement) -> None:
    """Add one player's step: `units` in the order of `targets` (features.target_tiles), the controller's
    `goals` and `wanted` directions (its intentions) and its final `plans`."""
    for i, unit in enumerate(units):
        direction = wanted.get(unit.unit_id)
        if direction is None:
            continue
        out.moves += 1
        pos = unit.pos
        firsts = {A.direction_to(pos, (t[0], t[1])) for t in (targets[k][i] for k in KINDS)
                  if t is not None and (t[0], t[1]) != (int(pos[0]), int(pos[1]))}
        out.along_a_feature += direction in firsts
        final = plans.get(unit.unit_id)
        out.changed_by_collisions += final is None or final[0] != A.MOVE or int(final[1]) != direction
        goal = goals.get(unit.unit_id)
        if goal is not None:
            key = ("heavy" if unit.is_heavy else "light", goal_kind(board, goal))
            out.walks[key] += 1
            out.same_tile[key] += targets[key[1]][i] == goal


def play(seed: int, kaggle: bool, every: int, max_steps: int) -> Agreement:
    """One heuristic self-play game, both players tallied every `every` steps."""
    from magma_policy.features import target_tiles, unit_order
    from strategy.units import HeuristicUnitController
    from train.env import LuxGame

    game = LuxGame(seed, kaggle_ratio=1.0 if kaggle else 0.0, max_episode_length=max_steps, allow_watering=True,
                   fixed_seed=seed)
    state: GameState = game.reset()
    controller = HeuristicUnitController()
    out = Agreement()
    over = False
    while not over:
        actions = {}
        for player in PLAYERS:
            plans = controller.plan(state, player)
            if state.real_env_steps % every == 0 and plans:
                units = unit_order(state, player)
                goals, wanted = controller.intentions()
                targets = target_tiles(state, player, units, controller.homes.update(state, player))
                tally(state.board, units, targets, goals, wanted, plans, out)
            actions[player] = controller.act(state, player, plans) if plans else {}
        state, over = game.step(actions)
    return out


def report(total: Agreement) -> str:
    lines = ["| robot | goal | walks | to the feature's tile | share |", "|---|---|---|---|---|"]
    for key in sorted(total.walks):
        n, same = total.walks[key], total.same_tile[key]
        lines.append("| %s | %s | %d | %d | %.2f |" % (key[0], key[1], n, same, same / n))
    moves = max(total.moves, 1)
    lines.append("")
    lines.append("moves wanted: %d; along the first step toward a feature tile: %d (%.2f); changed by collision "
                 "resolution: %d (%.2f)" % (total.moves, total.along_a_feature, total.along_a_feature / moves,
                                           total.changed_by_collisions, total.changed_by_collisions / moves))
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-1", help="game seeds: 0-3 or 0,2,5")
    parser.add_argument("--configs", nargs="+", choices=("kaggle", "neurips"), default=["kaggle", "neurips"])
    parser.add_argument("--every", type=int, default=4, help="tally every n-th step")
    parser.add_argument("--max-steps", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.every < 1 or args.max_steps < 1:
        parser.error("--every and --max-steps must be at least 1")
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as exc:
        parser.error(str(exc))
    total = Agreement()
    for config in args.configs:
        for seed in seeds:
            total.add(play(seed, config == "kaggle", args.every, args.max_steps))
    print("%d games (seeds %s, %s), every %d steps" % (len(seeds) * len(args.configs), args.seeds,
                                                       " and ".join(args.configs), args.every))
    print(report(total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
