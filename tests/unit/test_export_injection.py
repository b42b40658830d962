"""Generated code is injection-safe: any string from the model or the user (layer names,
paths, class names, loss and metric names, dict keys) lands in the code as a literal.

For each generated experiment the code must parse, have exactly the structure of the same
export with harmless strings in their place (so no string became code, a comment line
or a docstring's end), keep every string verbatim, and define the constants with them."""

from __future__ import annotations

import ast
import copy
import functools
import json
import keyword
import os
import unicodedata

import keras
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transfer_widgets import FineTuneController, TransferConfig
from transfer_widgets.export import plan_from_controller, render
from transfer_widgets.export.plan import planned_run

HOSTILE = [
    '"); import os; os.system("echo pwned") #',
    "'); import os; os.system('echo pwned') #",
    '"""',
    "'''",
    "\\",
    "\\n",
    "\n",
    "\r\n",
    "\t",
    "\x00",
    "\x0b",
    "\u2028",
    "{x}",
    "{",
    "%s",
    "#",
    "a\nimport os\nos.system('x')",
    'x" + __import__("os").getcwd() + "',
    "\\'",
    '\\"',
    "é漢字",
    "🙂",
    "f'{1}'",
    "class",
    "None",
    "def",
    "name with spaces",
    "ﬀ",  # an identifier Python reads as "ff" (NFKC): no keyword argument name
]
strings = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(min_size=1, max_size=20),
    st.lists(st.sampled_from(HOSTILE), min_size=2, max_size=4).map("".join),
)


@functools.lru_cache(maxsize=1)
def base_plan():
    """A real plan (layers read from a built model) that the test fills with strings."""
    base = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, name="conv"),
            keras.layers.BatchNormalization(name="bn"),
        ],
        name="tiny",
    )
    c = TransferConfig()
    c.preprocessing.mode = "rescale"
    x = np.zeros((4, 8, 8, 3), "float32")
    ctl = FineTuneController(base, num_classes=3, train_data=(x, np.array([0, 1, 2, 0])), config=c)
    return plan_from_controller(ctl)


def benign(s: str, i: int) -> str:
    """A harmless stand-in that writes the same way (a keyword argument name or not)."""
    if s.isidentifier() and not keyword.iskeyword(s) and unicodedata.normalize("NFKC", s) == s:
        return f"k{i}"
    return f"s {i}"


def make_plan(values: list[str], base_source: str, data_source: str, freeze_kind: str, two_phase: bool):
    """The plan with ``values`` put in its string fields; returns (plan, the strings the code must hold)."""
    pending = iter(values)
    placed: list[str] = []

    def take() -> str:
        placed.append(next(pending))
        return placed[-1]

    plan = copy.deepcopy(base_plan())
    c = plan.config
    c.base.source = base_source
    if base_source == "model":
        plan.base_file = take().replace(os.sep, "_") + "_base.keras"  # as export_script names it
        placed[-1] = plan.base_file
    elif base_source == "file":
        c.base.path = take()
    else:
        c.base.name, c.base.weights = "MobileNetV2", take()
        c.base.kwargs = {take(): take()}
    c.freeze.kind = freeze_kind
    if freeze_kind == "explicit":
        c.freeze.trainable = [take(), take()]
    else:
        c.freeze.boundary = take()
    if two_phase:  # the base starts frozen for the head: the plan before it is not in the code
        del placed[-(2 if freeze_kind == "explicit" else 1) :]
    c.training.fine_tune.unfreeze_from = take()
    if not two_phase:
        placed.pop()  # only the second phase names it
    c.training.restore_best, c.training.monitor = True, take()
    c.training.callbacks = [{"class_name": "EarlyStopping", "config": {"monitor": take()}}]
    c.head.class_names = [take(), take()]
    c.head.loss, c.head.metrics = take(), [take()]
    c.data.source = data_source
    if data_source == "directory":
        c.data.directory, c.data.image_size, c.data.label_mode = take(), (8, 8), take()
    elif data_source == "demo":
        c.data.demo, c.data.demo_kwargs = "digits", {take(): take()}  # only known demos export
    plan.head[0].name = take()
    plan.head[-1].kwargs["activation"] = take()
    plan.preprocessing[0].name = take()
    plan.run = planned_run(c, plan.label_mode, two_phase=two_phase)
    plan.run.unexported_callbacks = [take()]
    plan.build_freeze = plan.run.phases[0].freeze
    return plan, placed


def code_of(plan, kind: str) -> str:
    text = render(plan, kind)
    if kind == "notebook":
        cells = json.loads(text)["cells"]
        text = "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    return text


class _Shape(ast.NodeTransformer):
    """Strings and keyword names blanked: what is left is the code's structure."""

    def visit_Constant(self, node):
        return ast.Constant("") if isinstance(node.value, str) else node

    def visit_keyword(self, node):
        self.generic_visit(node)
        if node.arg is not None:
            node.arg = "_"
        return node


def shape(tree) -> str:
    return ast.dump(_Shape().visit(copy.deepcopy(tree)))


def literals(tree) -> set[str]:
    found = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return found | {n.arg for n in ast.walk(tree) if isinstance(n, ast.keyword) and n.arg}


N_STRINGS = 24


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(strings, min_size=N_STRINGS, max_size=N_STRINGS),
    base_source=st.sampled_from(["model", "file", "application"]),
    data_source=st.sampled_from(["arrays", "directory", "demo", "tf.data"]),
    freeze_kind=st.sampled_from(["explicit", "boundary"]),
    two_phase=st.booleans(),
)
def test_hostile_strings_stay_literals(values, base_source, data_source, freeze_kind, two_phase):
    plan, placed = make_plan(values, base_source, data_source, freeze_kind, two_phase)
    safe, _ = make_plan(
        [benign(s, i) for i, s in enumerate(values)], base_source, data_source, freeze_kind, two_phase
    )
    for kind in ("script", "cell", "notebook"):
        text = code_of(plan, kind)
        tree = ast.parse(text)
        assert shape(tree) == shape(ast.parse(code_of(safe, kind))), kind
        missing = set(placed) - literals(tree)
        assert not missing, f"{kind}: not in the code verbatim: {missing!r}"
        if kind == "script":
            ns = {"__name__": "exported", "__file__": os.path.join(os.sep, "nowhere", "train.py")}
            exec(compile(tree, "train.py", "exec"), ns)
            assert ns["CLASS_NAMES"] == plan.config.head.class_names
            if freeze_kind == "explicit" and not two_phase:
                assert ns["TRAINABLE_LAYERS"] == plan.config.freeze.trainable
            if data_source == "directory":
                assert ns["DATA_DIRECTORY"] == plan.config.data.directory
            if base_source == "file":
                assert ns["BASE_PATH"] == plan.config.base.path
            elif base_source == "model":
                assert ns["BASE_PATH"].name == plan.base_file
