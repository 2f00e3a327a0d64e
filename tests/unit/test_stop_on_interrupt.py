"""Ctrl-C as a stop request: the first one is a flag, the second one stops at once."""

import signal

import pytest

from gamerl.training.interrupt import StopOnInterrupt


def _ctrl_c() -> None:
    signal.raise_signal(signal.SIGINT)  # Python runs the handler before the next bytecode


def test_first_ctrl_c_is_a_request_and_leaving_raises(capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGINT)
    steps = 0
    with pytest.raises(KeyboardInterrupt), StopOnInterrupt("update") as interrupt:
        while not interrupt.requested:
            steps += 1
            if steps == 3:
                _ctrl_c()
    assert steps == 3  # the loop finished the step in progress and ended there
    assert "stopping after this update and saving a checkpoint" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is before


def test_second_ctrl_c_stops_at_once() -> None:
    reached = False
    with pytest.raises(KeyboardInterrupt), StopOnInterrupt("batch"):
        _ctrl_c()
        _ctrl_c()
        reached = True
    assert not reached


def test_no_ctrl_c_changes_nothing() -> None:
    with StopOnInterrupt("update") as interrupt:
        pass
    assert not interrupt.requested
