"""``gamerl train vae``: fit V on the frames of a rollout store, one readable loop.

Each epoch: re-list the store (collection may still be running), load up to ``buffer_frames`` training
frames into memory as uint8, shuffle, train, validate on held-out episodes, write a reconstruction grid,
log, checkpoint. Resume restores model, optimizer, RNG states and the epoch counter.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from gamerl.algorithms.worldmodels.stages import SYSTEM, VAE_CHECKPOINT, write_manifest
from gamerl.config.base import config_to_dict, resume_config
from gamerl.config.worldmodels import VAEConfig
from gamerl.data.datasets import load_frames, split_episodes
from gamerl.data.store import RolloutStore
from gamerl.errors import ConfigError, TrainingError
from gamerl.evaluation.wm_figures import image_rows, reconstruction_grid, save_png, to_uint8
from gamerl.models.vae import DEFAULT_Z, ConvVAE, frames_to_input, vae_loss
from gamerl.training.checkpoints import load_checkpoint, save_checkpoint
from gamerl.training.device import resolve_device
from gamerl.training.logger import MetricLogger
from gamerl.training.progress import TrainingProgress
from gamerl.training.run import load_run_config, new_run_dir
from gamerl.training.seeding import restore_rng_state, rng_state, seed_everything
from gamerl.training.sitting import Sitting

VALIDATION_FRAMES = 2000
"""at most this many held-out frames are scored each epoch"""


def build_vae(resolution: int, z_dim: int | None) -> ConvVAE:
    """V for ``resolution`` px frames with ``z_dim`` latents (default by resolution)."""
    return ConvVAE(resolution, z_dim or DEFAULT_Z[resolution])


def load_vae(run_dir: Path) -> ConvVAE:
    """V from ``run_dir``'s checkpoint, in eval mode."""
    data = load_checkpoint(Path(run_dir) / VAE_CHECKPOINT, SYSTEM)
    model = ConvVAE(data["resolution"], data["z_dim"])
    model.load_state_dict(data["model"])
    return model.eval()


def model_input(model: ConvVAE, frames: np.ndarray) -> torch.Tensor:
    """uint8 frames ``(B, R, R, 3)`` → V's input ``(B, 3, R, R)`` on the device V's weights are on."""
    return frames_to_input(torch.from_numpy(frames), device=next(model.parameters()).device)


@torch.no_grad()
def evaluate_vae(model: ConvVAE, frames: np.ndarray, beta: float, batch: int = 256) -> dict[str, float]:
    """Mean loss terms on ``frames`` ``(N, R, R, 3)`` uint8 decoding z = μ (deterministic)."""
    totals = np.zeros(3)
    for i in range(0, len(frames), batch):
        x = model_input(model, frames[i : i + batch])
        mu, logvar = model.encode(x)
        losses = vae_loss(model.decode_logits(mu), x, mu, logvar, beta)
        totals += torch.stack(losses).cpu().numpy() * len(x)  # one host copy a batch, as in training
    loss, bce, kl = totals / max(len(frames), 1)
    return {"eval/vae_loss": loss, "eval/bce": bce, "eval/kl": kl}


@torch.no_grad()
def reconstruct(model: ConvVAE, frames: np.ndarray) -> np.ndarray:
    """Frames ``(N, R, R, 3)`` uint8 → reconstructions from z = μ, same shape and dtype."""
    mu, _ = model.encode(model_input(model, frames))
    return to_uint8(model.decode(mu).cpu().numpy())


@torch.no_grad()
def interpolation_strip(model: ConvVAE, a: np.ndarray, b: np.ndarray, out: Path, steps: int = 8) -> Path:
    """Decode μ linearly interpolated between frames ``a`` and ``b`` ``(R, R, 3)``; frames at both ends."""
    mu, _ = model.encode(model_input(model, np.stack([a, b])))
    w = torch.linspace(0, 1, steps, device=mu.device)[:, None]
    images = to_uint8(model.decode((1 - w) * mu[0] + w * mu[1]).cpu().numpy())
    return save_png(image_rows([np.concatenate([a[None], images, b[None]])]), out)


def train_vae(config: VAEConfig, resume: Path | None = None) -> Path:
    """Train V per ``config`` (or continue the run in ``resume``); return the run directory."""
    if resume is not None:  # the run's settings; the budget and how it runs from ``config``
        config = resume_config(load_run_config(resume, VAEConfig, SYSTEM), config)
    device = resolve_device(config.device)  # before the run directory: a missing GPU leaves none
    torch.set_num_threads(config.torch_threads)
    rng = seed_everything(config.seed)
    store = RolloutStore.open(config.store)
    episodes = store.episodes()
    if not episodes:
        raise ConfigError(f"store {store.path} has no finished episodes yet: run 'gamerl collect' first")
    train_episodes = split_episodes(episodes, config.validation_fraction)[0]
    train_frames = min(sum(e.length for e in train_episodes), config.buffer_frames)  # what load_frames loads
    if train_frames < config.batch_size:  # before the run directory, which would block the same command
        raise ConfigError(
            f"only {train_frames} training frames, fewer than one batch of {config.batch_size}: "
            "collect more data or pass a smaller --batch-size"
        )
    model = build_vae(store.meta.resolution, config.z_dim).to(device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, fused=True)
    start_epoch, step = 0, 0
    if resume is None:
        run_dir = new_run_dir(config, episodes[0].meta.get("game", store.path.name), SYSTEM)
        write_manifest(run_dir, store, model.z_dim)
    else:
        run_dir = Path(resume)
        data = load_checkpoint(run_dir / VAE_CHECKPOINT, SYSTEM)
        model.load_state_dict(data["model"])
        optimizer.load_state_dict(data["optimizer"])
        start_epoch, step = data["epoch"], data["step"]
        restore_rng_state(data["rng"], rng)
    figures = run_dir / "figures"

    def checkpoint(epoch: int) -> None:
        save_checkpoint(
            run_dir / VAE_CHECKPOINT,
            SYSTEM,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": epoch,
                "step": step,
                "rng": rng_state(rng),
                "config": config_to_dict(config),
                "resolution": model.resolution,
                "z_dim": model.z_dim,
            },
        )

    logger = MetricLogger(run_dir, resume_step=step if resume is not None else None)
    sitting = Sitting("batch", config.max_minutes)
    progress = TrainingProgress(
        config.epochs, "epochs", config.progress, start_epoch, sitting.budget_s, steps=step * config.batch_size
    )
    with sitting, logger, progress as bar:
        for epoch in range(start_epoch, config.epochs):
            train_eps, val_eps = split_episodes(store.episodes(), config.validation_fraction)
            frames = torch.from_numpy(load_frames(store, train_eps, config.buffer_frames, rng))
            val_frames = load_frames(store, val_eps, VALIDATION_FRAMES, np.random.default_rng(config.seed))
            order = torch.from_numpy(rng.permutation(len(frames)))
            model.train()
            tick, sums, batches, completed = time.perf_counter(), np.zeros(3), 0, True
            for i in range(0, len(frames) - config.batch_size + 1, config.batch_size):
                x = frames_to_input(frames[order[i : i + config.batch_size]], config.channels_last, device)
                logits, mu, logvar = model(x)
                loss, bce, kl = vae_loss(logits, x, mu, logvar, config.beta)
                terms = torch.stack([loss, bce, kl]).detach().cpu().numpy()  # one host copy a step
                if not np.isfinite(terms[0]):
                    raise TrainingError(f"VAE loss became {terms[0]} at step {step}: lower --learning-rate")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                batches += 1
                sums += terms
                if sitting.should_stop():
                    completed = False
                    break
            seconds = time.perf_counter() - tick
            model.eval()
            metrics = dict(zip(("train/vae_loss", "train/bce", "train/kl"), sums / max(batches, 1), strict=True))
            metrics["charts/SPS"] = batches * config.batch_size / seconds
            metrics["charts/epoch"] = epoch + 1
            sample = val_frames[:8] if len(val_frames) else frames[:8].numpy()
            if len(val_frames):
                metrics.update(evaluate_vae(model, val_frames, config.beta))
            reconstruction_grid(sample, reconstruct(model, sample), figures / f"vae_recon_epoch{epoch + 1:03d}.png")
            logger.log(step, metrics)
            if not completed:
                checkpoint(epoch)  # resume redoes this epoch
                break
            if (epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == config.epochs:
                checkpoint(epoch + 1)
            bar.update(epoch + 1, step * config.batch_size, loss=metrics["train/vae_loss"])
        if start_epoch < config.epochs:  # a resume whose epochs are all done trains and draws nothing
            endpoints = val_frames if len(val_frames) >= 2 else frames.numpy()
            interpolation_strip(model, endpoints[0], endpoints[-1], figures / "vae_interpolation.png")
    return run_dir
