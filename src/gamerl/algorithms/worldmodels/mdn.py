"""``gamerl train mdn RUN_DIR``: fit M on the latents of ``gamerl encode``, one readable loop.

Each update: sample windows of ``sequence_length`` steps, draw z from the stored μ, σ (a fresh sample every
batch, as the seed), predict z(t+1), reward and done, step Adam. Validation on held-out episodes also
scores the trivial predictor z(t+1) = z(t) (its mean squared error next to M's).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from gamerl.algorithms.worldmodels.stages import (
    LATENTS,
    MDN_CHECKPOINT,
    MDN_CONFIG,
    MDN_LOGS,
    SYSTEM,
    check_latents,
)
from gamerl.atomic import write_json_atomic
from gamerl.config.base import config_from_dict, config_to_dict, read_config_file, resume_config
from gamerl.config.worldmodels import MDNConfig
from gamerl.data.datasets import Latents, SequenceBatch, sample_sequences
from gamerl.errors import RunDirError, TrainingError
from gamerl.models.mdn_rnn import MDNRNN, MDNLosses, MDNOutput, MDNRNNCell, mdn_loss
from gamerl.training.checkpoints import load_checkpoint, save_checkpoint
from gamerl.training.device import resolve_device
from gamerl.training.logger import MetricLogger
from gamerl.training.progress import TrainingProgress
from gamerl.training.seeding import restore_rng_state, rng_state, seed_everything
from gamerl.training.sitting import Sitting

VALIDATION_BATCHES = 4


def build_mdn(config: MDNConfig, z_dim: int, action_dim: int, cell: bool = False) -> MDNRNN | MDNRNNCell:
    """M as a sequence model (or, ``cell=True``, as the single-step cell with the same weights)."""
    cls = MDNRNNCell if cell else MDNRNN
    return cls(z_dim, action_dim, config.hidden, config.embed, config.gaussians, config.layers)


def load_mdn(run_dir: Path, cell: bool = False) -> MDNRNN | MDNRNNCell:
    """M from ``run_dir``'s checkpoint, in eval mode."""
    data = load_checkpoint(Path(run_dir) / MDN_CHECKPOINT, SYSTEM)
    model = build_mdn(config_from_dict(MDNConfig, data["config"]), data["z_dim"], data["action_dim"], cell)
    model.load_state_dict(data["model"])
    return model.eval()


def split_latents(latents: Latents, fraction: float, seed: int) -> tuple[Latents, Latents | None]:
    """(train, validation) by whole episodes; no validation with fewer than two episodes."""
    n = len(latents.lengths)
    if fraction <= 0 or n < 2:
        return latents, None
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(n * fraction))
    return latents.subset(np.sort(order[n_val:])), latents.subset(np.sort(order[:n_val]))


def to_tensors(batch: SequenceBatch, generator: torch.Generator, device: torch.device) -> dict[str, torch.Tensor]:
    """Numpy batch → tensors on ``device``, with z = μ + σ·ε drawn afresh ``(B, T+1, Z)`` (ε from the CPU
    ``generator``, so a run draws the same z on any device)."""
    t = {k: torch.from_numpy(v).to(device) for k, v in batch._asdict().items()}
    eps = torch.randn(t["mu"].shape, generator=generator).to(device)
    t["z"] = t["mu"] + torch.exp(0.5 * t["logvar"]) * eps
    return t


def predict_sequences(
    model: MDNRNN, t: dict[str, torch.Tensor], latent: str, config: MDNConfig
) -> tuple[MDNOutput, MDNLosses]:
    """M run over the windows of ``t`` (from :func:`to_tensors`) on latent ``t[latent]`` (``"z"`` samples or
    ``"mu"``, ``(B, T+1, Z)``): its predictions for steps 1..T and their losses."""
    out, _ = model(t[latent][:, :-1], t["actions"])
    losses = mdn_loss(
        out,
        t[latent][:, 1:],
        t["rewards"],
        t["dones"],
        t["step_mask"],
        t["next_mask"],
        config.reward_weight,
        config.done_weight,
    )
    return out, losses


@torch.no_grad()
def validate(model: MDNRNN, val: Latents, config: MDNConfig, seed: int) -> dict[str, float]:
    """Validation losses, M's next-μ squared error (mixture mean) and the copy-last predictor's."""
    rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    sums = np.zeros(5)
    for _ in range(VALIDATION_BATCHES):
        t = to_tensors(sample_sequences(val, config.batch_size, config.sequence_length, rng), gen, device)
        out, losses = predict_sequences(model, t, "mu", config)
        weights = torch.softmax(out.pi_logits, dim=-2)
        mean = (weights * out.mu).sum(-2)
        n = t["next_mask"].sum().clamp(min=1)
        mse = (((mean - t["mu"][:, 1:]) ** 2).mean(-1) * t["next_mask"]).sum() / n
        copy = (((t["mu"][:, :-1] - t["mu"][:, 1:]) ** 2).mean(-1) * t["next_mask"]).sum() / n
        sums += [losses.total.item(), losses.latent.item(), losses.reward.item(), mse.item(), copy.item()]
    keys = ("eval/mdn_loss", "eval/latent_nll", "eval/reward_mse", "eval/next_mu_mse", "eval/copy_last_mse")
    return dict(zip(keys, sums / VALIDATION_BATCHES, strict=True))


def stored_mdn_config(run_dir: Path) -> MDNConfig | None:
    """The settings M was first trained with in ``run_dir``; None before any M stage."""
    return read_config_file(Path(run_dir) / MDN_CONFIG, MDNConfig)


def train_mdn(run_dir: Path, config: MDNConfig | None = None, resume: bool = False) -> Path:
    """Train M in ``run_dir`` per ``config`` (or, ``resume``, continue with the stored config, but for
    ``MDNConfig.resume_budget`` and ``sitting_options`` taken from ``config`` when given)."""
    run_dir = Path(run_dir)
    if resume:
        stored = stored_mdn_config(run_dir)
        if stored is None:
            raise RunDirError(f"{run_dir} has no M stage to resume: run 'gamerl train mdn {run_dir}' first")
        config = resume_config(stored, config or stored)
    elif (run_dir / MDN_CONFIG).exists():
        raise RunDirError(f"{run_dir} already has an M stage: pass --resume, or start a new run")
    config = config or MDNConfig()
    device = resolve_device(config.device)  # before the stage's config is written: a missing GPU leaves none
    torch.set_num_threads(config.torch_threads)
    rng = seed_everything(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    latents = Latents.load(run_dir / LATENTS)
    check_latents(run_dir, latents.resolution, latents.frame_skip)
    train, val = split_latents(latents, config.validation_fraction, config.seed)
    model = build_mdn(config, latents.mu.shape[1], latents.actions.shape[1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, fused=True)
    update = 0
    if resume:
        data = load_checkpoint(run_dir / MDN_CHECKPOINT, SYSTEM)
        model.load_state_dict(data["model"])
        optimizer.load_state_dict(data["optimizer"])
        update = data["update"]
        restore_rng_state(data["rng"], rng)
        gen.set_state(data["generator"])
    else:
        write_json_atomic(run_dir / MDN_CONFIG, config_to_dict(config))
    buffer = _RotatingBuffer(train, config.rotating_buffer, rng)

    def checkpoint() -> None:
        save_checkpoint(
            run_dir / MDN_CHECKPOINT,
            SYSTEM,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "update": update,
                "rng": rng_state(rng),
                "generator": gen.get_state(),
                "config": config_to_dict(config),
                "z_dim": model.z_dim,
                "action_dim": model.action_dim,
            },
        )

    tick, seqs = time.perf_counter(), 0
    log_dir = run_dir / MDN_LOGS
    log_dir.mkdir(exist_ok=True)
    logger = MetricLogger(log_dir, resume_step=update if resume else None)
    sitting = Sitting("update", config.max_minutes)
    progress = TrainingProgress(
        config.updates, "updates", config.progress, update, sitting.budget_s, steps=update * config.batch_size
    )
    with sitting, logger, progress as bar:
        while update < config.updates:
            batch = sample_sequences(buffer.latents, config.batch_size, config.sequence_length, rng)
            t = to_tensors(batch, gen, device)
            _, losses = predict_sequences(model, t, "z", config)
            if not torch.isfinite(losses.total):
                raise TrainingError(f"M loss became {losses.total.item()} at update {update}: lower --learning-rate")
            optimizer.zero_grad(set_to_none=True)
            losses.total.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            update += 1
            seqs += config.batch_size
            stopping = sitting.should_stop()
            if update % config.eval_every == 0 or update == config.updates or stopping:
                now = time.perf_counter()
                metrics = {
                    "train/mdn_loss": losses.total.item(),
                    "train/latent_nll": losses.latent.item(),
                    "train/reward_mse": losses.reward.item(),
                    "train/done_bce": losses.done.item(),
                    "charts/SPS": seqs / (now - tick),
                }
                if val is not None:
                    metrics.update(validate(model, val, config, config.seed))
                logger.log(update, metrics)
                bar.update(update, update * config.batch_size, loss=metrics["train/mdn_loss"])
                tick, seqs = time.perf_counter(), 0
                buffer.rotate()
            if update % config.checkpoint_every == 0 or update == config.updates or stopping:
                checkpoint()
            if stopping:
                break
    return run_dir


@dataclasses.dataclass
class _RotatingBuffer:
    """The seed's rotating buffer: train on ``size`` episodes, swapping 5 % of them for others on each rotate
    (``size`` 0 = every episode, nothing rotates)."""

    source: Latents
    size: int
    rng: np.random.Generator

    def __post_init__(self) -> None:
        n = len(self.source.lengths)
        self.active = np.sort(self.rng.permutation(n)[: self.size]) if 0 < self.size < n else np.arange(n)
        self.latents = self.source.subset(self.active) if len(self.active) < n else self.source

    def rotate(self) -> None:
        """Replace ~5 % of the active episodes with inactive ones."""
        n = len(self.source.lengths)
        if len(self.active) == n:
            return
        swap = max(1, len(self.active) // 20)
        inactive = np.setdiff1d(np.arange(n), self.active)
        keep = self.rng.permutation(self.active)[swap:]
        self.active = np.sort(np.concatenate([keep, self.rng.choice(inactive, swap, replace=False)]))
        self.latents = self.source.subset(self.active)
