"""A corpus of model shapes the layer tree must read correctly.

Each builder returns a fresh, built Keras model; `weights=None` everywhere since
pretrained weights cannot be downloaded on test machines.
"""

from __future__ import annotations

import keras
from keras import layers


def sequential_mlp():
    return keras.Sequential(
        [keras.Input((20,)), layers.Dense(16, activation="relu"), layers.Dropout(0.1), layers.Dense(3)],
        name="mlp",
    )


def sequential_in_sequential():
    inner = keras.Sequential([layers.Dense(8), layers.BatchNormalization(), layers.ReLU()], name="inner")
    return keras.Sequential([keras.Input((5,)), inner, layers.Dense(2)], name="outer")


def mobilenet_in_functional():
    base = keras.applications.MobileNetV2(
        weights=None, include_top=False, input_shape=(32, 32, 3), alpha=0.35
    )
    inputs = keras.Input((32, 32, 3))
    x = base(inputs, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(5, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="transfer")


def small_cnn_in_functional():
    """A small backbone with named blocks and BatchNorm, nested like a real base."""
    block_layers = []
    for b in (1, 2, 3):
        block_layers += [
            layers.Conv2D(4 * b, 3, padding="same", name=f"block_{b}_conv"),
            layers.BatchNormalization(name=f"block_{b}_bn"),
            layers.ReLU(name=f"block_{b}_relu"),
        ]
    base = keras.Sequential([keras.Input((8, 8, 3)), *block_layers], name="backbone")
    inputs = keras.Input((8, 8, 3))
    x = layers.GlobalAveragePooling2D()(base(inputs, training=False))
    return keras.Model(inputs, layers.Dense(3, name="head")(x), name="small_transfer")


def multi_input():
    a, b = keras.Input((4,), name="a"), keras.Input((6,), name="b")
    x = layers.Concatenate()([layers.Dense(3)(a), layers.Dense(3)(b)])
    return keras.Model([a, b], layers.Dense(1)(x), name="two_inputs")


def multi_output():
    inputs = keras.Input((8,))
    trunk = layers.Dense(8, activation="relu")(inputs)
    return keras.Model(inputs, [layers.Dense(2, name="head_a")(trunk), layers.Dense(3, name="head_b")(trunk)])


def shared_layer():
    shared = layers.Dense(4, name="shared_dense")
    a, b = keras.Input((4,)), keras.Input((4,))
    return keras.Model([a, b], layers.Add()([shared(a), shared(b)]), name="siamese")


def layer_shared_between_submodels():
    shared = layers.Dense(4, name="shared_dense")
    left = keras.Sequential([keras.Input((4,)), shared, layers.Dense(2)], name="left")
    right = keras.Sequential([keras.Input((4,)), shared, layers.Dense(2)], name="right")
    x = keras.Input((4,))
    return keras.Model(x, layers.Add()([left(x), right(x)]), name="two_towers")


class TinySubclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.body = layers.Dense(8, activation="relu")
        self.norm = layers.BatchNormalization()
        self.head = layers.Dense(2)

    def call(self, x, training=False):
        return self.head(self.norm(self.body(x), training=training))


class SubclassedWithOwnWeight(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(3)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(3,), initializer="ones", name="scale")
        self.dense.build(input_shape)

    def call(self, x):
        return self.dense(x) * self.scale


def subclassed():
    model = TinySubclassed(name="tiny_subclassed")
    model(keras.ops.zeros((2, 5)))
    return model


def subclassed_own_weight():
    model = SubclassedWithOwnWeight(name="own_weight")
    model(keras.ops.zeros((2, 5)))
    return model


def resnet50():
    return keras.applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))


def efficientnet_b0():
    return keras.applications.EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3))


def convnext_tiny():
    # ConvNeXt nests Sequential sub-models (stem, downsampling blocks).
    return keras.applications.ConvNeXtTiny(weights=None, include_top=False, input_shape=(32, 32, 3))


def three_levels():
    inner = keras.Sequential([keras.Input((6,)), layers.Dense(6), layers.BatchNormalization()], name="level3")
    x = keras.Input((6,))
    middle = keras.Model(x, layers.Dense(4)(inner(x)), name="level2")
    y = keras.Input((6,))
    return keras.Model(y, layers.Dense(1)(middle(y)), name="level1")


def loaded_from_file(tmp_dir):
    path = tmp_dir / "saved.keras"
    mobilenet_in_functional().save(path)
    return keras.models.load_model(path)


def weights_written_by_test(tmp_dir):
    path = tmp_dir / "weights.weights.h5"
    sequential_in_sequential().save_weights(path)
    model = sequential_in_sequential()
    model.load_weights(path)
    return model


BUILDERS = {
    f.__name__: f
    for f in [
        sequential_mlp,
        sequential_in_sequential,
        mobilenet_in_functional,
        small_cnn_in_functional,
        multi_input,
        multi_output,
        shared_layer,
        layer_shared_between_submodels,
        subclassed,
        subclassed_own_weight,
        resnet50,
        efficientnet_b0,
        convnext_tiny,
        three_levels,
    ]
}
FILE_BUILDERS = {f.__name__: f for f in [loaded_from_file, weights_written_by_test]}
