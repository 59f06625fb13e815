"""How a game went, step by step, from a replay JSON written by the runner (`play_game(..., replay_paths=[...])`,
`train/evaluate.py --replays`).

    python tools/replay_report.py runs/eval/<time>/replays/bot40_kaggle_seed1_player_1.json --player player_1
    python tools/replay_report.py REPLAY.json --player player_0 --every 100 --csv > report.csv

Every `--every` steps of the game proper, and at its last step, one row with both sides ("own" is `--player`,
"opp" the other seat): the lichen and the tiles it covers, the lights and heavies alive, each factory's water /
metal / power (in factory id order), the enemy robots standing on that side's lichen (intruders), the robots lost
since the previous row (lights and heavies apart) and since the start, and the factories alive.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lux.config import GameConfig  # noqa: E402
from lux.observation import ObservationTracker  # noqa: E402
from lux.state import PLAYERS, GameState, opponent  # noqa: E402

SIDES = ("own", "opp")
ROBOT_TYPES = ("LIGHT", "HEAVY")
Row = Dict[str, Any]


@dataclass
class LossTracker:
    """Robots of one player that vanished between consecutive observations, by type: since the last row and
    since the start."""

    alive: Dict[str, str] = field(default_factory=dict)  # unit id -> unit type, at the last observation
    interval: Dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROBOT_TYPES, 0))
    total: Dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROBOT_TYPES, 0))

    def update(self, units: Dict[str, str]) -> None:
        for uid, unit_type in self.alive.items():
            if uid not in units:
                self.interval[unit_type] += 1
                self.total[unit_type] += 1
        self.alive = dict(units)

    def take_interval(self) -> Dict[str, int]:
        """The losses since the last call (the interval closes)."""
        lost, self.interval = self.interval, dict.fromkeys(ROBOT_TYPES, 0)
        return lost


def _factory_order(fid: str) -> Tuple[int, str]:
    """factory_2 before factory_10."""
    digits = re.findall(r"\d+", fid)
    return (int(digits[-1]) if digits else -1, fid)


def side_columns(state: GameState, player: str) -> Row:
    """One side's lichen, robots, factories and intruders at this step (keys without the side's prefix)."""
    team = state.teams.get(player)
    tiles = state.board.lichen_tiles_of(team.factory_strains if team is not None else [])
    robots = list(state.units.get(player, {}).values())
    enemies = state.units.get(opponent(player), {}).values()
    factories = [state.factories[player][fid] for fid in sorted(state.factories.get(player, {}), key=_factory_order)]
    return {
        "lichen": int(state.board.lichen[tiles].sum()),
        "lichen_tiles": int(tiles.sum()),
        "lights": sum(1 for r in robots if not r.is_heavy),
        "heavies": sum(1 for r in robots if r.is_heavy),
        "factories": len(factories),
        "factory_ids": [f.unit_id for f in factories],
        "factory_water": [int(f.cargo.water) for f in factories],
        "factory_metal": [int(f.cargo.metal) for f in factories],
        "factory_power": [int(f.power) for f in factories],
        "intruders": sum(1 for r in enemies if tiles[int(r.pos[0]), int(r.pos[1])]),
    }


def _loss_columns(losses: LossTracker) -> Row:
    interval = losses.take_interval()
    return {
        "lights_lost": interval["LIGHT"], "heavies_lost": interval["HEAVY"],
        "lights_lost_total": losses.total["LIGHT"], "heavies_lost_total": losses.total["HEAVY"],
    }


def make_row(state: GameState, player: str, losses: Dict[str, LossTracker]) -> Row:
    """The report's row at this state: `step`, then every column of each side prefixed `own_` / `opp_`."""
    row: Row = {"step": state.real_env_steps}
    for side, seat in zip(SIDES, (player, opponent(player))):
        columns = dict(side_columns(state, seat), **_loss_columns(losses[seat]))
        row.update({f"{side}_{key}": value for key, value in columns.items()})
    return row


def load_replay(replay_path: str) -> Dict[str, Any]:
    """The replay dict; ValueError when it holds no observations."""
    with open(replay_path) as handle:
        replay = json.load(handle)
    if not isinstance(replay, dict) or not replay.get("observations"):
        raise ValueError(f"{replay_path}: not a replay JSON with observations")
    return replay


def summarise(replay_path: str, player: str, every: int = 50) -> List[Row]:
    """One row (make_row) every `every` steps of the game proper (step > 0) and one at the last observation."""
    if player not in PLAYERS:
        raise ValueError(f"unknown player {player!r}; choose from {', '.join(PLAYERS)}")
    if every < 1:
        raise ValueError(f"--every must be >= 1, got {every}")
    observations = load_replay(replay_path)["observations"]
    tracker = ObservationTracker()
    cfg: Optional[GameConfig] = None
    losses = {p: LossTracker() for p in PLAYERS}
    rows: List[Row] = []
    reported: Set[int] = set()
    for index, obs in enumerate(observations):
        full = tracker.update(obs)
        if cfg is None:
            cfg = GameConfig(map_size=len(full["board"]["rubble"]))
        state = GameState.from_obs(full, cfg)
        for p in PLAYERS:
            losses[p].update({uid: u.unit_type for uid, u in state.units.get(p, {}).items()})
        step = state.real_env_steps
        due = step > 0 and step % every == 0 or index == len(observations) - 1
        if due and step not in reported:
            reported.add(step)
            rows.append(make_row(state, player, losses))
    return rows


def _factories_text(row: Row, side: str) -> str:
    triples = zip(row[f"{side}_factory_water"], row[f"{side}_factory_metal"], row[f"{side}_factory_power"])
    return " ".join(f"{w}/{m}/{p}" for w, m, p in triples) or "-"


def _side_cells(row: Row, side: str) -> List[str]:
    col = {key[len(side) + 1:]: value for key, value in row.items() if key.startswith(side + "_")}
    return [f"{col['lichen']} ({col['lichen_tiles']})", f"{col['lights']} / {col['heavies']}",
            str(col["factories"]), _factories_text(row, side), str(col["intruders"]),
            f"{col['lights_lost']}/{col['heavies_lost']} ({col['lights_lost_total']}/{col['heavies_lost_total']})"]


def markdown_table(rows: Sequence[Row], player: str) -> str:
    """A heading line naming the seats, then one table row per report row."""
    header = ["step"]
    for side in SIDES:
        header += [f"{side} lichen (tiles)", f"{side} lights / heavies", f"{side} factories",
                   f"{side} factory water/metal/power", f"{side} intruders",
                   f"{side} lost L/H (total)"]
    lines = [f"own = {player}, opp = {opponent(player)}; intruders: enemy robots on that side's lichen", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [str(row["step"])]
        for side in SIDES:
            cells += _side_cells(row, side)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def csv_text(rows: Sequence[Row]) -> str:
    """Every row key as a column; per-factory lists joined by spaces."""
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: " ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
    return out.getvalue()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("replay", help="replay JSON written by the runner")
    parser.add_argument("--player", required=True, choices=PLAYERS, help="the side reported first ('own')")
    parser.add_argument("--every", type=int, default=50, help="steps between rows (default 50); the last step too")
    parser.add_argument("--csv", action="store_true", help="CSV instead of a markdown table")
    args = parser.parse_args(argv)
    try:
        rows = summarise(args.replay, args.player, args.every)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    sys.stdout.write(csv_text(rows) if args.csv else markdown_table(rows, args.player))
    return 0


if __name__ == "__main__":
    sys.exit(main())
