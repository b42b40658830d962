"""The export panel in a notebook kernel: Insert cell below inserts a cell that rebuilds
the experiment from the notebook's own objects, by their names there, and offers to save
the objects that have no name; the cell runs in that namespace and rebuilds the same model."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from transfer_widgets import ExportPanel, FineTuneController
from transfer_widgets.widgets.notebook_objects import name_in

from .front_end import FrontEnd
from .small_models import backbone, data


def same_model(a: keras.Model, b: keras.Model) -> bool:
    def flags(m):
        return [(w.path.split("/")[-1], w.trainable) for w in m.weights]

    return (
        a.count_params() == b.count_params()
        and sum(math.prod(w.shape) for w in a.trainable_weights)
        == sum(math.prod(w.shape) for w in b.trainable_weights)
        and a.output_shape == b.output_shape
        and flags(a) == flags(b)
    )


@pytest.fixture
def notebook(monkeypatch, tmp_path):
    """A notebook's namespace with a base, named data and a controller on them."""
    monkeypatch.chdir(tmp_path)
    base = backbone()
    x_train, y_train = data(16)
    ns = {"base": base, "x_train": x_train, "y_train": y_train, "np": np}
    ctl = FineTuneController(base, num_classes=3, train_data=(x_train, y_train))
    ctl.set_trainable("backbone/conv", False)
    ns["ctl"] = ctl
    return ns


def test_the_cell_names_the_notebooks_objects_and_rebuilds_the_same_model(notebook):
    panel = ExportPanel(notebook["ctl"], namespace=notebook)
    try:
        assert panel.live and panel.unnamed == []
        assert "base_model=base," in panel.cell and "train_data=(x_train, y_train)," in panel.cell
        assert "rebuilds this experiment here" in panel.insert_note
        panel.kind = "cell"
        assert panel.code == panel.cell  # the preview shows what Insert inserts
        ui = FrontEnd(panel)
        assert ui.click(type="insert") == {"type": "insert_cell", "code": panel.cell}
        exec(compile(panel.cell, "<cell>", "exec"), notebook)
        rebuilt, ctl = notebook["rebuilt"], notebook["ctl"]
        assert rebuilt.config.head == ctl.config.head
        assert same_model(rebuilt.model, ctl.model)
        assert rebuilt.base_model.get_layer("conv").trainable is False
    finally:
        panel.close()


def test_objects_without_a_name_are_offered_for_saving_then_loaded(notebook, tmp_path):
    x, y = data(16)
    ctl = FineTuneController(notebook["base"], num_classes=3, train_data=(x[:12], y[:12]))
    notebook["ctl"] = ctl
    panel = ExportPanel(ctl, namespace=notebook)
    try:
        assert panel.unnamed == ["train_data[0]", "train_data[1]"] and panel.cell == ""
        assert "no name for train_data[0], train_data[1]" in panel.insert_note
        ui = FrontEnd(panel)
        assert ui.click(type="insert") == {"type": "insert_cell", "code": ""}  # nothing that cannot run
        answer = ui.click(type="save_unnamed")
        assert (tmp_path / "transfer_objects" / "train_x.npy").exists()
        assert answer["code"] == panel.cell and "np.load('transfer_objects/train_x.npy')" in panel.cell
        assert panel.unnamed == [] and "Saved train_x.npy, train_y.npy" in panel.notice
        exec(compile(panel.cell, "<cell>", "exec"), notebook)
        assert same_model(notebook["rebuilt"].model, ctl.model)
        np.testing.assert_array_equal(notebook["rebuilt"].train_data[0], x[:12])
    finally:
        panel.close()


def test_a_name_given_later_is_used_at_the_next_insert(notebook):
    x, y = data(16)
    ctl = FineTuneController(notebook["base"], num_classes=3, train_data=(x, y))
    panel = ExportPanel(ctl, namespace=notebook)
    try:
        assert panel.unnamed == ["train_data[0]", "train_data[1]"]
        notebook["pair"] = ctl.train_data  # the user names the tuple
        answer = FrontEnd(panel).click(type="insert")
        assert "train_data=pair," in answer["code"] and panel.unnamed == []
    finally:
        panel.close()


def test_an_unnamed_base_model_is_saved_as_keras_with_a_safe_file_name(notebook, tmp_path):
    base = backbone()
    base.name = "evil'); import os #"
    ctl = FineTuneController(base, num_classes=3, train_data=(notebook["x_train"], notebook["y_train"]))
    panel = ExportPanel(ctl, namespace=notebook)
    try:
        assert panel.unnamed == ["the base model"]
        panel.save_unnamed()
        saved = list((tmp_path / "transfer_objects").glob("*.keras"))
        assert [p.name for p in saved] == ["evil_import_os.keras"]
        compile(panel.cell, "<cell>", "exec")  # valid Python, the name only inside repr()'d strings
        exec(compile(panel.cell, "<cell>", "exec"), notebook)
        assert same_model(notebook["rebuilt"].model, ctl.model)
    finally:
        panel.close()


def test_history_names_do_not_count():
    obj = object()
    assert name_in({"_": obj, "_3": obj, "Out": {}}, obj) is None
    assert name_in({"_": obj, "mine": obj}, obj) == "mine"


def test_outside_a_notebook_the_cell_stands_alone(notebook):
    panel = ExportPanel(notebook["ctl"])  # pytest is no IPython kernel
    try:
        assert not panel.live and panel.cell == notebook["ctl"].export_code("cell")
        assert "standalone cell" in panel.insert_note
    finally:
        panel.close()
