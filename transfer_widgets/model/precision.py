"""Mixed precision for a built model: float16 compute with float32 variables in every
layer, the output layer kept in float32 so the loss sees float32 values.

Keras fixes a layer's dtype policy when the layer is made, so the global policy alone
does not reach a base that was loaded or passed in; setting each layer's policy does.
:func:`set_mixed_precision` is copied into exported code as written (Keras only).
"""

import keras


# fmt: off
def set_mixed_precision(model: keras.Model, output_layer: str = "predictions") -> None:
    """Give model and every layer in it, nested models included, the "mixed_float16"
    dtype policy, except the layer named output_layer, which computes in float32.
    Keras then compiles the model with a loss-scaling optimizer. It pays off on GPUs
    with float16 units; on a CPU it is slower."""
    model.dtype_policy = "mixed_float16"
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            set_mixed_precision(layer, output_layer)
        elif not isinstance(layer, keras.layers.InputLayer):
            mixed = layer.name != output_layer
            layer.dtype_policy = "mixed_float16" if mixed else "float32"
# fmt: on
