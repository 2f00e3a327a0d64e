import numpy as np

from gamerl.algorithms.pg.episodes import Episode, EpisodeBuffer, split_nonzeros


def test_buffer_state_round_trip_keeps_every_step():
    rng = np.random.default_rng(0)
    buffer = EpisodeBuffer()
    frames = rng.choice([-1, 0, 0, 1], size=(5, 6400)).astype(np.int8)
    for t, frame in enumerate(frames):
        buffer.append(split_nonzeros(frame[None])[0], t % 2, float(t == 4))
    restored = EpisodeBuffer()
    restored.load(buffer.state())
    a, b = buffer.finish(), restored.finish()
    for field in ("cols", "vals", "counts", "actions", "rewards"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    dense = np.zeros((5, 6400), np.int8)
    rows = np.repeat(np.arange(5), a.counts)
    dense[rows, a.cols.astype(int)] = a.vals
    np.testing.assert_array_equal(dense, frames)


def test_finish_empties_the_buffer():
    buffer = EpisodeBuffer()
    buffer.append(split_nonzeros(np.ones((1, 6400), np.int8))[0], 1, -1.0)
    episode = buffer.finish()
    assert isinstance(episode, Episode) and len(episode) == 1 and episode.total_reward == -1.0
    assert len(buffer.finish()) == 0
