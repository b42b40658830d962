"""ExportPanel's Python side, driven by simulated front-end messages: the code follows the
controller (config, flags, runs), and a saved config loads back or is refused with the
reason shown and nothing changed."""

from __future__ import annotations

import json

import pytest

from transfer_widgets import ConfigError, ControllerBusyError, ExportPanel, FineTuneController, freeze_all
from transfer_widgets.config import HeadLayerSpec, HeadSpec

from .front_end import FrontEnd
from .small_models import backbone, data


@pytest.fixture
def controller():
    c = FineTuneController(backbone(), train_data=data())
    c.set("training.batch_size", 8)
    return c


@pytest.fixture
def panel(controller):
    widget = ExportPanel(controller)
    yield widget
    widget.close()


@pytest.fixture
def ui(panel):
    return FrontEnd(panel)


def shows(panel, controller, kind=None) -> bool:
    """The panel shows exactly what the controller exports now."""
    kind = kind or panel.kind
    return (
        panel.code == controller.export_code(kind)
        and panel.code_kind == kind
        and panel.cell == controller.export_code("cell")
        and panel.export_error == ""
    )


# -- what it shows -------------------------------------------------------------------------


def test_shows_the_script_and_the_cell_at_first(panel, controller):
    assert panel.kind == "script" and panel.filename == "train.py"
    assert shows(panel, controller)
    assert "transfer-widgets" in panel.code and "backbone" in panel.code
    assert panel.running is False and panel.error == "" and panel.notice == ""


@pytest.mark.parametrize(
    ("kind", "filename"),
    [
        ("script", "train.py"),
        ("cell", "transfer_cell.py"),
        ("notebook", "transfer.ipynb"),
        ("json", "transfer_config.json"),
    ],
)
def test_each_kind_as_the_front_end_chooses_it(panel, controller, kind, filename):
    panel.set_state({"kind": kind})  # what a sync from the view does
    assert shows(panel, controller, kind)
    assert panel.filename == filename
    if kind == "notebook":
        assert json.loads(panel.code)["nbformat"] == 4
    if kind == "json":
        assert json.loads(panel.code) == json.loads(controller.config.to_json())


def test_an_unknown_kind_is_refused_and_the_kind_kept(panel):
    with pytest.raises(Exception, match="kind"):
        panel.kind = "pdf"
    assert panel.kind == "script"


def test_kind_given_at_construction(controller):
    widget = ExportPanel(controller, kind="json")
    try:
        assert shows(widget, controller, "json")
    finally:
        widget.close()


def test_not_a_controller_is_refused_naming_what_was_passed():
    with pytest.raises(TypeError, match="needs a FineTuneController, got Sequential"):
        ExportPanel(backbone())


# -- it follows the controller ---------------------------------------------------------------


def test_code_follows_training_settings(panel, controller):
    before = panel.code
    controller.set("training.learning_rate", 0.0005)
    assert "0.0005" in panel.code and "0.0005" in panel.cell
    assert panel.code != before
    assert shows(panel, controller)


def test_code_follows_the_head(panel, controller):
    controller.apply_head(
        HeadSpec(
            layers=[
                HeadLayerSpec("global_average_pooling"),
                HeadLayerSpec("dense", units=7, activation="relu"),
            ],
            num_classes=3,
        )
    )
    assert "Dense(7" in panel.code
    assert shows(panel, controller)


def test_code_follows_trainable_flags(panel, controller):
    controller.unfreeze_all(keep_bn_frozen=False)
    unfrozen = panel.code
    assert shows(panel, controller)
    freeze_all(controller.base_model)  # the freezing API, as the layer tree uses it
    assert panel.code != unfrozen
    assert shows(panel, controller)


def test_code_follows_a_run_and_running_is_shown(panel, controller):
    before = panel.code
    seen = []
    panel.observe(lambda change: seen.append(change["new"]), names="running")
    controller.fine_tune(head_epochs=1, epochs=1, unfreeze_from="bn", block=True)
    assert controller.state == "finished"
    assert seen[0] is True and panel.running is False
    assert shows(panel, controller)
    assert panel.code != before  # base unfrozen from "bn", two phases


def test_refresh_after_changes_behind_the_controllers_back(panel, controller):
    controller.base_model.get_layer("conv").trainable = False  # plain Keras: no hook runs
    assert panel.code != controller.export_code("script")
    panel.refresh()
    assert shows(panel, controller)


def test_an_export_failure_is_shown_and_cleared(panel, controller, monkeypatch):
    def broken(kind="script", **_):
        raise ValueError("cannot write layer 'x'")

    monkeypatch.setattr(controller, "export_code", broken)
    panel.refresh()
    assert panel.export_error == "Cannot export the experiment (ValueError): cannot write layer 'x'"
    assert panel.code == "" and panel.cell == ""
    monkeypatch.undo()
    panel.refresh()
    assert shows(panel, controller)


def test_close_stops_following(controller):
    widget = ExportPanel(controller)
    widget.close()
    before = widget.code
    controller.set("training.learning_rate", 0.0005)
    freeze_all(controller.base_model)
    assert widget.code == before


# -- load config: the panel's side, with the controller's load stubbed ---------------------


def test_a_load_goes_to_the_controller_and_a_refusal_is_shown(panel, controller, monkeypatch):
    ui = FrontEnd(panel)
    calls = []

    def refuse(config):
        calls.append(config)
        raise ConfigError(
            ["head.task must be one of 'multiclass', 'binary', 'multilabel', 'regression', got 'nope'"]
        )

    monkeypatch.setattr(controller, "load_config", refuse, raising=False)
    before = panel.code
    assert ui.click(type="load_config", name="bad.json", text='{"head": {"task": "nope"}}') == {
        "type": "load_done",
        "ok": False,
    }
    assert [c.head.task for c in calls] == ["nope"]  # the file's text, parsed
    assert panel.error == (
        "bad.json: the config has problems: head.task must be one of 'multiclass', "
        "'binary', 'multilabel', 'regression', got 'nope'"
    )
    assert panel.notice == "" and panel.code == before
    assert "ConfigError" in panel.last_traceback

    monkeypatch.setattr(controller, "load_config", lambda config: calls.append(config), raising=False)
    assert ui.click(type="load_config", name="good.json", text="{}") == {"type": "load_done", "ok": True}
    assert panel.error == "" and panel.notice == "Loaded good.json into the controller."


def test_a_load_while_training_is_refused_before_the_controller_is_asked(panel, controller, monkeypatch):
    ui = FrontEnd(panel)
    monkeypatch.setattr(
        controller, "load_config", lambda config: pytest.fail("asked while running"), raising=False
    )
    controller._set_state("running")  # as a run does; the event reaches the panel at once
    try:
        assert panel.running is True
        assert ui.click(type="load_config", name="saved.json", text="{}") == {
            "type": "load_done",
            "ok": False,
        }
        assert panel.error == (
            "saved.json: Cannot load a config while a run is running: stop the run or wait for "
            "it to finish, then load it again."
        )
        with pytest.raises(ControllerBusyError):
            panel.load_config("{}")
    finally:
        controller._set_state("finished")  # a run ends finished or failed, never idle
    assert panel.running is False


def test_bad_messages_are_answered_not_raised(panel):
    ui = FrontEnd(panel)
    assert ui.click(type="load_config", name="x.json") == {"type": "load_done", "ok": False}
    assert panel.error == "The view sent no file text to load; pick the file again."
    panel._on_front_end_msg(panel, {"type": "explode"}, [])
    assert (
        panel.error
        == "Unknown export panel message type 'explode': this view is out of date; re-run the cell."
    )


def test_a_huge_file_is_refused_without_parsing(panel, controller, monkeypatch):
    ui = FrontEnd(panel)
    monkeypatch.setattr(controller, "load_config", lambda config: pytest.fail("parsed"), raising=False)
    ui.click(type="load_config", name="big.json", text="x" * 5_000_001)
    assert panel.error.startswith("big.json: 5,000,001 characters is too large for a config")


# -- load config: the real controller ------------------------------------------------------


def test_load_config_happy_path(ui, panel, controller):
    saved = json.loads(controller.export_code("json"))
    saved["training"]["learning_rate"] = 0.0042
    saved["head"]["layers"] = [
        {"type": "global_average_pooling"},
        {"type": "dense", "units": 5, "activation": "relu"},
    ]
    reply = ui.click(type="load_config", name="transfer_config.json", text=json.dumps(saved))
    assert reply == {"type": "load_done", "ok": True}, panel.error
    assert panel.error == "" and panel.notice == "Loaded transfer_config.json into the controller."
    assert controller.config.training.learning_rate == 0.0042
    assert [s.type for s in controller.config.head.layers] == ["global_average_pooling", "dense"]
    assert "0.0042" in panel.code and "Dense(5" in panel.code
    assert shows(panel, controller)


def test_load_config_with_a_bad_field_names_it_and_changes_nothing(ui, panel, controller):
    before_config, before_code = controller.config.to_json(), panel.code
    bad = json.loads(before_config)
    bad["head"]["task"] = "nope"
    reply = ui.click(type="load_config", name="bad.json", text=json.dumps(bad))
    assert reply == {"type": "load_done", "ok": False}
    assert panel.error.startswith("bad.json: ")
    assert "head.task" in panel.error and "'nope'" in panel.error
    assert panel.notice == ""
    assert controller.config.to_json() == before_config
    assert panel.code == before_code


def test_load_config_that_is_not_json_says_so(ui, panel, controller):
    before_config = controller.config.to_json()
    ui.click(type="load_config", name="notes.json", text="{not json")
    assert panel.error.startswith("notes.json: ") and "JSON" in panel.error
    assert controller.config.to_json() == before_config


def test_a_file_text_is_never_taken_for_a_kernel_side_path(ui, panel, controller, tmp_path):
    saved = tmp_path / "saved.json"
    saved.write_text(controller.export_code("json"))
    ui.click(type="load_config", name="path.json", text=str(saved))
    assert "not valid JSON" in panel.error
