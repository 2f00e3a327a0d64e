"""Real training runs on Pong with tiny budgets: artifacts, exact resume, CEM."""

import dataclasses
import json

import numpy as np
import torch

from gamerl.algorithms.pg.cem import train_cem
from gamerl.algorithms.pg.episodes import split_nonzeros
from gamerl.algorithms.pg.reinforce import sample_actions, train_reinforce
from gamerl.models.policies import PixelPolicy
from gamerl.training.checkpoints import load_checkpoint
from gamerl.training.seeding import restore_rng_state, seed_everything


def test_tiny_run_writes_every_artifact(tiny_pg_config):
    run_dir = train_reinforce(tiny_pg_config)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["system"] == "pg" and config["config"]["num_envs"] == 2
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "last.pt", "pg")
    assert checkpoint["counters"]["episodes"] >= 2 and checkpoint["counters"]["updates"] >= 2
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == checkpoint["counters"]["updates"]
    assert all(-21 <= r["rollout/episode_reward"] <= 21 for r in records)
    assert list((run_dir / "tb").glob("events.out.tfevents.*"))
    assert (run_dir / "figures" / "learning_curve.png").stat().st_size > 1000
    assert (run_dir / "figures" / "w1_images.png").stat().st_size > 1000
    # the policy really changed from its seeded initialisation
    seed_everything(tiny_pg_config.seed)
    initial = PixelPolicy(hidden=tiny_pg_config.hidden).state_dict()
    assert not torch.equal(checkpoint["model"]["w1"], initial["w1"])


def _next_actions(run_dir, config):
    """Restore a run's RNG and env and draw the actions it would take next."""
    from gamerl.algorithms.pg.session import load_policy, make_env

    checkpoint = load_checkpoint(run_dir / "checkpoints" / "last.pt", "pg")
    policy, _ = load_policy(run_dir)
    rng = np.random.default_rng(0)
    restore_rng_state(checkpoint["rng"], rng)
    with make_env(config) as env:
        env.reset()
        env.set_state(checkpoint["env"])
        obs = checkpoint["env"]["obs"]
        actions = []
        for _ in range(50):
            a = sample_actions(policy.acting_weights(), split_nonzeros(obs), rng)
            actions.append(a)
            obs, _, _ = env.step(a)
    return np.stack(actions)


def test_resume_continues_exactly_like_an_uninterrupted_run(tiny_pg_config, tmp_path):
    full = dataclasses.replace(tiny_pg_config, episodes=4, run_name="full", num_workers=1)
    uninterrupted = train_reinforce(full)
    first_half = train_reinforce(dataclasses.replace(full, episodes=2, run_name="halves"))
    resumed = train_reinforce(dataclasses.replace(full, run_name=None), resume=first_half)
    assert resumed == first_half

    a = load_checkpoint(uninterrupted / "checkpoints" / "last.pt", "pg")
    b = load_checkpoint(resumed / "checkpoints" / "last.pt", "pg")
    assert {k: v for k, v in a["counters"].items() if k != "elapsed"} == {
        k: v for k, v in b["counters"].items() if k != "elapsed"
    }
    for name in a["model"]:
        torch.testing.assert_close(a["model"][name], b["model"][name], rtol=0, atol=0)
    np.testing.assert_array_equal(_next_actions(uninterrupted, full), _next_actions(resumed, full))
    # the metrics of the resumed run are the uninterrupted run's, record for record
    keys = ("step", "rollout/episode_reward", "train/loss")
    rows = [
        [tuple(json.loads(line)[k] for k in keys) for line in (d / "metrics.jsonl").read_text().splitlines()]
        for d in (uninterrupted, resumed)
    ]
    assert rows[0] == rows[1]


def test_cem_tiny_run_updates_the_distribution(tiny_pg_config):
    config = dataclasses.replace(tiny_pg_config, method="cem", episodes=4, run_name="cem")
    run_dir = train_cem(config)
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "last.pt", "pg")
    assert checkpoint["counters"]["updates"] == 2 and checkpoint["counters"]["episodes"] == 4
    assert checkpoint["cem"]["std"].shape == checkpoint["cem"]["mean"].shape
    assert float(checkpoint["cem"]["std"].mean()) < config.cem_init_std + config.cem_extra_std
