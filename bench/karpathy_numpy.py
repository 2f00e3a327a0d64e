"""Baseline: the post's single-process NumPy REINFORCE, written from "Pong from Pixels".

Kept only as the bench's baseline: one Gymnasium ALE env, RGB frames, the post's ``prepro``, forward and
backward passes in NumPy, RMSProp every ``batch_size`` episodes. ``run(seconds)`` returns agent steps/s.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np

H, D = 200, 80 * 80
BATCH_SIZE, LEARNING_RATE, GAMMA, DECAY = 10, 1e-4, 0.99, 0.99


def prepro(frame: np.ndarray) -> np.ndarray:
    """The post's preprocessing: 210x160x3 uint8 frame into a 6400 float vector."""
    frame = frame[35:195][::2, ::2, 0].copy()
    frame[frame == 144] = 0
    frame[frame == 109] = 0
    frame[frame != 0] = 1
    return frame.astype(np.float64).ravel()


def discount_rewards(r: np.ndarray) -> np.ndarray:
    """The post's discounting, reset at each point."""
    out = np.zeros_like(r)
    running = 0.0
    for t in reversed(range(r.size)):
        if r[t] != 0:
            running = 0.0
        running = running * GAMMA + r[t]
        out[t] = running
    return out


def run(seconds: float, frame_skip: int = 4, seed: int = 0) -> dict[str, float]:
    """Train for ``seconds`` of wall-clock; return steps/s and episodes finished."""
    import ale_py

    gym.register_envs(ale_py)
    rng = np.random.default_rng(seed)
    model = {"W1": rng.standard_normal((H, D)) / np.sqrt(D), "W2": rng.standard_normal(H) / np.sqrt(H)}
    grad_buffer = {k: np.zeros_like(v) for k, v in model.items()}
    rmsprop_cache = {k: np.zeros_like(v) for k, v in model.items()}
    env = gym.make("ALE/Pong-v5", frameskip=frame_skip, repeat_action_probability=0.0)
    observation, _ = env.reset(seed=seed)
    prev_x = None
    xs, hs, dlogps, drs = [], [], [], []
    episodes, steps = 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        cur_x = prepro(observation)
        x = cur_x - prev_x if prev_x is not None else np.zeros(D)
        prev_x = cur_x
        h = np.dot(model["W1"], x)
        h[h < 0] = 0
        p = 1.0 / (1.0 + np.exp(-np.dot(model["W2"], h)))
        action = 2 if rng.random() < p else 3
        xs.append(x)
        hs.append(h)
        y = 1 if action == 2 else 0
        dlogps.append(y - p)
        observation, reward, terminated, truncated, _ = env.step(action)
        drs.append(reward)
        steps += 1
        if terminated or truncated:
            episodes += 1
            epx, eph, epdlogp, epr = np.vstack(xs), np.vstack(hs), np.vstack(dlogps), np.vstack(drs)
            xs, hs, dlogps, drs = [], [], [], []
            discounted = discount_rewards(epr)
            discounted -= np.mean(discounted)
            discounted /= np.std(discounted)
            epdlogp *= discounted
            dW2 = np.dot(eph.T, epdlogp).ravel()
            dh = np.outer(epdlogp, model["W2"])
            dh[eph <= 0] = 0
            dW1 = np.dot(dh.T, epx)
            grad_buffer["W1"] += dW1
            grad_buffer["W2"] += dW2
            if episodes % BATCH_SIZE == 0:
                for k, v in model.items():
                    g = grad_buffer[k]
                    rmsprop_cache[k] = DECAY * rmsprop_cache[k] + (1 - DECAY) * g**2
                    model[k] += LEARNING_RATE * g / (np.sqrt(rmsprop_cache[k]) + 1e-5)
                    grad_buffer[k] = np.zeros_like(v)
            observation, _ = env.reset()
            prev_x = None
    elapsed = time.perf_counter() - start
    env.close()
    return {"steps_per_s": steps / elapsed, "episodes": episodes, "steps": steps, "seconds": elapsed}
