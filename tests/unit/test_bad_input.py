"""Bad input gets a clear error that says what to pass."""

import keras
import numpy as np
import pytest

from transfer_widgets import LayerTree, UnknownLayerError, freeze_up_to, inspect_model, set_trainable

from .model_corpus import BUILDERS


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (np.zeros((2, 2)), "numpy.ndarray"),
        ("mobilenet", "builtins.str"),
        (None, "NoneType"),
        (keras.layers.Dense(3), "Wrap a single layer"),
    ],
)
def test_not_a_model_is_a_type_error(value, needle):
    with pytest.raises(TypeError, match="Expected a Keras 3 model") as info:
        inspect_model(value)
    assert needle in str(info.value)


def test_unbuilt_sequential_says_how_to_build_it():
    with pytest.raises(ValueError, match=r"not built yet.*keras\.Input"):
        inspect_model(keras.Sequential([keras.layers.Dense(3)]))


def test_empty_model_is_a_value_error():
    with pytest.raises(ValueError, match="has no layers"):
        inspect_model(keras.Sequential())


def test_widget_validates_before_it_exists():
    with pytest.raises(TypeError, match="Expected a Keras 3 model"):
        LayerTree([1, 2, 3])


def test_unknown_layer_names_the_closest_matches():
    model = BUILDERS["mobilenet_in_functional"]()
    with pytest.raises(UnknownLayerError, match=r"No layer or block 'block_13_expnd'.*'block_13_expand'"):
        set_trainable(model, "block_13_expnd", True)
    with pytest.raises(UnknownLayerError, match="Closest matches"):
        freeze_up_to(model, "blok_13_*")


def test_ambiguous_name_asks_for_a_path():
    model = BUILDERS["layer_shared_between_submodels"]()
    with pytest.raises(
        UnknownLayerError, match=r"names 2 layers; pass one of their paths: 'two_towers/left/shared_dense'"
    ):
        set_trainable(model, "shared_dense", False)


def test_path_must_be_a_string():
    with pytest.raises(TypeError, match="name or path"):
        set_trainable(BUILDERS["sequential_mlp"](), 3, True)
