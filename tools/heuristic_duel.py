"""Two settings of the heuristic unit controller against each other: is a rule worth keeping?

    python tools/heuristic_duel.py --rubble-metal 100 --against-rubble-metal none --seeds 0-10

Plays in-process games (the training env: our bidding, placement and factory heuristics for both seats; only the
robots' controller differs) on both configs, each seed in both seats, and prints per game and per config the
wins (by the engine's rule: more lichen at the end, a side left without factories loses), lichen, lichen tiles,
rubble dug and factories lost of side A against side B.
Heuristic-only games take a few seconds each, so a rule can be judged on dozens of games in minutes.

    python tools/heuristic_duel.py --rubble-metal 100 --against-rubble-metal 100 --a-through-codec --seeds 0-19

With --a-through-codec side A's choices are played as a perfect imitation of the controller would play them:
each robot's plan becomes the policy's discrete action (train.imitation.heuristic_labels, the imitation labels)
and the policy's codec (magma_policy.actions.decode) turns it into action queues. Against the same controller
this measures what the codec alone costs, the ceiling of a policy that imitates the controller.

    python tools/heuristic_duel.py --a-policy weights/policy.onnx --against-rubble-metal 100 --seeds 0-19

With --a-policy side A's robots are driven by an exported policy (at its play temperature, its own memory of
homes), as the agent drives them: the policy against the controller in a few minutes instead of the runner's
subprocess games (train/evaluate.py).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lux.rules import decide_winner  # noqa: E402
from lux.state import PLAYERS, GameState, opponent  # noqa: E402
from strategy.units import DEFEND_ALL_FROM_STEP, HeuristicUnitController  # noqa: E402
from tools.lichen_report import play_report  # noqa: E402
from train.evaluate import parse_seeds  # noqa: E402

# seed, config, A's seat, A's and B's setting, steps, A through the codec, A's policy (an ONNX path) or None,
# the opponent-aware rules A and B play without, and those they play on top of the shipped controller's
Game = Tuple[int, str, str, Optional[int], Optional[int], int, bool, Optional[str], Tuple[str, ...], Tuple[str, ...],
             Tuple[str, ...], Tuple[str, ...]]
# HeuristicUnitController's opponent-aware rules. A duel's sides play the shipped controller's (all but defence)
# less those named by --a-without / --b-without, plus those named by --a-with / --b-with.
RULES = ("safety", "defence", "raids", "guards", "late_defence", "ore_heavies_first")


def rules_arg(text: str) -> Tuple[str, ...]:
    """A comma-separated list of RULES ('' for none)."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise argparse.ArgumentTypeError("unknown rule(s) %s; known: %s" % (", ".join(unknown), ", ".join(RULES)))
    return names


def controller(rubble_metal: Optional[int], without: Tuple[str, ...], with_: Tuple[str, ...] = ()
               ) -> HeuristicUnitController:
    """The shipped controller's rules, less `without`, plus `with_` (late_defence: every robot but the ice heavies
    defends from strategy.units.DEFEND_ALL_FROM_STEP; defence: every robot, all game)."""
    shipped = HeuristicUnitController()
    on = {"safety": shipped.safety, "defence": shipped.defence, "raids": shipped.raids, "guards": shipped.guards,
          "late_defence": shipped.defend_all_from is not None, "ore_heavies_first": shipped.ore_heavies_first}
    on.update({name: False for name in without})
    on.update({name: True for name in with_})
    late = on.pop("late_defence")
    return HeuristicUnitController(rubble_metal=rubble_metal, defend_all_from=DEFEND_ALL_FROM_STEP if late else None,
                                   **on)


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
    seed, config, seat, metal_a, metal_b, steps, through_codec, policy, without_a, without_b, with_a, with_b = game
    other = opponent(seat)
    b = controller(metal_b, without_b, with_b)
    if policy:
        side_a = policy_robots(policy)
    else:
        a = controller(metal_a, without_a, with_a)
        side_a = through_policy_codec(a) if through_codec else a.act
    reports = play_report({seat: side_a, other: b.act},
                          {seat: "A", other: "B"}, seed, config == "kaggle", steps)
    ra, rb = reports[seat], reports[other]
    winner = decide_winner({"A": ra.score, "B": rb.score})
    return dict(seed=seed, config=config, seat=seat, winner=winner or "draw", lichen=(ra.lichen, rb.lichen),
                tiles=(ra.lichen_tiles, rb.lichen_tiles), rubble=(ra.rubble_dug, rb.rubble_dug),
                lost=(len(ra.factories_lost), len(rb.factories_lost)))


def through_policy_codec(controller: HeuristicUnitController) -> Callable[[GameState, str], Dict[str, list]]:
    """The controller's plans as the policy's actions, played through the policy's codec."""
    from magma_policy.actions import decode
    from magma_policy.features import encode
    from train.imitation import heuristic_labels

    def act(state: GameState, player: str) -> Dict[str, list]:
        plans = controller.plan(state, player)
        f = encode(state, player, controller.homes.update(state, player))
        if not f.unit_ids:
            return {}
        labels = heuristic_labels(plans, f.unit_ids, f.action_mask, controller.intentions(), f.targets)
        return decode(state, player, f.unit_ids, labels, f.targets)

    return act


def policy_robots(path: str) -> Callable[[GameState, str], Dict[str, list]]:
    """Robots driven by the exported policy at `path`, at its play temperature, as the agent plays it."""
    from magma_policy.runtime import load_policy

    runtime = load_policy(path)

    def act(state: GameState, player: str) -> Dict[str, list]:
        return runtime.act(state, player, runtime.play_temperature)

    return act


def summary(rows: List[Dict[str, object]], config: str) -> str:
    games = [r for r in rows if r["config"] == config]
    if not games:
        return ""
    n = len(games)
    wins = sum(r["winner"] == "A" for r in games)
    draws = sum(r["winner"] == "draw" for r in games)

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
    parser.add_argument("--a-through-codec", action="store_true",
                        help="side A plays its plans through the policy's action codec (a perfect imitation)")
    parser.add_argument("--a-policy", metavar="ONNX",
                        help="side A's robots are driven by this exported policy (--rubble-metal is then unused)")
    parser.add_argument("--a-without", type=rules_arg, default=(), metavar="RULES",
                        help="side A's controller plays without these opponent-aware rules (comma-separated: %s)"
                        % ", ".join(RULES))
    parser.add_argument("--b-without", type=rules_arg, default=(), metavar="RULES",
                        help="the same for side B")
    parser.add_argument("--a-with", type=rules_arg, default=(), metavar="RULES",
                        help="side A's controller also plays these rules (those the shipped one leaves off: defence)")
    parser.add_argument("--b-with", type=rules_arg, default=(), metavar="RULES", help="the same for side B")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as exc:
        parser.error(str(exc))
    if args.a_policy:
        if args.a_through_codec:
            parser.error("--a-policy and --a-through-codec both drive side A: give one")
        try:
            policy_robots(args.a_policy)  # a missing or stale policy fails here, not in every worker
        except (OSError, ValueError) as exc:
            parser.error(str(exc))
    games = [(s, c, p, args.rubble_metal, args.against_rubble_metal, args.steps, args.a_through_codec, args.a_policy,
              args.a_without, args.b_without, args.a_with, args.b_with)
             for c in args.configs for s in seeds for p in PLAYERS]
    with multiprocessing.get_context("spawn").Pool(max(1, args.workers)) as pool:
        rows = pool.map(play, games)
    print("| seed | config | A's seat | winner | lichen A (B) | lichen tiles A (B) | rubble dug A (B) "
          "| factories lost A (B) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %s | %s | %s | %d (%d) | %d (%d) | %d (%d) | %d (%d) |" % (
            r["seed"], r["config"], r["seat"], r["winner"], *r["lichen"], *r["tiles"], *r["rubble"], *r["lost"]))
    print()
    side_a = ("policy %s" % args.a_policy if args.a_policy else "rubble_metal=%s%s" % (
        args.rubble_metal, ", through the policy's codec" if args.a_through_codec else ""))
    def rules(without: Tuple[str, ...], with_: Tuple[str, ...]) -> str:
        return ("" if not without else ", without " + "+".join(without)) + \
            ("" if not with_ else ", with " + "+".join(with_))

    print("A: %s%s, B: rubble_metal=%s%s" % (side_a, rules(args.a_without, args.a_with), args.against_rubble_metal,
                                              rules(args.b_without, args.b_with)))
    print()
    print("| config | games | A's W/D/L | lichen A (B) | lichen tiles A (B) | rubble dug A (B) "
          "| factories lost A (B) |")
    print("|---|---|---|---|---|---|---|")
    for config in args.configs:
        print(summary(rows, config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
