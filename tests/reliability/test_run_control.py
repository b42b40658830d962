"""The run state machine on its own: which state may follow which, and how each way
of ending a run maps to a state and a reason."""

import pytest

from transfer_widgets.training.events import ACTIVE, RUN_STATES
from transfer_widgets.training.run_control import (
    TRANSITIONS,
    GoodPoint,
    InvalidTransition,
    Lifecycle,
    RunControl,
    RunStopped,
    exit_of,
)


def test_every_state_has_a_way_out_and_every_end_is_reusable():
    assert set(TRANSITIONS) == set(RUN_STATES)
    for state in ACTIVE:  # an active run always ends finished or failed
        assert {"finished", "failed"} <= TRANSITIONS[state]
    for state in ("idle", "finished", "failed"):
        assert TRANSITIONS[state] == {"running"}


@pytest.mark.parametrize(("start", "end"), [("running", "idle"), ("idle", "paused"), ("stopping", "running")])
def test_a_transition_the_table_forbids_raises(start, end):
    life = Lifecycle()
    life.state = start
    with pytest.raises(InvalidTransition, match=f"{start!r} cannot become {end!r}"):
        life.move(end)


def stopped(reason):
    control = RunControl()
    control.stop(reason)
    return control


@pytest.mark.parametrize(
    ("exc", "control", "expected"),
    [
        (None, RunControl(), ("finished", "completed")),
        (None, stopped("stopped"), ("finished", "stopped")),
        (None, stopped("interrupted"), ("finished", "interrupted")),
        (None, stopped("exited"), ("finished", "exited")),
        (RunStopped("stopped"), stopped("stopped"), ("finished", "stopped")),
        (KeyboardInterrupt(), RunControl(), ("finished", "interrupted")),
        (SystemExit(2), RunControl(), ("failed", "failed")),
        (ValueError("x"), stopped("stopped"), ("failed", "failed")),
    ],
)
def test_every_way_out_has_a_state_and_a_reason(exc, control, expected):
    assert exit_of(exc, control) == expected


def test_the_first_stop_reason_is_kept_and_a_stop_releases_a_pause():
    control = RunControl()
    control.pause()
    control.stop("interrupted")
    control.stop("stopped")
    assert control.stop_reason == "interrupted" and not control.paused
    with pytest.raises(RunStopped):
        control.raise_if_stopped()


def test_a_good_point_restores_only_after_a_batch_moved_the_weights():
    class Model:
        def __init__(self):
            self.weights = [1.0]

        def get_weights(self):
            return list(self.weights)

        def set_weights(self, w):
            self.weights = list(w)

    model, point = Model(), GoodPoint("start of run 1")
    point.capture(model)
    model.weights = [2.0]
    assert not point.restore()  # no batch began: nothing to rewind
    point.touch()
    assert point.restore() and model.weights == [1.0] and point.label == "start of run 1"
    point.capture(model, "end of epoch 1", 0)
    assert (point.label, point.epoch, point.dirty) == ("end of epoch 1", 0, False)
