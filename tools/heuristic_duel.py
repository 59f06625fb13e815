"""Two settings of the heuristic unit controller against each other: is a rule worth keeping?

    python tools/heuristic_duel.py --rubble-metal 100 --against-rubble-metal none --seeds 0-10

Plays in-process games (the training env: our bidding, placement and factory heuristics for both seats; only the
robots' controller differs) on both configs, each seed in both seats, and prints per game and per config the
wins (more lichen at the end), lichen, lichen tiles, rubble dug and factories lost of side A against side B.
Heuristic-only games take a few seconds each, so a rule can be judged on dozens of games in minutes.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from typing import Dict, List, Optional, Sequence, Tuple

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lux.state import PLAYERS, opponent  # noqa: E402
from strategy.units import HeuristicUnitController  # noqa: E402
from tools.lichen_report import play_report  # noqa: E402
from train.evaluate import parse_seeds  # noqa: E402

Game = Tuple[int, str, str, Optional[int], Optional[int], int]  # seed, config, A's seat, A's and B's setting, steps


def rubble_metal_arg(text: str) -> Optional[int]:
    """A home-metal threshold, or 'none' for the controller that never leaves ore for rubble."""
    if text.lower() == "none":
        return None
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("a rubble metal threshold must be >= 0 or 'none', got %s" % text)
    return value


def play(game: Game) -> Dict[str, object]:
    """One game; side A's figures and side B's."""
    seed, config, seat, metal_a, metal_b, steps = game
    a, b = HeuristicUnitController(rubble_metal=metal_a), HeuristicUnitController(rubble_metal=metal_b)
    other = opponent(seat)
    reports = play_report({seat: a.act, other: b.act}, {seat: "A", other: "B"}, seed, config == "kaggle",
                          steps)
    ra, rb = reports[seat], reports[other]
    return dict(seed=seed, config=config, seat=seat, lichen=(ra.lichen, rb.lichen),
                tiles=(ra.lichen_tiles, rb.lichen_tiles), rubble=(ra.rubble_dug, rb.rubble_dug),
                lost=(len(ra.factories_lost), len(rb.factories_lost)))


def summary(rows: List[Dict[str, object]], config: str) -> str:
    games = [r for r in rows if r["config"] == config]
    if not games:
        return ""
    n = len(games)
    wins = sum(r["lichen"][0] > r["lichen"][1] for r in games)
    draws = sum(r["lichen"][0] == r["lichen"][1] for r in games)

    def mean(key: str, side: int) -> float:
        return sum(r[key][side] for r in games) / n

    return ("| %s | %d | %d/%d/%d | %.0f (%.0f) | %.0f (%.0f) | %.0f (%.0f) | %d (%d) |" % (
        config, n, wins, draws, n - wins - draws, mean("lichen", 0), mean("lichen", 1), mean("tiles", 0),
        mean("tiles", 1), mean("rubble", 0), mean("rubble", 1), sum(r["lost"][0] for r in games),
        sum(r["lost"][1] for r in games)))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rubble-metal", type=rubble_metal_arg, default=100,
                        help="side A: home metal from which lights clear rubble ('none': never)")
    parser.add_argument("--against-rubble-metal", type=rubble_metal_arg, default=None,
                        help="side B's setting (default 'none': lights mine ore throughout)")
    parser.add_argument("--seeds", default="0-9", help="game seeds, e.g. 0-10 or 0,3 (each in both seats)")
    parser.add_argument("--configs", nargs="+", default=["kaggle", "neurips"], choices=("kaggle", "neurips"))
    parser.add_argument("--steps", type=int, default=1000, help="real steps a game lasts")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as exc:
        parser.error(str(exc))
    games = [(s, c, p, args.rubble_metal, args.against_rubble_metal, args.steps)
             for c in args.configs for s in seeds for p in PLAYERS]
    with multiprocessing.get_context("spawn").Pool(max(1, args.workers)) as pool:
        rows = pool.map(play, games)
    print("| seed | config | A's seat | lichen A (B) | lichen tiles A (B) | rubble dug A (B) | factories lost A (B) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %s | %s | %d (%d) | %d (%d) | %d (%d) | %d (%d) |" % (
            r["seed"], r["config"], r["seat"], *r["lichen"], *r["tiles"], *r["rubble"], *r["lost"]))
    print()
    print("A: rubble_metal=%s, B: rubble_metal=%s" % (args.rubble_metal, args.against_rubble_metal))
    print()
    print("| config | games | A's W/D/L | lichen A (B) | lichen tiles A (B) | rubble dug A (B) "
          "| factories lost A (B) |")
    print("|---|---|---|---|---|---|---|")
    for config in args.configs:
        print(summary(rows, config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
