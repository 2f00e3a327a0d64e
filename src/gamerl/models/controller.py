"""The controller C: a linear map (optionally one tanh hidden layer) from [z, h] or [z, h, c] to an action.

C has no ``nn.Module`` of its own: CMA-ES owns its parameters as flat vectors, and C is applied to a
*batch of parameter vectors* at once, one row per rollout, so a whole population steps as one tensor op
(the batched dream) and a single candidate is simply ``N = 1``.

Outputs are in the stored-action space of the rollout store (what M was trained on):

* ``buttons`` (Genesis, ``MultiBinary``): a sigmoid per button thresholded at 0.5 (the seed), i.e. 0/1.
* ``discrete`` (take_cover, ``Discrete``): the one-hot of the arg-max output.
* ``continuous`` (CarRacing, ``Box``): tanh squashed into the box's bounds.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np
import torch
from gymnasium import spaces

from gamerl.errors import ConfigError

OutputKind = Literal["buttons", "discrete", "continuous"]


def output_kind(space: spaces.Space[Any]) -> OutputKind:
    """How C's outputs become actions of ``space``."""
    if isinstance(space, spaces.MultiBinary):
        return "buttons"
    if isinstance(space, spaces.Discrete):
        return "discrete"
    if isinstance(space, spaces.Box):
        return "continuous"
    raise ConfigError(f"the controller supports MultiBinary, Discrete and Box actions, not {space}")


@dataclasses.dataclass(frozen=True)
class ControllerSpec:
    """The shape of C; parameters live outside it as flat vectors of length :attr:`n_params`."""

    input_dim: int
    """size of the features C reads: z + h (+ c)"""
    action_dim: int
    """size of the stored action vector"""
    kind: OutputKind
    hidden: int = 0
    """units of the optional tanh hidden layer (0 = linear, the seed; 40 = the paper's variant)"""
    low: tuple[float, ...] = ()
    """continuous actions: lower bounds (one per action)"""
    high: tuple[float, ...] = ()
    """continuous actions: upper bounds"""

    @property
    def layer_shapes(self) -> list[tuple[int, int]]:
        """(fan_in, fan_out) of each linear layer."""
        if self.hidden:
            return [(self.input_dim, self.hidden), (self.hidden, self.action_dim)]
        return [(self.input_dim, self.action_dim)]

    @property
    def n_params(self) -> int:
        """Length of a parameter vector (weights and biases of every layer)."""
        return sum(i * o + o for i, o in self.layer_shapes)

    def outputs(self, params: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Raw outputs ``(N, A)`` of C for parameter rows ``(N, n_params)`` and features ``(N, input_dim)``."""
        x, offset = features.unsqueeze(1), 0
        for i, (fan_in, fan_out) in enumerate(self.layer_shapes):
            w = params[:, offset : offset + fan_in * fan_out].view(-1, fan_in, fan_out)
            offset += fan_in * fan_out
            b = params[:, offset : offset + fan_out].unsqueeze(1)
            offset += fan_out
            x = torch.baddbmm(b, x, w)
            if i < len(self.layer_shapes) - 1:
                x = torch.tanh(x)
        return x.squeeze(1)

    def act(self, params: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Stored-format actions ``(N, A)`` float32: 0/1 buttons, a one-hot, or values within the bounds."""
        out = self.outputs(params, features)
        if self.kind == "buttons":
            return (out > 0).float()  # sigmoid(out) > 0.5
        if self.kind == "discrete":
            return torch.nn.functional.one_hot(out.argmax(-1), self.action_dim).float()
        low, high = torch.tensor(self.low), torch.tensor(self.high)
        return low + (torch.tanh(out) + 1) * 0.5 * (high - low)


def make_spec(space: spaces.Space[Any], input_dim: int, hidden: int = 0) -> ControllerSpec:
    """The controller for env action ``space`` reading ``input_dim`` features."""
    kind = output_kind(space)
    if kind == "continuous":
        box: spaces.Box = space  # type: ignore[assignment]
        low, high = tuple(box.low.astype(float).tolist()), tuple(box.high.astype(float).tolist())
        return ControllerSpec(input_dim, int(np.prod(box.shape)), kind, hidden, low, high)
    dim = int(space.n) if kind == "discrete" else int(np.prod(space.shape))  # type: ignore[attr-defined]
    return ControllerSpec(input_dim, dim, kind, hidden)


def to_env_action(spec: ControllerSpec, action: np.ndarray) -> Any:
    """One stored-format action ``(A,)`` → what the env's ``step`` takes."""
    if spec.kind == "discrete":
        return int(np.argmax(action))
    if spec.kind == "buttons":
        return action.astype(np.int8)
    return action.astype(np.float32)
