"""Records each ``Model.fit`` call as a phase: the model's trainable / non-trainable
parameter counts and optimizer (class, arguments, rate or schedule) as the fit
starts, the Keras callbacks and class weights it got, and its losses. Used in the
test process and, as source (``inspect.getsource``), in an exported script's process."""

import keras

PHASES: list = []
_FIT = keras.Model.fit
#: The callbacks a recipe can hold, recorded with their settings.
RECIPE_CALLBACKS = ("EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint")


def _count(variables) -> int:
    return int(sum(int(v.numpy().size) for v in variables))


def recording_fit(self, *args, **kwargs):
    opt = self.optimizer
    # mixed precision wraps the optimizer in a LossScaleOptimizer: record the one inside
    config = getattr(opt, "inner_optimizer", opt).get_config()
    rate = config.pop("learning_rate")
    phase = {
        "model": self.name,
        "epochs": kwargs.get("epochs", 1) - kwargs.get("initial_epoch", 0),
        "trainable": _count(self.trainable_weights),
        "non_trainable": _count(self.non_trainable_weights),
        "optimizer": type(opt).__name__,
        "optimizer_config": {k: v for k, v in config.items() if k != "name"},
        "learning_rate": rate if isinstance(rate, dict) else float(rate),
        "loss": keras.saving.serialize_keras_object(self.get_compile_config()["loss"]),
        "class_weight": {int(k): float(v) for k, v in (kwargs.get("class_weight") or {}).items()},
        "callbacks": sorted(
            [type(cb).__name__, cb.monitor, getattr(cb, "patience", None)]
            for cb in kwargs.get("callbacks") or []
            if type(cb).__name__ in RECIPE_CALLBACKS
        ),
    }
    history = _FIT(self, *args, **kwargs)
    phase["first_loss"] = float(history.history["loss"][0])
    phase["final_loss"] = float(history.history["loss"][-1])
    PHASES.append(phase)
    return history


def install() -> list:
    PHASES.clear()
    keras.Model.fit = recording_fit
    return PHASES


def uninstall() -> None:
    keras.Model.fit = _FIT
