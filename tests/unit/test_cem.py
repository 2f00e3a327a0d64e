import numpy as np
import torch
from torch.nn.utils import parameters_to_vector

from gamerl.algorithms.pg.cem import candidate_actions, refit
from gamerl.models.policies import PixelPolicy


def test_refit_uses_the_best_candidates():
    candidates = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 4.0], [3.0, 8.0]])
    fitness = np.array([-5.0, 1.0, 3.0, -1.0])
    mean, std = refit(candidates, fitness, elite_frac=0.5, extra_std=0.1)
    torch.testing.assert_close(mean, torch.tensor([1.5, 2.5]))
    torch.testing.assert_close(std, torch.tensor([0.5, 1.5]) + 0.1)


def test_candidate_actions_match_each_candidates_policy():
    torch.manual_seed(0)
    policies = [PixelPolicy(input_dim=6400, hidden=4) for _ in range(3)]
    candidates = torch.stack([parameters_to_vector(p.parameters()).detach() for p in policies])
    obs = np.random.default_rng(0).choice([-1, 0, 1], size=(3, 6400)).astype(np.int8)
    # with u ~ U(0,1) drawn the same way, action = u < p_up of the candidate's own policy
    got = candidate_actions(candidates, obs, hidden=4, rng=np.random.default_rng(5))
    u = np.random.default_rng(5).random(3)
    with torch.no_grad():
        p_up = [
            torch.sigmoid(p(torch.from_numpy(o).float()[None]))[0].item() for p, o in zip(policies, obs, strict=False)
        ]
    np.testing.assert_array_equal(got, (u < np.array(p_up)).astype(np.uint8))
