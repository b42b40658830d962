"""The one line of a run's recipe the training monitor shows under its status."""

from __future__ import annotations

from transfer_widgets.monitor.format import recipe_line
from transfer_widgets.run_record import PhaseRecord, RunRecord


def record(**run) -> RunRecord:
    phase = run.pop("phase", {})
    return RunRecord(
        run=1,
        kind="fit",
        phases=[PhaseRecord("fit", 3, 0.01, **({"optimizer": "adam"} | phase))],
        batch_size=32,
        seed=None,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        **run,
    )


def test_the_recipe_line_says_optimizer_arguments_schedule_and_class_weights():
    r = record(
        phase={
            "optimizer": "SGD",
            "optimizer_args": {"momentum": 0.9, "nesterov": True},
            "lr_schedule": {
                "class_name": "CosineDecay",
                "config": {
                    "initial_learning_rate": 0.01,
                    "decay_steps": 1000,
                    "alpha": 0.0,
                    "warmup_steps": 50,
                    "warmup_target": 0.1,
                },
            },
        },
        class_weight={"0": 1.0, "1": 3.0},
    )
    assert recipe_line(r) == (
        "SGD · momentum 0.9, nesterov · cosine decay over 1000 steps (alpha 0) with 50-step warm-up "
        "to 0.1 · class weights 0:1, 1:3"
    )


def test_the_recipe_line_names_callbacks_logits_and_mixed_precision_and_leaves_out_the_rest():
    assert recipe_line(record()) == "adam"
    r = record(
        callbacks=[{"class_name": "EarlyStopping", "config": {"patience": 2}}],
        mixed_precision=True,
    )
    r.loss = {"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": True}}
    r.phases[0].optimizer_args = {"weight_decay": 0.0001, "clipnorm": 1.0}
    assert recipe_line(r) == (
        "adam · weight_decay 0.0001, clipnorm 1 · EarlyStopping · logits output · mixed precision"
    )
