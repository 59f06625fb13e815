"""The strategy: heuristics for bidding, factory placement and factory actions; robots from the trained policy.

Robots are driven by the trained policy (`weights/policy.onnx`, run by magma_policy.runtime without torch)
when it loads, else by the heuristic unit controller. The agent measures its own turn time and drops to the
heuristic controller for the rest of the game if the policy gets too slow for Kaggle's budget (3 s a turn plus
a 60 s overage pool).
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from typing import Any, Dict, Optional

import numpy as np

from lux.config import GameConfig
from lux.state import GameState
from strategy.bidding import FACTION, bid
from strategy.factories import factory_actions
from strategy.placement import my_turn_to_place, place_factory
from strategy.units import HeuristicUnitController

DEFAULT_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights", "policy.onnx")
# Overrides the unit controller: "policy", "heuristic" or "auto" (policy when weights load).
UNIT_CONTROLLER_ENV = "LUX_UNIT_CONTROLLER"
# The unit controller when neither the caller nor LUX_UNIT_CONTROLLER names one. The heuristic controller: against
# the 15th-place Kaggle bot, in games paired by seed and seat (docs/results/ladder.md), it kept 17,499 and 17,509
# lichen where the shipped policy kept 10,401 and 11,478, and over the seven pairs played 18% of the lichen on the
# board against the policy's 12%; in the five games both lost outright the policy kept a little more (646-1,250
# against 32-791). The policy plays the opponent-aware safety rule through its codec but was trained before any
# of these rules existed.
DEFAULT_UNIT_CONTROLLER = "heuristic"
# Overrides the weights file (evaluating other weights with the same agent).
WEIGHTS_ENV = "LUX_POLICY_WEIGHTS"
# Robots sample their actions from softmax(logits / T): 0 takes the most likely action. Unset: the temperature
# the policy was trained to be played at (its metadata's play_temperature; 0 when it has none).
TEMPERATURE_ENV = "LUX_POLICY_TEMPERATURE"
SLOW_TURN_S = 1.5  # a turn slower than this switches robots to the heuristic controller
LOW_OVERAGE_S = 10.0  # so does an overage pool below this


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Agent:
    def __init__(self, player: str, env_cfg: Dict[str, Any], weights_path: Optional[str] = None,
                 unit_controller: Optional[str] = None, temperature: Optional[float] = None) -> None:
        self.player = player
        # None: the policy's own play temperature.
        self.temperature: Optional[float] = self._temperature() if temperature is None else temperature
        self.cfg = GameConfig.from_dict(env_cfg) if env_cfg else GameConfig()
        self.heuristic = HeuristicUnitController()
        self.policy = None
        controller = os.environ.get(UNIT_CONTROLLER_ENV) or unit_controller or DEFAULT_UNIT_CONTROLLER
        if controller not in ("auto", "policy", "heuristic"):
            log("unknown unit controller %r; using %s" % (controller, DEFAULT_UNIT_CONTROLLER))
            controller = DEFAULT_UNIT_CONTROLLER
        if controller != "heuristic":
            path = weights_path or os.environ.get(WEIGHTS_ENV) or DEFAULT_WEIGHTS
            self.policy = self._load_policy(path, required=controller == "policy")

    @staticmethod
    def _temperature() -> Optional[float]:
        """LUX_POLICY_TEMPERATURE; None when unset or not a number >= 0 (said on stderr)."""
        text = os.environ.get(TEMPERATURE_ENV, "").strip()
        if not text:
            return None
        from magma_policy.runtime import check_temperature

        try:
            return check_temperature(float(text), TEMPERATURE_ENV)
        except ValueError:
            log("%s=%r is not a number >= 0; the policy's own temperature is used" % (TEMPERATURE_ENV, text))
            return None

    @staticmethod
    def _load_policy(path: str, required: bool) -> Any:
        if not os.path.exists(path):
            log("no policy weights at %s: robots use the heuristic controller" % path)
            return None
        try:
            from magma_policy.runtime import load_policy

            policy = load_policy(path)
            policy.seed(0)  # sampled play is reproducible: the same game gives the same actions
            log("policy %s loaded (backend %s)" % (path, policy.backend))
            return policy
        except Exception as exc:  # any failure to load must leave a playing agent
            log("policy at %s failed to load (%s: %s): robots use the heuristic controller"
                % (path, type(exc).__name__, exc))
            if required:
                traceback.print_exc(file=sys.stderr)
            return None

    @property
    def play_temperature(self) -> float:
        """The temperature the robots sample at: the override, else the policy's own."""
        if self.temperature is not None:
            return self.temperature
        return float(getattr(self.policy, "play_temperature", 0.0))

    @property
    def unit_controller(self) -> str:
        return "policy" if self.policy is not None else "heuristic"

    def early_setup(self, step: int, obs: Dict[str, Any], remaining_overage_time: float = 60.0) -> Dict[str, Any]:
        """Bid on step 0, then place a factory on each of our placement turns.

        Errors are logged and answered with the plainest valid action: a zero bid (no bid at all would
        forfeit the game), or the first valid spawn (a skipped placement turn loses that factory).
        """
        try:
            state = GameState.from_obs(obs, self.cfg)
        except Exception:
            log("step %d: unreadable observation:\n%s" % (step, traceback.format_exc()))
            return {"faction": FACTION, "bid": 0} if step == 0 else {}
        if step == 0:
            try:
                return bid(state, self.player)
            except Exception:
                log("step 0: bidding failed; bidding 0:\n" + traceback.format_exc())
                return {"faction": FACTION, "bid": 0}
        try:
            if not my_turn_to_place(state, self.player, step):
                return {}
            return place_factory(state, self.player)
        except Exception:
            log("step %d: placement failed; first valid spawn instead:\n%s" % (step, traceback.format_exc()))
            return _first_valid_placement(state, self.player)

    def act(self, step: int, obs: Dict[str, Any], remaining_overage_time: float = 60.0) -> Dict[str, Any]:
        """Factory and robot actions for one step of the game proper; never raises."""
        start = time.perf_counter()
        try:
            state = GameState.from_obs(obs, self.cfg)
        except Exception:
            log("step %d: unreadable observation; no actions:\n%s" % (step, traceback.format_exc()))
            return {}
        actions: Dict[str, Any] = self._unit_actions(state, step)
        try:
            # After the robots: a factory must not build onto a robot moving onto its centre.
            actions.update(factory_actions(state, self.player, unit_queues=actions))
        except Exception:
            log("step %d: factory actions failed; factories idle:\n%s" % (step, traceback.format_exc()))
        elapsed = time.perf_counter() - start
        if self.policy is not None and (elapsed > SLOW_TURN_S or remaining_overage_time < LOW_OVERAGE_S):
            log("step %d: turn took %.2fs with %.1fs overage left; heuristic controller from now on"
                % (step, elapsed, remaining_overage_time))
            self.policy = None
        return actions

    def _unit_actions(self, state: GameState, step: int) -> Dict[str, Any]:
        """Robot queues from the policy, or from the heuristic controller once the policy is gone or fails."""
        if self.policy is not None:
            try:
                return self.policy.act(state, self.player, temperature=self.play_temperature)
            except Exception as exc:
                log("step %d: policy failed (%s: %s); heuristic controller from now on"
                    % (step, type(exc).__name__, exc))
                self.policy = None
        try:
            return self.heuristic.act(state, self.player)
        except Exception:
            log("step %d: heuristic controller failed; robots keep their queues:\n%s"
                % (step, traceback.format_exc()))
            return {}


def _first_valid_placement(state: GameState, player: str) -> Dict[str, Any]:
    """The first valid spawn with an even share of the team's water and metal; {} when none is left."""
    team = state.teams.get(player)
    spawns = np.argwhere(state.board.valid_spawns_mask)
    if team is None or team.factories_to_place <= 0 or len(spawns) == 0:
        return {}
    share = max(team.factories_to_place, 1)
    return {"spawn": [int(spawns[0][0]), int(spawns[0][1])], "metal": int(team.metal // share),
            "water": int(team.water // share)}
