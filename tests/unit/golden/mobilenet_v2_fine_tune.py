"""Transfer learning, exported by transfer-widgets from a notebook session.

It rebuilds the experiment: the base model, which of its layers train, the
preprocessing and augmentation, the new head, the compile settings and the
phases of fit, then saves the trained model.
"""

import keras
from keras import layers
from transfer_widgets import freeze_all, freeze_up_to
from transfer_widgets.model.assemble import ImagenetPreprocessing, pin_inference_mode

INPUT_SHAPE = (224, 224, 3)
BATCH_SIZE = 32
LEARNING_RATE = 0.001
HEAD_EPOCHS = 10
FINE_TUNE_EPOCHS = 10
FINE_TUNE_LEARNING_RATE = LEARNING_RATE * 0.1
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
    freeze_all(base)

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


def compile_model(model, learning_rate):
    """Compile with a fresh optimizer, as needed after every change of what trains."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
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
    """The phases of fit, each compiled with its learning rate."""

    # Phase 1: train the head with the base frozen.
    freeze_all(base)
    compile_model(model, LEARNING_RATE)
    model.fit(
        train_data,
        epochs=HEAD_EPOCHS,
        validation_data=validation_data,
        callbacks=callbacks(),
    )

    # Phase 2: unfreeze the base from this layer on (BatchNorm layers stay frozen)
    # and train at a lower learning rate.
    freeze_up_to(base, "block_13_expand", keep_bn_frozen=True)
    compile_model(model, FINE_TUNE_LEARNING_RATE)
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
