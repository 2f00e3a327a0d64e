"""PPO's agent rows over Gymnasium vector envs: a NumPy-vectorised env's restart steps are left out,
time limits are told apart from the game's own ends."""

import collections
import copy
import dataclasses

import gymnasium as gym
import numpy as np
import pytest
import torch

from gamerl.algorithms.ppo.acting import make_actor
from gamerl.algorithms.ppo.agent_env import GymAgents, StepResult, join_results
from gamerl.algorithms.ppo.heads import heads_for_space
from gamerl.algorithms.ppo.losses import clipped_surrogate
from gamerl.algorithms.ppo.networks import ActorCritic
from gamerl.algorithms.ppo.rollout import truncation_bootstrap
from gamerl.algorithms.ppo.train import (
    Batch,
    flatten_rollout,
    stop_reason,
    take_rows,
    update,
)
from gamerl.config.ppo import PPOConfig
from gamerl.errors import TrainingError
from gamerl.training.sitting import Sitting

SHORT_CARTPOLE = "GamerlTest/CartPole3-v0"
if SHORT_CARTPOLE not in gym.registry:
    gym.register(
        SHORT_CARTPOLE,
        entry_point="gymnasium.envs.classic_control.cartpole:CartPoleEnv",
        vector_entry_point="gymnasium.envs.classic_control.cartpole:CartPoleVectorEnv",
        max_episode_steps=3,
    )


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
    obs = np.arange(t * n * 4, dtype=np.float32).reshape(t, n, 4)
    actions = np.arange(t * n, dtype=np.float32).reshape(t, n, 1)
    logp = np.zeros((t, n), dtype=np.float32)
    advantages = np.arange(t * n, dtype=np.float32).reshape(t, n)
    valid = np.ones((t, n), dtype=bool)
    cpu = torch.device("cpu")
    assert len(flatten_rollout(obs, actions, logp, advantages, advantages, valid, cpu).obs) == t * n
    valid[1, 0] = False  # sample 2 in flat order
    batch = flatten_rollout(obs, actions, logp, advantages, advantages, valid, cpu)
    assert batch.actions[:, 0].tolist() == [0, 1, 3, 4, 5]
    assert batch.advantages.tolist() == [0, 1, 3, 4, 5]
    assert batch.obs[2].tolist() == obs[1, 1].tolist()


def test_vectorised_time_limit_is_a_truncation_with_its_final_observation() -> None:
    env = GymAgents(SHORT_CARTPOLE, 2, seed=0)
    env.reset()
    results = [env.step(np.zeros((2, 1))) for _ in range(3)]
    assert all(r.truncated is None and r.final_obs is None for r in results[:2])
    cut = results[2]
    assert cut.dones.all() and cut.truncated.tolist() == [True, True]
    np.testing.assert_array_equal(cut.final_obs, cut.obs)  # NEXT_STEP: the final observation is returned
    restart = env.step(np.zeros((2, 1)))
    assert restart.truncated is None and np.abs(restart.obs).max() <= 0.05
    env.close()


def test_same_step_time_limit_keeps_the_final_observation_apart() -> None:
    env = GymAgents("Pendulum-v1", 2, seed=0)  # 200 steps, never ends by itself
    env.reset()
    reference = gym.make("Pendulum-v1")
    reference.reset(seed=1)  # the vector env's second copy
    middle_bin = np.full((2, 1), 4)  # torque 0.0 of [-2, 2] in 9 bins
    for _ in range(200):
        result = env.step(middle_bin)
        final, *_ = reference.step(np.zeros(1, dtype=np.float32))
    assert result.dones.all() and result.truncated.all()
    np.testing.assert_allclose(result.final_obs[1], final, rtol=1e-6)
    assert not np.allclose(result.obs[1], final)  # the returned observation starts the next episode
    env.close()


def test_only_truncated_rows_are_bootstrapped() -> None:
    env = GymAgents(SHORT_CARTPOLE, 2, seed=0)
    model = ActorCritic((4,), heads_for_space(gym.spaces.Discrete(2)), (8,), (8,))
    torch.nn.init.constant_(model.value[-1].bias, 3.0)  # values far from 0
    actor = make_actor(model, np.random.default_rng(0))
    env.reset()
    results = [env.step(np.zeros((2, 1))) for _ in range(3)]
    assert (truncation_bootstrap(actor, results[0], 0.9) == 0).all()
    with torch.no_grad():
        expected = 0.9 * model.state_value(torch.from_numpy(results[2].obs)).numpy()
    np.testing.assert_allclose(truncation_bootstrap(actor, results[2], 0.9), expected, rtol=1e-6)
    assert (np.abs(expected) > 1).all()

    game_over = GymAgents("CartPole-v1", 2, seed=0)  # always pushing left ends the game, not a time limit
    game_over.reset()
    while not (result := game_over.step(np.zeros((2, 1)))).dones.any():
        pass
    assert result.truncated is None and (truncation_bootstrap(actor, result, 0.9) == 0).all()
    env.close()
    game_over.close()


def _tiny_learner(config: PPOConfig) -> tuple[ActorCritic, tuple[torch.optim.Optimizer, torch.optim.Optimizer]]:
    model = ActorCritic((4,), heads_for_space(gym.spaces.Discrete(2)), config.policy_hidden, config.value_hidden)
    optimizers = tuple(torch.optim.Adam(p, lr=1e-3) for p in (model.policy_parameters(), model.value.parameters()))
    return model, optimizers


def test_a_non_finite_loss_stops_training_with_advice() -> None:
    config = PPOConfig(policy_hidden=(8,), value_hidden=(8,), epochs=2, minibatches=2)
    n = 8
    returns = torch.ones(n)
    returns[3] = float("nan")  # e.g. an env that paid a NaN reward
    batch = Batch(torch.randn(n, 4), torch.zeros(n, 1), torch.full((n,), -0.7), torch.randn(n), returns)
    with pytest.raises(TrainingError, match="lower --policy-lr/--value-lr"):
        update(*_tiny_learner(config), batch, config, torch.Generator().manual_seed(0))
    metrics = update(*_tiny_learner(config), batch._replace(returns=torch.ones(n)), config, torch.Generator())
    assert all(np.isfinite(v) for v in metrics.values()) and "train/entropy/a0" in metrics


def test_each_network_clips_its_own_gradient() -> None:
    """A huge value gradient is clipped to max_grad_norm without shrinking the policy's (SB3 clips them jointly)."""
    config = PPOConfig(policy_hidden=(8,), value_hidden=(8,), epochs=1, minibatches=1, max_grad_norm=0.5, ent_coef=0.0)
    torch.manual_seed(0)
    model, optimizers = _tiny_learner(config)
    n = 16
    batch = Batch(torch.randn(n, 4), torch.randint(0, 2, (n, 1)).float(), torch.full((n,), -0.7), torch.randn(n), None)
    batch = batch._replace(returns=torch.full((n,), 1e4))  # value loss gradient far above the clip
    with torch.no_grad():
        batch = batch._replace(logp=model.dist(batch.obs).log_prob(batch.actions))
    reference = copy.deepcopy(model)
    dist = reference.dist(batch.obs)
    adv = (batch.advantages - batch.advantages.mean()) / (batch.advantages.std() + 1e-8)
    clipped_surrogate(dist.log_prob(batch.actions), batch.logp, adv, config.clip).loss.backward()
    policy_grad = torch.cat([p.grad.reshape(-1) for p in reference.policy.parameters()])
    assert 0 < policy_grad.norm() < config.max_grad_norm  # not clipped on its own

    update(model, optimizers, batch, config, torch.Generator().manual_seed(0))  # grads stay after the step
    torch.testing.assert_close(torch.cat([p.grad.reshape(-1) for p in model.policy.parameters()]), policy_grad)
    value_grad = torch.cat([p.grad.reshape(-1) for p in model.value.parameters()])
    assert value_grad.norm().item() == pytest.approx(config.max_grad_norm, rel=1e-4)


def test_stop_reason_names_what_ended_training() -> None:
    config = PPOConfig(updates=10, max_minutes=1.5, target_return=475.0)
    recent = collections.deque([480.0] * 19, maxlen=20)
    going, spent = Sitting("update", config.max_minutes), Sitting("update", 0.0)
    assert stop_reason(config, 3, recent, going) is None  # 19 episodes are not enough
    recent.append(470.0)
    assert stop_reason(config, 3, recent, going) == "the mean return of the last 20 episodes, 479.5, reached 475"
    assert stop_reason(config, 3, recent, spent) == "--max-minutes 1.5 is spent"
    assert stop_reason(config, 10, recent, spent) == "the budget of 10 updates is spent"
    assert stop_reason(dataclasses.replace(config, target_return=None), 3, recent, going) is None


def test_take_rows_is_indexing_that_keeps_frames_channels_last() -> None:
    frames = torch.arange(6 * 4 * 5 * 5.0).view(6, 4, 5, 5).contiguous(memory_format=torch.channels_last)
    idx = torch.tensor([4, 0, 4])
    rows = take_rows(frames, idx)
    assert torch.equal(rows, frames[idx]) and rows.is_contiguous(memory_format=torch.channels_last)
    vectors = torch.arange(12.0).view(6, 2)
    assert torch.equal(take_rows(vectors, idx), vectors[idx])


def test_joined_results_keep_row_order_and_fill_the_optional_fields() -> None:
    cut = StepResult(
        np.zeros((2, 3)),
        np.zeros(2, np.float32),
        np.array([False, True]),
        [{"return": 1.0}],
        truncated=np.array([False, True]),
        final_obs=np.full((1, 3), 7.0),
    )
    restarting = StepResult(
        np.ones((1, 3)), np.ones(1, np.float32), np.array([True]), [{"return": 2.0}], np.array([False])
    )
    joined = join_results([cut, restarting])
    assert joined.obs.tolist() == [[0, 0, 0], [0, 0, 0], [1, 1, 1]] and joined.dones.tolist() == [False, True, True]
    assert joined.valid.tolist() == [True, True, False] and joined.truncated.tolist() == [False, True, False]
    assert joined.final_obs.tolist() == [[7, 7, 7]] and joined.episodes == [{"return": 1.0}, {"return": 2.0}]
    plain = join_results([restarting, dataclasses.replace(restarting, valid=None)])
    assert plain.truncated is None and plain.final_obs is None and plain.valid.tolist() == [False, True]
