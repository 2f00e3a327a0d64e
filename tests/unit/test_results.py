"""Evaluation results are never written over by an evaluation with other settings."""

import json
from pathlib import Path

import numpy as np
import torch

from gamerl.evaluation.results import save_result, weights_digest


def test_other_settings_go_to_a_new_file_and_the_same_settings_replace_their_own(tmp_path: Path) -> None:
    path = tmp_path / "eval" / "results_seed1.json"
    vs_a, vs_b = {"opponent_checkpoint": Path("/runs/a.pt")}, {"opponent_checkpoint": Path("/runs/b.pt")}
    assert save_result(path, {"win_rate": 0.5}, vs_a) == path
    assert save_result(path, {"win_rate": 0.9}, vs_b) == tmp_path / "eval" / "results_seed1_2.json"
    assert save_result(path, {"win_rate": 0.6}, vs_a) == path  # the same evaluation again: its own file
    assert save_result(path, {"win_rate": 0.8}, vs_b) == tmp_path / "eval" / "results_seed1_2.json"
    saved = [json.loads(p.read_text()) for p in sorted(path.parent.iterdir())]
    assert [(s["win_rate"], s["settings"]["opponent_checkpoint"]) for s in saved] == [
        (0.6, "/runs/a.pt"),
        (0.8, "/runs/b.pt"),
    ]


def test_a_result_without_settings_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "results_seed1.json"
    path.write_text('{"mean": 1.0}')
    assert save_result(path, {"mean": 2.0}, {"episodes": 3}).name == "results_seed1_2.json"
    assert json.loads(path.read_text()) == {"mean": 1.0}


def test_weights_digest_tells_weights_apart() -> None:
    weights = [torch.ones(3), torch.zeros(2, 2)]
    assert weights_digest(weights) == weights_digest([np.ones(3, np.float32), np.zeros((2, 2), np.float32)])
    assert weights_digest(weights) != weights_digest([torch.ones(3), torch.full((2, 2), 1e-6)])
