"""Widgets bound to a controller recover from every fault a run can end with: the
monitor shows how the run ended, the layer tree and the head designer enable again
and accept edits (the Python side; the browser test drives Lab's interrupt button)."""

import pytest

from transfer_widgets import HeadDesigner, LayerTree, TrainingMonitor

from .faults import At, make, raiser


def stop_soon(ctl):
    return At(0, 2, ctl.stop)


@pytest.mark.parametrize(
    ("fault", "state", "shown"),
    [
        (lambda ctl: At(0, 2, raiser(KeyboardInterrupt())), "finished", "interrupted"),
        (lambda ctl: At(0, 2, raiser(SystemExit(1))), "failed", "SystemExit"),
        (lambda ctl: At(0, 2, raiser(ValueError("bad batch"))), "failed", "bad batch"),
        (stop_soon, "finished", "stopped"),
    ],
    ids=["KeyboardInterrupt", "SystemExit", "ValueError", "stop"],
)
def test_bound_widgets_recover_after_a_fault(fault, state, shown):
    ctl = make()
    tree, designer, monitor = LayerTree(ctl), HeadDesigner(ctl), TrainingMonitor(ctl)
    ctl.fit(3, callbacks=[fault(ctl)])
    assert ctl.wait(120) == state
    ctl.events.flush()
    assert not tree.disabled and not designer.disabled
    text = " ".join([monitor.status.value, ctl.error or "", ctl.runs[-1]["reason"]])
    assert shown in text, text
    assert monitor.pause_button.disabled  # nothing to pause: the run is over
    ctl.freeze_all()  # edits are accepted again, through the controller the views follow
    ctl.fit(1, block=True)
    assert ctl.state == "finished" and ctl.runs[-1]["reason"] == "completed"
