"""Our watering-cost count matches the engine's on real boards with lichen growing."""
import pytest

from lux.config import GameConfig
from lux.lichen import watering_cost
from lux.state import GameState
from tests.game import KAGGLE, play


@pytest.mark.parametrize("seed", [3, 8])
def test_watering_cost_matches_engine(seed):
    checked = 0
    for env, step in play(seed, KAGGLE, steps=400):
        if step % 50:
            continue
        cfg = GameConfig.from_dict(__import__("dataclasses").asdict(env.state.env_cfg))
        state = GameState.from_obs(env.state.get_obs(), cfg)
        for player, factories in env.state.factories.items():
            for fid, engine_factory in factories.items():
                engine_factory.cache_water_info(env.state.board, env.state.env_cfg)
                ours = watering_cost(state.board, state.factories[player][fid], cfg.MIN_LICHEN_TO_SPREAD,
                                     cfg.LICHEN_WATERING_COST_FACTOR)
                assert ours == engine_factory.water_cost(env.state.env_cfg), (step, fid)
                checked += 1
    assert checked > 0
