"""Where lichen comes from: one player's robots driven by a policy, the other's by the heuristic controller.

    python tools/lichen_report.py --weights weights/policy.onnx --seeds 0,3 --config neurips

Plays in-process games (the training env: our bidding, placement and factory heuristics for both seats) and
prints per player what separates the lichen of two teams that deliver the same ice: the lichen and the tiles it
covers at the end, the water left unspent in the factories, the rubble our robots dug away (lichen only spreads
onto tiles without rubble), the ice delivered to each factory, the factories lost, and how often a heavy stepped
back onto the tile it stood on two turns before (a heavy walking to and fro instead of digging).
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lux.rules import FAILED_SCORE  # noqa: E402
from lux.state import PLAYERS, GameState, opponent  # noqa: E402
from strategy.units import HeuristicUnitController  # noqa: E402
from train.env import LuxGame  # noqa: E402
from train.evaluate import parse_seeds  # noqa: E402
from train.rewards import lichen_of, rubble_dug  # noqa: E402

Controller = Callable[[GameState, str], Dict[str, Any]]


@dataclass
class PlayerReport:
    controller: str
    lichen: int = 0
    lichen_tiles: int = 0
    water_left: int = 0
    rubble_dug: int = 0
    ice_by_factory: Dict[str, int] = field(default_factory=dict)
    factories_lost: List[str] = field(default_factory=list)
    factories_alive: int = 0  # at the end
    heavy_turns: int = 0  # heavy robot-turns seen
    heavy_back_and_forth: int = 0  # of them, turns that ended on the tile of two turns before, after a move away
    # heavy id -> (its tile before the last step, its tile after it)
    trail: Dict[str, Tuple[Tuple[int, int], Tuple[int, int]]] = field(default_factory=dict, repr=False)

    @property
    def score(self) -> int:
        """The engine's final reward: the lichen, or FAILED_SCORE for a player without factories."""
        return self.lichen if self.factories_alive else FAILED_SCORE


def _track_step(prev: GameState, nxt: GameState, player: str, report: PlayerReport) -> None:
    """Add one step's rubble dug (robot stayed on a tile without ice or ore whose rubble fell), ice handed
    to a factory (cargo ice lost on or next to it), factories lost and heavies stepping back to the report."""
    factories = prev.factories.get(player, {})
    for fid in factories:
        if fid not in nxt.factories.get(player, {}):
            report.factories_lost.append(fid)
    trail = {}
    for uid, before in prev.units.get(player, {}).items():
        after = nxt.units.get(player, {}).get(uid)
        if after is None:
            continue
        if after.unit_type == "HEAVY":
            here, last = (int(after.pos[0]), int(after.pos[1])), (int(before.pos[0]), int(before.pos[1]))
            earlier = report.trail.get(uid, (None, None))[0]  # where it stood before the last step
            report.heavy_turns += 1
            report.heavy_back_and_forth += here == earlier and here != last
            trail[uid] = (last, here)
        report.rubble_dug += rubble_dug(prev, nxt, before, after)
        if after.cargo.ice < before.cargo.ice and factories:
            near = min(factories.values(), key=lambda f: f.distance_to(before.pos))
            if near.distance_to(before.pos) <= 1:
                report.ice_by_factory[near.unit_id] = (report.ice_by_factory.get(near.unit_id, 0)
                                                       + before.cargo.ice - after.cargo.ice)
    report.trail = trail


def play_report(controllers: Dict[str, Controller], names: Dict[str, str], seed: int, kaggle: bool,
                max_steps: int = 1000) -> Dict[str, PlayerReport]:
    """One game with the given robot controllers per seat; the report of each player at its end."""
    game = LuxGame(seed, kaggle_ratio=1.0 if kaggle else 0.0, max_episode_length=max_steps, allow_watering=True,
                   fixed_seed=seed)
    state = game.reset()
    reports = {p: PlayerReport(names[p]) for p in PLAYERS}
    over = False
    while not over:
        prev = state
        state, over = game.step({p: controllers[p](prev, p) for p in PLAYERS})
        for p in PLAYERS:
            _track_step(prev, state, p, reports[p])
    for p, report in reports.items():
        team = state.teams[p]
        tiles = state.board.lichen_tiles_of(team.factory_strains) & (state.board.lichen > 0)
        report.lichen = lichen_of(state, p)
        report.lichen_tiles = int(tiles.sum())
        report.water_left = int(sum(f.cargo.water for f in state.factories.get(p, {}).values()))
        report.factories_alive = len(state.factories.get(p, {}))
    return reports


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="weights/policy.onnx", help="the policy's ONNX file")
    parser.add_argument("--seeds", default="0", help="game seeds, e.g. 0-3 or 0,3")
    parser.add_argument("--config", choices=("kaggle", "neurips"), default="kaggle")
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="the policy's robots sample from softmax(logits / T); 0: the most likely action")
    parser.add_argument("--policy-seat", choices=PLAYERS, default="player_0")
    parser.add_argument("--steps", type=int, default=1000, help="real steps a game lasts")
    args = parser.parse_args(argv)
    from magma_policy.runtime import check_temperature, load_policy

    try:
        seeds = parse_seeds(args.seeds)
        check_temperature(args.temperature, "--temperature")
        policy = load_policy(args.weights)
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    heuristic = HeuristicUnitController()
    seat, other = args.policy_seat, opponent(args.policy_seat)
    controllers = {seat: lambda s, p: policy.act(s, p, temperature=args.temperature), other: heuristic.act}
    names = {seat: "policy", other: "heuristic"}
    print("| seed | player | robots | lichen | lichen tiles | water left | rubble dug | ice delivered "
          "(per factory) | factories lost | heavy turns back and forth |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for game_seed in seeds:
        for p, r in play_report(controllers, names, game_seed, args.config == "kaggle", args.steps).items():
            per_factory = ", ".join("%d" % v for _, v in sorted(r.ice_by_factory.items()))
            print("| %d | %s | %s | %d | %d | %d | %d | %d (%s) | %d | %d of %d (%.3f) |" % (
                game_seed, p, r.controller, r.lichen, r.lichen_tiles, r.water_left, r.rubble_dug,
                sum(r.ice_by_factory.values()), per_factory, len(r.factories_lost), r.heavy_back_and_forth,
                r.heavy_turns, r.heavy_back_and_forth / max(r.heavy_turns, 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
