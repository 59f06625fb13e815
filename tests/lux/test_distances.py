import numpy as np

from lux.distances import cached_distance_map, manhattan_distance_map


def test_distance_map_matches_brute_force():
    rng = np.random.RandomState(0)
    src = rng.rand(13, 9) < 0.05
    src[4, 4] = True
    got = manhattan_distance_map(src)
    pts = np.argwhere(src)
    xs, ys = np.meshgrid(np.arange(13), np.arange(9), indexing="ij")
    want = np.min(np.abs(xs[..., None] - pts[:, 0]) + np.abs(ys[..., None] - pts[:, 1]), axis=2)
    assert np.array_equal(got, want)
    assert np.isinf(manhattan_distance_map(np.zeros((4, 4), bool))).all()


def test_cached_distance_map_follows_the_mask_it_is_given():
    rng = np.random.RandomState(1)
    first = rng.rand(11, 11) < 0.1
    second = first.copy()
    second[0, 0] = not second[0, 0]  # one tile differs: a different map, not the remembered one
    for mask in (first, second, first, second.T):
        got = cached_distance_map(mask)
        assert np.array_equal(got, manhattan_distance_map(mask))
        assert not got.flags.writeable  # shared between calls, so nobody may write into it
    assert cached_distance_map(first) is cached_distance_map(first.copy())
