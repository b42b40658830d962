"""Transfer learning, exported by transfer-widgets from a notebook session.

It rebuilds the experiment: the base model, which of its layers train, the
preprocessing and augmentation, the new head, the compile settings and the
phases of fit, then saves the trained model. The phases are those the session's
config plans (no run had started when it was exported). It needs Keras alone:
the helpers it defines are plain Keras, copied from transfer-widgets.
"""

import keras
from keras import layers

INPUT_SHAPE = (224, 224, 3)
BATCH_SIZE = 32
# Phase 1, head: the head trains with the base frozen.
HEAD_EPOCHS = 10
HEAD_LEARNING_RATE = 0.001
# Phase 2, fine_tune: the base trains too, at a lower learning rate.
FINE_TUNE_EPOCHS = 10
FINE_TUNE_LEARNING_RATE = 1e-05
CLASS_NAMES = [
    "daisy",
    "dandelion",
    "roses",
    "sunflowers",
    "tulips",
]
OUTPUT_PATH = "fine_tuned.keras"


DATA_DIRECTORY = "data/flowers"


def load_data():
    """Images in class sub-folders (keras.utils.image_dataset_from_directory)."""
    train = keras.utils.image_dataset_from_directory(
        DATA_DIRECTORY,
        image_size=(224, 224),
        batch_size=BATCH_SIZE,
        label_mode="int",
        seed=123,
        validation_split=0.2,
        subset="training",
    )
    val = keras.utils.image_dataset_from_directory(
        DATA_DIRECTORY,
        image_size=(224, 224),
        batch_size=BATCH_SIZE,
        label_mode="int",
        seed=123,
        validation_split=0.2,
        subset="validation",
    )
    return train, val


def base_layers(model: keras.Model, prefix: str = "") -> list[tuple[str, keras.Layer]]:
    """(path, layer) for each layer of model in order, nested models walked into."""
    rows = []
    for layer in model.layers:
        path = prefix + layer.name
        if isinstance(layer, keras.Model) and layer.layers:
            rows += base_layers(layer, path + "/")
        else:
            rows.append((path, layer))
    return rows


def set_trainable_layers(model: keras.Model, flags: list[bool]) -> None:
    """Set the trainable flag of each layer of base_layers(model), in that order.

    A (nested) model's own flag says whether anything in it trains. Keras passes a
    model's flag down to all its layers, so the models are set first, outermost
    first, and the layers after them. A layer shared by two sub-models appears
    twice: its later flag counts.
    """
    trains = {}
    for (_, layer), flag in zip(base_layers(model), flags, strict=True):
        trains[id(layer)] = (layer, bool(flag))

    def set_models(container: keras.Model) -> None:
        container.trainable = any(
            trains[id(layer)][1] for _, layer in base_layers(container)
        )
        for layer in container.layers:
            if isinstance(layer, keras.Model) and layer.layers:
                set_models(layer)

    set_models(model)
    for layer, flag in trains.values():
        layer.trainable = flag


def is_batch_norm(layer: keras.Layer) -> bool:
    """BatchNormalization layers: bulk unfreezing can keep them frozen."""
    return isinstance(layer, keras.layers.BatchNormalization)


def freeze_every_layer(model: keras.Model) -> None:
    """Freeze every layer."""
    set_trainable_layers(model, [False for _ in base_layers(model)])


def unfreeze_from(
    model: keras.Model, first_trainable: str, keep_bn_frozen: bool = True
) -> None:
    """Freeze the layers before first_trainable (a path); it and those after train.

    keep_bn_frozen: as in unfreeze_every_layer.
    """
    paths = [path for path, _ in base_layers(model)]
    if first_trainable not in paths:
        raise ValueError(f"{first_trainable!r} is not a layer of {model.name!r}")
    start = paths.index(first_trainable)
    ordered = [layer for _, layer in base_layers(model)]
    flags = [
        i >= start and not (keep_bn_frozen and is_batch_norm(layer))
        for i, layer in enumerate(ordered)
    ]
    set_trainable_layers(model, flags)


@keras.saving.register_keras_serializable(package="transfer_widgets")
class ImagenetPreprocessing(keras.layers.Layer):
    """``keras.applications.imagenet_utils.preprocess_input`` as a layer, so it is
    part of the saved model and runs inside the graph (``mode``: tf, torch, caffe).

    Exported scripts carry this class under the same registered name, so a model
    saved by the script or in the session loads in either.
    """

    def __init__(self, mode: str = "tf", **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.mode = mode

    def call(self, x: object) -> object:
        x = keras.ops.cast(x, self.compute_dtype)
        return keras.applications.imagenet_utils.preprocess_input(x, mode=self.mode)

    def compute_output_shape(
        self, input_shape: tuple[int | None, ...]
    ) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, object]:
        return {**super().get_config(), "mode": self.mode}


def pin_inference_mode(base: keras.Model, pinned: bool = True) -> None:
    """Make ``base(x, training=False)`` stick inside a functional model.

    Measured on Keras 3.15: a functional model passes its own ``training`` value to
    every sub-layer that takes one, overriding the ``training=False`` recorded when
    the base was called, so BatchNorm statistics drift during ``fit`` even though
    the Keras guide's recipe was followed. Removing ``training`` from the base's
    call-context arguments keeps the recorded value; an explicit
    ``base(x, training=True)`` still works. ``pinned=False`` undoes it (a base
    assembled again with ``training.base_training=True``).
    """
    args = getattr(base, "_call_context_args", None)
    if args is None or not getattr(base, "_call_has_training_arg", True):
        return
    if pinned and "training" in args:
        base._call_context_args = {a for a in args if a != "training"}
    elif not pinned and "training" not in args:
        base._call_context_args = {*args, "training"}


def load_base():
    """The pretrained backbone without its classifier (weights="imagenet"
    downloads them once)."""
    return keras.applications.MobileNetV2(
        include_top=False,
        weights="imagenet",
        input_shape=INPUT_SHAPE,
    )


def build_model():
    """Base, freeze plan, preprocessing and head, wired into one model."""
    base = load_base()
    # Freeze plan: the whole base is frozen.
    freeze_every_layer(base)

    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = inputs
    # Augmentation (active in training only), then the pixel preprocessing
    # the base expects.
    x = layers.RandomFlip("horizontal", name="augment_0_random_flip")(x)
    x = layers.RandomRotation(0.1, name="augment_1_random_rotation")(x)
    x = ImagenetPreprocessing("tf", name="preprocess_tf")(x)
    # The base runs in inference mode: BatchNorm keeps its pretrained statistics.
    # Keras 3 passes the outer model's training flag to a nested model, overriding
    # training=False; pin_inference_mode(base) makes it stick.
    pin_inference_mode(base)
    features = base(x, training=False)
    head = keras.Sequential(
        [
            keras.Input(features.shape[1:]),
            layers.GlobalAveragePooling2D(name="head_0_global_average_pooling"),
            layers.Dropout(0.2, name="head_1_dropout"),
            layers.Dense(64, activation="relu", name="head_2_dense"),
            layers.Dense(5, activation="softmax", name="predictions"),
        ],
        name="head",
    )
    model = keras.Model(inputs, head(features), name="transfer_model")
    return model, base, head


def compile_model(model, optimizer):
    """Compile with a fresh optimizer, as needed after every change of what trains."""
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def callbacks():
    """Callbacks for every fit."""
    return [
        # Stop on a NaN loss.
        keras.callbacks.TerminateOnNaN(),
        # Put back the best epoch's weights at the end (patience: never stop early).
        keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=HEAD_EPOCHS + FINE_TUNE_EPOCHS,
            restore_best_weights=True,
        ),
    ]


def train(model, base, head, train_data, validation_data):
    """The phases of fit, each compiled with a fresh optimizer."""

    # Phase 1, head: the head trains with the base frozen.
    optimizer = keras.optimizers.Adam(learning_rate=HEAD_LEARNING_RATE)
    compile_model(model, optimizer)
    model.fit(
        train_data,
        epochs=HEAD_EPOCHS,
        validation_data=validation_data,
        callbacks=callbacks(),
    )

    # Phase 2, fine_tune: the base trains too, at a lower learning rate.
    # Freeze plan: the layers before this one frozen, the rest trainable
    # (BatchNorm layers included).
    unfreeze_from(base, "block_13_expand", keep_bn_frozen=False)
    optimizer = keras.optimizers.Adam(learning_rate=FINE_TUNE_LEARNING_RATE)
    compile_model(model, optimizer)
    model.fit(
        train_data,
        epochs=FINE_TUNE_EPOCHS,
        validation_data=validation_data,
        callbacks=callbacks(),
    )


def main():
    keras.utils.set_random_seed(42)
    train_data, validation_data = load_data()
    model, base, head = build_model()
    train(model, base, head, train_data, validation_data)
    model.save(OUTPUT_PATH)
    print(f"Saved the trained model to {OUTPUT_PATH}")


if __name__ == "__main__":
    main()
