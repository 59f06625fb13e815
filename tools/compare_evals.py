"""Compare evaluations of several policies on the same games: one row per evaluation and config.

    python tools/compare_evals.py runs/eval_a/results.json runs/eval_b/results.json --seeds 0-9 \
        --csv docs/results/stages.csv --plot docs/results/stages.png

Reads the JSON that train/evaluate.py writes and sums its games from the agent's side: wins, factories alive
as a share of those placed (summed over games, so a game with many factories weighs more), lichen, ice and ore
delivered, with the opponent's figures beside them. `--seeds` keeps only those seeds, so evaluations run on
different seed lists can be compared on the games they share.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from typing import Dict, List, Optional, Sequence

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from train.evaluate import parse_seeds  # noqa: E402

FIELDS = ("evaluation", "config", "games", "wins", "win_rate", "factories_alive_share",
          "opponent_factories_alive_share", "lichen", "opponent_lichen", "ice_delivered", "ore_delivered",
          "opponent_ore_delivered", "invalid_actions", "errors")


def summarise(results: Dict, name: str, seeds: Optional[Sequence[int]] = None) -> List[Dict]:
    """One row per config of one evaluation's games (only `seeds`, when given), from the agent's side."""
    sums: Dict[str, Dict[str, float]] = {}
    for game in results["games"]:
        result = game["result"]
        if seeds is not None and result["seed"] not in seeds:
            continue
        seat = game["seat"]
        other = next(p for p in result["players"] if p != seat)
        ours, theirs = result["players"][seat], result["players"][other]
        s = sums.setdefault(result["config"], dict.fromkeys(
            ("games", "wins", "alive", "placed", "opp_alive", "opp_placed", "lichen", "opp_lichen", "ice", "ore",
             "opp_ore", "invalid", "errors"), 0.0))
        s["games"] += 1
        s["wins"] += result["winner"] == seat
        s["alive"] += ours["factories_alive"]
        s["placed"] += ours["factories_placed"]
        s["opp_alive"] += theirs["factories_alive"]
        s["opp_placed"] += theirs["factories_placed"]
        s["lichen"] += ours["lichen"]
        s["opp_lichen"] += theirs["lichen"]
        s["ice"] += ours["ice_delivered"]
        s["ore"] += ours["ore_delivered"]
        s["opp_ore"] += theirs["ore_delivered"]
        s["invalid"] += ours["invalid_actions"]
        s["errors"] += ours["errors"]
    rows = []
    for config, s in sorted(sums.items()):
        n = s["games"]
        rows.append({
            "evaluation": name, "config": config, "games": int(n), "wins": int(s["wins"]),
            "win_rate": round(s["wins"] / n, 3),
            "factories_alive_share": round(s["alive"] / max(s["placed"], 1), 3),
            "opponent_factories_alive_share": round(s["opp_alive"] / max(s["opp_placed"], 1), 3),
            "lichen": round(s["lichen"] / n), "opponent_lichen": round(s["opp_lichen"] / n),
            "ice_delivered": round(s["ice"] / n), "ore_delivered": round(s["ore"] / n),
            "opponent_ore_delivered": round(s["opp_ore"] / n),
            "invalid_actions": int(s["invalid"]), "errors": int(s["errors"]),
        })
    return rows


def markdown(rows: Sequence[Dict]) -> str:
    head = ("| evaluation | config | games | wins | factories alive (opp.) | lichen (opp.) | ice / ore delivered "
            "(opp. ore) | invalid / errors |")
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        lines.append("| %s | %s | %d | %d (%.2f) | %.3f (%.3f) | %d (%d) | %d / %d (%d) | %d / %d |" % (
            r["evaluation"], r["config"], r["games"], r["wins"], r["win_rate"], r["factories_alive_share"],
            r["opponent_factories_alive_share"], r["lichen"], r["opponent_lichen"], r["ice_delivered"],
            r["ore_delivered"], r["opponent_ore_delivered"], r["invalid_actions"], r["errors"]))
    return "\n".join(lines)


def plot(rows: Sequence[Dict], out_path: str) -> str:
    """Win rate, factories alive and lichen relative to the opponent's, per evaluation (in the order given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["evaluation"] for r in rows))
    configs = sorted({r["config"] for r in rows})
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    panels = (("win rate", lambda r: r["win_rate"]),
              ("factories alive (share of placed)", lambda r: r["factories_alive_share"]),
              ("lichen / opponent's lichen", lambda r: r["lichen"] / max(r["opponent_lichen"], 1)))
    for ax, (title, value) in zip(axes, panels):
        for config in configs:
            by_name = {r["evaluation"]: r for r in rows if r["config"] == config}
            xs = [i for i, n in enumerate(names) if n in by_name]
            ax.plot(xs, [value(by_name[names[i]]) for i in xs], marker="o", label=config)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", help="results.json files of train/evaluate.py; name=path to label one")
    parser.add_argument("--seeds", default=None, help="only these seeds, e.g. 0-9")
    parser.add_argument("--csv", default=None, help="write the rows to this CSV file")
    parser.add_argument("--plot", default=None, help="write a PNG of the rows to this file")
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds) if args.seeds else None
    except ValueError:
        parser.error("--seeds must look like 0-9 or 0-4,10-14, got %r" % args.seeds)
    rows: List[Dict] = []
    for item in args.results:
        name, _, path = item.rpartition("=")
        path = path or item
        name = name or os.path.basename(os.path.dirname(os.path.abspath(path)))
        try:
            with open(path) as handle:
                results = json.load(handle)
        except (OSError, ValueError) as exc:
            parser.error("cannot read %s: %s" % (path, exc))
        if "games" not in results:
            parser.error("%s is not an evaluation of train/evaluate.py (no 'games')" % path)
        rows += summarise(results, name, seeds)
    print(markdown(rows))
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
    if args.plot:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
