"""When training stops early: Ctrl-C as a stop request (the first one is a flag, the second stops at once) and
--max-minutes, which counts one sitting while the run's clock goes on across sittings."""

import signal

import pytest

from gamerl.training.interrupt import StopOnInterrupt
from gamerl.training.sitting import Sitting


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


def test_sitting_clock_goes_on_from_earlier_sittings() -> None:
    sitting = Sitting("update", max_minutes=None, already_s=100.0)
    assert 100.0 <= sitting.elapsed < 160.0
    assert sitting.seconds < 60.0
    assert not sitting.out_of_time and not sitting.should_stop()


def test_sitting_budget_counts_this_sitting_only() -> None:
    assert Sitting("update", max_minutes=1.0, already_s=3600.0).should_stop() is False  # earlier sittings' hour
    spent = Sitting("update", max_minutes=0.0)
    assert spent.out_of_time and spent.should_stop() and not spent.interrupted


def test_sitting_stops_on_ctrl_c_and_raises_on_leaving() -> None:
    with pytest.raises(KeyboardInterrupt), Sitting("generation", max_minutes=60.0) as sitting:
        assert not sitting.should_stop()
        _ctrl_c()
        assert sitting.should_stop() and sitting.interrupted and not sitting.out_of_time
