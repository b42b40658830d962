"""Freeze helpers in plain Keras, for exported scripts: codegen copies their source
into the script, so the script needs Keras alone. Their names differ from the
package's freezing API, so running an exported cell in a notebook does not
replace the package's ``freeze_all`` & co. (which also tell the layer trees).

They name layers by the paths :func:`base_layers` gives (``"inner_block/conv"``
for a layer of a nested model), the paths a :class:`~transfer_widgets.config.FreezePlan`
uses, and set the same flags as :mod:`transfer_widgets.model.freeze` (the layer
tree's version, which also groups blocks and tells views); tests hold the two to
that on the model corpus. The source is written as ``ruff format`` writes it at
its default 88 columns, since it lands in the script as is.
"""

import keras

# The code below lands in exported scripts as written (see the module docstring):
# it is formatted at 88 columns by hand, so the package's 110-column formatter
# leaves it alone. Its annotations name builtins and keras only, the names a script
# has, and its imports stay those of a script.
# fmt: off


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


def unfreeze_every_layer(model: keras.Model, keep_bn_frozen: bool = True) -> None:
    """Let every layer train. keep_bn_frozen: BatchNormalization layers stay frozen
    (their gamma / beta keep the pretrained values; the base's training=False keeps
    their moving statistics either way)."""
    flags = [
        not (keep_bn_frozen and is_batch_norm(layer)) for _, layer in base_layers(model)
    ]
    set_trainable_layers(model, flags)


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


def train_only(model: keras.Model, trainable_paths: list[str]) -> None:
    """Let exactly the layers at trainable_paths train; freeze every other layer."""
    rows = list(base_layers(model))
    unknown = [path for path in trainable_paths if path not in dict(rows)]
    if unknown:
        raise ValueError(f"not layers of {model.name!r}: {unknown!r}")
    listed = {id(layer) for path, layer in rows if path in trainable_paths}
    set_trainable_layers(model, [id(layer) in listed for _, layer in rows])
