"""PPO's agent rows over Gymnasium vector envs: a NumPy-vectorised env's restart steps are left out."""

import numpy as np
import torch

from gamerl.algorithms.ppo.agent_env import GymAgents
from gamerl.algorithms.ppo.train import flatten_rollout


def test_vectorised_cartpole_marks_its_restart_step_invalid() -> None:
    env = GymAgents("CartPole-v1", 3, seed=0)
    env.reset()
    always_left = np.zeros((3, 1))
    lengths, ended = np.zeros(3, dtype=int), None
    for _ in range(50):
        result = env.step(always_left)
        lengths += 1
        if result.dones.any():
            ended = result
            break
    assert ended is not None and ended.valid is None  # the step that ends an episode is a real one
    restart = env.step(always_left)
    assert restart.valid is not None
    assert (restart.valid == ~ended.dones).all()
    assert not restart.dones.any() and (restart.rewards[ended.dones] == 0).all()
    first = np.flatnonzero(ended.dones)[0]
    assert ended.episodes[0] == {"return": float(lengths[first]), "length": float(lengths[first])}
    assert np.abs(restart.obs[first]).max() <= 0.05  # the new episode's first observation
    env.close()


def test_other_envs_restart_within_the_step() -> None:
    env = GymAgents("Acrobot-v1", 2, seed=0)
    env.reset()
    results = [env.step(np.zeros((2, 1))) for _ in range(3)]
    assert all(r.valid is None for r in results)
    env.close()


def test_flatten_rollout_drops_invalid_samples() -> None:
    t, n = 3, 2
    obs = torch.arange(t * n * 4, dtype=torch.float32).reshape(t, n, 4)
    actions = torch.arange(t * n, dtype=torch.float32).reshape(t, n, 1)
    logp = torch.zeros(t, n)
    advantages = np.arange(t * n, dtype=np.float32).reshape(t, n)
    valid = np.ones((t, n), dtype=bool)
    assert len(flatten_rollout(obs, actions, logp, advantages, advantages, valid).obs) == t * n
    valid[1, 0] = False  # sample 2 in flat order
    batch = flatten_rollout(obs, actions, logp, advantages, advantages, valid)
    assert batch.actions[:, 0].tolist() == [0, 1, 3, 4, 5]
    assert batch.advantages.tolist() == [0, 1, 3, 4, 5]
    assert torch.equal(batch.obs[2], obs[1, 1])
