"""What the PPO loop, evaluation and play share: run directories, envs, model files."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from gamerl.algorithms.ppo.agent_env import AgentEnv, GymAgents, atari_agents
from gamerl.algorithms.ppo.heads import Head
from gamerl.algorithms.ppo.networks import ActorCritic
from gamerl.config.base import config_from_dict, config_to_dict, resume_config
from gamerl.config.ppo import DERK_ENV_ID, PPOConfig
from gamerl.errors import CheckpointError, ConfigError, EnvNotFoundError
from gamerl.training.checkpoints import load_checkpoint, save_checkpoint
from gamerl.training.run import load_run_config, new_run_dir

SYSTEM = "ppo"
LAST = Path("checkpoints") / "last.pt"


def open_run(config: PPOConfig, resume: Path | None) -> tuple[Path, PPOConfig, dict[str, Any] | None]:
    """A fresh run directory, or the stored config and last checkpoint of ``resume``.

    On resume the options a resume may change (``PPOConfig.resume_budget`` and ``sitting_options``)
    come from ``config``, everything else from the run's config.json.
    """
    if resume is None:
        check_env_id(config.env_id)
        return new_run_dir(config, config.env_id, SYSTEM), config, None
    stored = resume_config(load_run_config(resume, PPOConfig, SYSTEM), config)
    return Path(resume), stored, load_checkpoint(Path(resume) / LAST, SYSTEM)


def check_env_id(env_id: str) -> None:
    """Refuse an env id that is neither Derk nor registered with Gymnasium (before any run dir is made)."""
    if env_id == DERK_ENV_ID:
        return
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    try:
        gym.spec(env_id)
    except gym.error.Error as err:
        raise EnvNotFoundError(f"unknown env id '{env_id}' ({err}): pass {DERK_ENV_ID} or a Gymnasium id") from None


def make_agent_env(config: PPOConfig, run_dir: Path | None = None, seed: int | None = None) -> AgentEnv:
    """The agent rows PPO trains on: Derk's home team against the configured opponent, or a Gymnasium env."""
    seed = config.seed if seed is None else seed
    if config.env_id == DERK_ENV_ID:
        from gamerl.algorithms.ppo.derk_agents import make_derk_agents

        return make_derk_agents(config, run_dir, seed)
    if config.opponent != "random":
        raise ConfigError(f"--opponent {config.opponent} needs a two-team game: pass --env-id {DERK_ENV_ID}")
    if config.env_id.startswith("ALE/"):
        return atari_agents(config.env_id, config.num_envs, seed)
    return GymAgents(config.env_id, config.num_envs, seed, config.continuous, config.bins)


def build_model(config: PPOConfig, obs_shape: tuple[int, ...], heads: list[Head]) -> ActorCritic:
    """A fresh actor-critic with the config's hidden sizes."""
    return ActorCritic(
        obs_shape,
        heads,
        config.policy_hidden,
        config.value_hidden,
        config.share_encoder,
        config.pixel_precision,
        config.mlp_precision,
    )


def model_payload(model: ActorCritic, config: PPOConfig) -> dict[str, Any]:
    """What a checkpoint needs to rebuild ``model`` without its env."""
    return {
        "model": model.state_dict(),
        "obs_shape": list(model.obs_shape),
        "heads": [dataclasses.asdict(h) for h in model.heads],
        "config": config_to_dict(config),
    }


def snapshot_path(run_dir: Path, update: int) -> Path:
    """Where the weights of ``update`` are kept: ``checkpoints/model_<update>.pt``."""
    return Path(run_dir) / "checkpoints" / f"model_{update:06d}.pt"


def write_snapshot(run_dir: Path, update: int, payload: dict[str, Any]) -> Path:
    """Keep the weights of ``update`` (fine-tuning, opponent pools, evaluating a past update)."""
    return save_checkpoint(snapshot_path(run_dir, update), SYSTEM, payload)


def weights_file(run_dir: Path, update: int | None = None) -> Path:
    """The run's last checkpoint, or the weights kept after ``update``; a one-line error if none were kept."""
    if update is None:
        return Path(run_dir) / LAST
    file = snapshot_path(run_dir, update)
    if not file.exists():
        kept = [int(p.stem.removeprefix("model_")) for p in snapshots(run_dir)]
        which = f"updates {kept[0]} to {kept[-1]}, {len(kept)} files" if kept else "none"
        raise CheckpointError(f"{run_dir} kept no weights after update {update} (kept: {which}): pass a kept --update")
    return file


def snapshots(run_dir: Path) -> list[Path]:
    """This run's weight snapshots, oldest first."""
    return sorted((Path(run_dir) / "checkpoints").glob("model_*.pt"))


def load_model(path: Path) -> tuple[ActorCritic, PPOConfig]:
    """The model and config stored in a PPO run directory (its last checkpoint) or a ``.pt`` file."""
    path = Path(path)
    return model_from_checkpoint(load_checkpoint(path / LAST if path.is_dir() else path, SYSTEM))


def model_from_checkpoint(data: dict[str, Any]) -> tuple[ActorCritic, PPOConfig]:
    """The model and config of a loaded PPO checkpoint or weight snapshot."""
    config = config_from_dict(PPOConfig, data["config"])
    heads = [Head(**h) for h in data["heads"]]
    # checkpoints written before pixel observations were supported stored a flat size, "obs_dim"
    obs_shape = tuple(data["obs_shape"]) if "obs_shape" in data else (int(data["obs_dim"]),)
    model = build_model(config, obs_shape, heads)
    model.load_state_dict(data["model"])
    return model, config


def start_from(
    model: ActorCritic,
    source: tuple[ActorCritic, PPOConfig],
    obs_shape: tuple[int, ...],
    heads: list[Head],
    path: Path,
) -> None:
    """Copy the weights of ``source`` (a model and the config it was trained with, from ``path``) into ``model``
    to fine-tune them; weights of another env or another network shape are a one-line error."""
    weights, trained = source
    check_compatible(weights, obs_shape, heads, path)
    mine, theirs = model.state_dict(), weights.state_dict()
    if mine.keys() != theirs.keys() or any(mine[k].shape != theirs[k].shape for k in mine):
        shape = f"--policy-hidden {' '.join(map(str, trained.policy_hidden))} "
        shape += f"--value-hidden {' '.join(map(str, trained.value_hidden))}"
        shape += " --share-encoder" if trained.share_encoder else " --no-share-encoder"
        raise CheckpointError(f"{path} has networks of another shape: pass its {shape}")
    model.load_state_dict(theirs)


def check_compatible(model: ActorCritic, obs_shape: tuple[int, ...], heads: list[Head], source: Path) -> None:
    """Refuse weights made for another observation shape or action heads (one-line error)."""
    if model.obs_shape != tuple(obs_shape) or model.heads != heads:
        raise CheckpointError(
            f"{source} was trained with other observations or actions ({model.obs_shape} inputs, "
            f"{len(model.heads)} heads): pass a checkpoint of the same env and --continuous/--bins"
        )
