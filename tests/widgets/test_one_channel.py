"""Views bound to a controller hear every change through its one event stream, and
change flags only through it: a run cannot be edited from a widget, whatever the
widget's ``disabled`` says; exporting reads the controller without changing it."""

from __future__ import annotations

import threading

import keras
import pytest

from transfer_widgets import ControllerBusyError, ExportPanel, FineTuneController, LayerTree, freeze_all
from transfer_widgets.model import freeze

from .front_end import FrontEnd
from .small_models import backbone, data


@pytest.fixture
def ctl():
    return FineTuneController(backbone(), num_classes=3, train_data=data())


class Hold(keras.callbacks.Callback):
    """Holds the run at its first batch until released, so a test acts mid-run."""

    def __init__(self):
        super().__init__()
        self.reached, self.release = threading.Event(), threading.Event()

    def on_train_batch_begin(self, batch, logs=None):
        self.reached.set()
        self.release.wait(30)


def test_a_tree_cannot_change_flags_during_a_run_even_when_enabled(ctl):
    tree = LayerTree(ctl)
    front = FrontEnd(tree)
    hold = Hold()
    ctl.fit(1, callbacks=[hold])
    try:
        assert hold.reached.wait(30)
        assert tree.disabled
        tree.disabled = False  # a view that forgot (or was told otherwise): the controller still refuses
        before = [layer.trainable for layer in ctl.model.layers]
        reply = front.click(type="toggle", id=1)
        assert reply["type"] == "error"
        assert "while a run is" in reply["message"]
        with pytest.raises(ControllerBusyError):
            tree.freeze_all()
        assert [layer.trainable for layer in ctl.model.layers] == before
    finally:
        hold.release.set()
        ctl.wait()
    tree.close()


def test_a_view_subscribes_once_and_close_drops_it(ctl):
    subscribers = ctl.events._subscribers
    tree, panel = LayerTree(ctl), ExportPanel(ctl)
    assert len(subscribers) == 2
    tree.close()
    panel.close()
    assert subscribers == []


def test_flag_changes_from_a_cell_reach_bound_views_as_one_event(ctl):
    seen = []
    unsubscribe = ctl.events.subscribe(lambda events: seen.extend(e["type"] for e in events))
    panel = ExportPanel(ctl, kind="json")
    freeze_all(ctl.model)  # plain freezing API, as a later cell would run it
    assert "flags" in seen
    assert '"kind": "all_frozen"' in panel.code
    ctl.unfreeze_all(keep_bn_frozen=False)
    assert '"kind": "all_trainable"' in panel.code
    unsubscribe()
    panel.close()


def test_a_tree_without_a_controller_follows_the_freezing_api_until_closed():
    model = backbone()
    tree = LayerTree(model)
    front = FrontEnd(tree)

    def listening() -> bool:
        return any(getattr(ref(), "__self__", None) is tree for ref in freeze._listeners)

    assert listening()
    freeze_all(model)
    assert set(tree.flags["state"]) == {"0"}
    shown = tree.flags
    tree.close()
    assert not listening()
    freeze.unfreeze_all(model)
    assert tree.flags is shown  # a closed tree hears nothing more
    assert front.sent == []  # the flags travel in the trait, never as a message


def test_exporting_changes_nothing_on_the_controller(ctl):
    y_one_hot = keras.utils.to_categorical(data()[1], 3)
    ctl.train_data = (data()[0], y_one_hot)  # labels the controller has not looked at yet
    before = (ctl._label_mode, ctl.state, ctl.compile_count, ctl.config.to_json(), list(ctl.phases))
    snapshot = ctl.export_snapshot()
    for kind in ("script", "cell", "notebook", "json"):
        ctl.export_code(kind)
    assert snapshot.label_mode == "one_hot"  # what the export writes: the loss fits these labels
    assert (ctl._label_mode, ctl.state, ctl.compile_count, ctl.config.to_json(), list(ctl.phases)) == before
