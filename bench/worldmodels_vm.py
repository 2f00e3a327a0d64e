"""Side-by-side speed of gamerl's World Models data path against a plain PyTorch loop, on the same frames.

Plain loop = what public re-implementations do: one ``.npz`` per episode (``np.savez_compressed``), a
per-frame ``Dataset``, the default ``DataLoader``, the VAE's layers applied one after the other, the seed's
loss (BCE of the sigmoid image) and the default Adam; its M loop re-encodes the frames of every batch
through the whole VAE (decoder included). gamerl = what ``gamerl train vae`` / ``train mdn`` run: the zarr
store read into a uint8 buffer, channels-last V whose first transposed convolution is a matrix product, BCE
from logits, fused Adam, and M trained on the latents written once by ``gamerl encode``. Same models (same
weights), batch sizes and threads. M is measured twice: with gamerl's default input layer (embed 256) and
without it (the paper's and the public re-implementation's M). Every pair of rates is measured interleaved,
round by round, so that a changing machine load hits both alike.

    python bench/worldmodels_vm.py [--store STORE] [--threads 1]

Without ``--store`` it first collects 3,000 sticky-random Airstriker steps (real frames) into a temp store.
Prints a table; the last line is ``ratio: X`` = gamerl's V training frames/s over the plain loop's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from gamerl.algorithms.worldmodels.collect import collect
from gamerl.algorithms.worldmodels.mdn import to_tensors
from gamerl.config.worldmodels import CollectConfig, MDNConfig
from gamerl.data.datasets import Latents, load_frames, sample_sequences
from gamerl.data.store import RolloutStore
from gamerl.models.mdn_rnn import MDNRNN, mdn_loss
from gamerl.models.vae import ConvVAE, frames_to_input, vae_loss


def export_npz(store: RolloutStore, out: Path) -> list[Path]:
    """One compressed .npz per episode (frames, actions), as public re-implementations store rollouts."""
    files = []
    for i, ep in enumerate(store.episodes()):
        data = store.read_episode(ep, ("frames", "actions"))
        path = out / f"episode_{i:05d}.npz"
        np.savez_compressed(path, frames=data["frames"], actions=data["actions"])
        files.append(path)
    return files


class PlainVAE(ConvVAE):
    """The same VAE decoded as public code does: the transposed convolutions one after the other."""

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """``(B, Z)`` latents → ``(B, 3, 64, 64)`` pixel logits."""
        return self.decoder(self.fc_decode(z).view(-1, self.decoder_width, 1, 1))  # type: ignore[no-any-return]


class NpzFrames(Dataset):
    """Per-frame dataset over episode files, episodes loaded into memory once (ctallec's buffer style)."""

    def __init__(self, files: list[Path]) -> None:
        self.frames = [np.load(f)["frames"] for f in files]
        self.index = [(e, t) for e, fr in enumerate(self.frames) for t in range(len(fr))]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> torch.Tensor:
        e, t = self.index[i]
        return torch.from_numpy(self.frames[e][t]).permute(2, 0, 1).float() / 255.0


class NpzSequences(Dataset):
    """Windows of ``length + 1`` frames and ``length`` actions from episode files."""

    def __init__(self, files: list[Path], length: int) -> None:
        self.episodes = [dict(np.load(f)) for f in files]
        self.index = [(e, t) for e, ep in enumerate(self.episodes) for t in range(0, len(ep["frames"]) - length - 1)]
        self.length = length

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        e, t = self.index[i]
        ep = self.episodes[e]
        frames = torch.from_numpy(ep["frames"][t : t + self.length + 1]).permute(0, 3, 1, 2).float() / 255.0
        return frames, torch.from_numpy(ep["actions"][t : t + self.length])


def timed_pair(
    plain: Callable[[], None], ours: Callable[[], None], rounds: int, ours_per_round: int
) -> tuple[float, float]:
    """Seconds of ``rounds`` calls of ``plain`` and ``rounds * ours_per_round`` calls of ``ours``, interleaved
    round by round (after one warm-up each) so that a changing machine load hits both alike."""
    plain()
    ours()
    totals = [0.0, 0.0]
    for _ in range(rounds):
        for i, (step, repeat) in enumerate(((plain, 1), (ours, ours_per_round))):
            start = time.perf_counter()
            for _ in range(repeat):
                step()
            totals[i] += time.perf_counter() - start
    return totals[0], totals[1]


def plain_vae_loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The seed's ``loss_function``: BCE of the sigmoid image, summed, plus KL (β = 1), per image."""
    bce = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (bce + kl) / x.shape[0]


def vae_step(
    model: ConvVAE, optimizer: torch.optim.Optimizer, x: torch.Tensor, loss_fn: Callable[..., torch.Tensor]
) -> None:
    """One optimizer step of ``model`` on a batch ``x`` ``(B, 3, 64, 64)`` with ``loss_fn``."""
    logits, mu, logvar = model(x)
    loss = loss_fn(logits, x, mu, logvar)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def bench_v(store: RolloutStore, files: list[Path], batch: int, batches: int) -> tuple[float, float]:
    """V training frames/s once the frames are in memory: (plain loop, gamerl)."""
    torch.manual_seed(0)
    plain = PlainVAE(store.meta.resolution)
    plain_opt = torch.optim.Adam(plain.parameters(), 1e-3)
    start = time.perf_counter()
    loader = iter(DataLoader(NpzFrames(files), batch_size=batch, shuffle=True))
    load_plain = time.perf_counter() - start

    torch.manual_seed(0)
    ours = ConvVAE(store.meta.resolution).to(memory_format=torch.channels_last)
    ours_opt = torch.optim.Adam(ours.parameters(), 1e-3, fused=True)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    frames = torch.from_numpy(load_frames(store, store.episodes(), 200_000, rng))
    load_ours = time.perf_counter() - start

    def step() -> None:
        idx = torch.from_numpy(rng.integers(0, len(frames), batch))
        x = frames_to_input(frames[idx], channels_last=True)
        vae_step(ours, ours_opt, x, lambda *out: vae_loss(*out, 1.0)[0])

    plain_s, ours_s = timed_pair(lambda: vae_step(plain, plain_opt, next(loader), plain_vae_loss), step, batches, 1)
    log(f"V data loading (not in the rates): plain {load_plain:.1f} s, gamerl {load_ours:.1f} s")
    return batches * batch / plain_s, batches * batch / ours_s


def encode_store(store: RolloutStore, vae: ConvVAE) -> Latents:
    """What ``gamerl encode`` does, once: every stored frame to μ, log σ², next to actions, rewards, dones."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("mu", "logvar", "actions", "rewards", "dones")}
    with torch.no_grad():
        for ep in store.episodes():
            data = store.read_episode(ep)
            for i in range(0, ep.length, 256):
                mu, logvar = vae.encode(frames_to_input(torch.from_numpy(data["frames"][i : i + 256])))
                parts["mu"].append(mu.numpy())
                parts["logvar"].append(logvar.numpy())
            for k in ("actions", "rewards", "dones"):
                parts[k].append(data[k])
    lengths = np.array([ep.length for ep in store.episodes()])
    return Latents(
        **{k: np.concatenate(v) for k, v in parts.items()},
        starts=np.concatenate([[0], np.cumsum(lengths)[:-1]]),
        lengths=lengths,
        resolution=store.meta.resolution,
        frame_skip=store.meta.frame_skip,
    )


def bench_m(
    files: list[Path], vae: PlainVAE, latents: Latents, embed: int, batch: int, length: int, batches: int
) -> tuple[float, float]:
    """M training sequences/s with an ``embed``-unit input layer: (plain loop re-encoding frames through the
    whole VAE, gamerl on the stored latents)."""
    config = MDNConfig()

    def mdn(fused: bool) -> tuple[MDNRNN, torch.optim.Optimizer]:
        torch.manual_seed(0)
        model = MDNRNN(vae.z_dim, latents.actions.shape[1], config.hidden, embed, config.gaussians, config.layers)
        return model, torch.optim.Adam(model.parameters(), 1e-3, fused=fused)

    def update(model: MDNRNN, opt: torch.optim.Optimizer, z: torch.Tensor, actions: torch.Tensor) -> None:
        out, _ = model(z[:, :-1], actions)
        ones = torch.ones(z.shape[0], z.shape[1] - 1)
        loss = mdn_loss(out, z[:, 1:], torch.zeros_like(ones), torch.zeros_like(ones), ones, ones).total
        opt.zero_grad()
        loss.backward()
        opt.step()

    plain, plain_opt = mdn(fused=False)
    loader = iter(DataLoader(NpzSequences(files, length), batch_size=batch, shuffle=True))

    def plain_step() -> None:
        frames, actions = next(loader)
        with torch.no_grad():
            _, mu, logvar = vae(frames.flatten(0, 1))  # the whole VAE, decoder included, every batch
            z = (mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)).view(batch, length + 1, -1)
        update(plain, plain_opt, z, actions)

    ours, ours_opt = mdn(fused=True)
    rng, gen = np.random.default_rng(0), torch.Generator().manual_seed(0)

    def our_step() -> None:
        t = to_tensors(sample_sequences(latents, batch, length, rng), gen, torch.device("cpu"))
        update(ours, ours_opt, t["z"], t["actions"])

    plain_s, ours_s = timed_pair(plain_step, our_step, batches, 10)
    return batches * batch / plain_s, batches * 10 * batch / ours_s


def bench_reads(store: RolloutStore, files: list[Path], rounds: int) -> tuple[float, float]:
    """Random single-frame reads/s from disk, interleaved round by round, fresh picks each round: (one .npz
    per episode, 20 a round; the zarr store in batches of 32, 200 a round)."""
    rng = np.random.default_rng(0)
    episodes = store.episodes()
    n_npz, n_zarr = 20, 200

    def draw(n: int) -> list[tuple[int, int]]:
        return [(int(e), int(rng.integers(episodes[e].length))) for e in rng.integers(len(episodes), size=n)]

    npz_rounds = iter([draw(n_npz) for _ in range(rounds + 1)])  # + the warm-up round
    zarr_rounds = iter([draw(n_zarr) for _ in range(rounds + 1)])

    def plain() -> None:
        for e, t in next(npz_rounds):
            with np.load(files[e]) as data:
                data["frames"][t]

    def ours() -> None:
        picks = next(zarr_rounds)
        for i in range(0, n_zarr, 32):
            by_shard: dict[str, list[int]] = {}
            for e, t in picks[i : i + 32]:
                by_shard.setdefault(episodes[e].shard, []).append(episodes[e].start + t)
            for shard, idx in by_shard.items():
                store.read_frames(shard, np.unique(idx))

    plain_s, ours_s = timed_pair(plain, ours, rounds, 1)
    return rounds * n_npz / plain_s, rounds * n_zarr / ours_s


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def dir_bytes(path: Path) -> int:
    """Total size in bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    """Parse the flags, time both sides of each stage and print their rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of both loops")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=32)
    parser.add_argument("--batches", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        store_path = args.store
        if store_path is None:
            store_path = Path(tmp) / "store"
            collect(CollectConfig(store=store_path, policy="sticky", steps=3000, progress=False))
        store = RolloutStore.open(store_path)
        npz_dir = Path(tmp) / "npz"
        npz_dir.mkdir()
        files = export_npz(store, npz_dir)
        n = store.total_steps()
        r = store.meta.resolution
        raw = n * r * r * 3
        stored = sum(dir_bytes(store.path / "shards" / s / "frames") for s in store.shard_names())
        log(f"{n} frames in {len(files)} episodes; V ...")
        v_plain, v_ours = bench_v(store, files, args.batch, args.batches)
        log(f"V: {v_plain:.1f} vs {v_ours:.1f} frames/s; M ...")
        torch.manual_seed(0)
        vae = PlainVAE(store.meta.resolution).eval()
        start = time.perf_counter()
        latents = encode_store(store, vae)
        encode_s = time.perf_counter() - start
        m_rates = {}
        for embed in sorted({MDNConfig().embed, 0}, reverse=True):
            m_rates[embed] = bench_m(files, vae, latents, embed, args.batch, args.seq_len, args.batches)
            log(f"M (embed {embed}): {m_rates[embed][0]:.1f} vs {m_rates[embed][1]:.1f} sequences/s")
        log("random reads ...")
        read_npz, read_ours = bench_reads(store, files, args.batches)
        npz_bytes = dir_bytes(npz_dir)
    rows = [
        ("V training, frames/s", v_plain, v_ours),
        *((f"M training, sequences/s ({args.seq_len} steps, embed {e})", *m_rates[e]) for e in m_rates),
        ("random frame reads/s", read_npz, read_ours),
        ("frame bytes: raw / stored (x smaller)", raw / npz_bytes, raw / stored),
    ]
    print(
        f"{n} frames at {r} px, {len(files)} episodes, batch {args.batch}, {args.threads} threads; "
        f"encode pass {encode_s:.1f} s (counted once, not in M's rate)"
    )
    print(f"{'measure':52s} {'plain loop':>12s} {'gamerl':>12s} {'ratio':>8s}")
    for name, plain, ours in rows:
        print(f"{name:52s} {plain:12.1f} {ours:12.1f} {ours / plain:8.2f}")
    print(f"ratio: {v_ours / v_plain:.2f}")


if __name__ == "__main__":
    main()
