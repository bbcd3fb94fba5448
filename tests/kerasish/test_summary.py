"""``model.summary()``: the exact text Keras 3.15 prints (as observed on Keras 3.15).

The tables marked "from Keras" are copied from real Keras 3.15 runs. The
other expected tables were checked against a throwaway port of Keras's ``print_summary`` drawn
with the real ``rich`` library (rich is not a dependency of kerasish, so it is not used here).
"""
import io
import re
import sys

import numpy as np
import pytest

import kerasish
from kerasish import Input, Layer, Model, Sequential
from kerasish.layers import Dense
from kerasish.models import _table as table_mod
from kerasish.models import summary as summary_mod
from kerasish.models.summary import print_summary, readable_memory_size


# ----------------------------------------------------------------------------------------------
# Small weightless / fixed-weight layers standing in for layers written elsewhere.
# ----------------------------------------------------------------------------------------------
class Dropout(Layer):
    """A weightless pass-through layer (stands in for keras.layers.Dropout in the tables)."""

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class Concatenate(Layer):
    def call(self, inputs):
        return inputs[0]

    def compute_output_shape(self, input_shape):
        return input_shape[0][:-1] + (sum(s[-1] for s in input_shape),)


class BatchNormalization(Layer):
    """Same weights as Keras's BatchNormalization: gamma, beta trainable; moving stats not."""

    def build(self, input_shape):
        n = input_shape[-1]
        self.gamma = self.add_weight((n,), "ones", name="gamma")
        self.beta = self.add_weight((n,), "zeros", name="beta")
        self.moving_mean = self.add_weight((n,), "zeros", name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight((n,), "ones", name="moving_variance",
                                               trainable=False)

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class Split(Layer):
    def call(self, inputs):
        return [inputs, inputs]

    def compute_output_shape(self, input_shape):
        return [input_shape[:-1] + (2,), input_shape[:-1] + (3,)]


class FakeAdam:
    """What summary reads from an optimizer: ``built`` and ``variables`` (Adam's layout)."""

    def __init__(self, model, built=True):
        self.built = built
        self.variables = [np.zeros((), np.int64), np.zeros((), np.float32)] + [
            np.zeros(w.shape, np.float32) for w in model.trainable_weights for _ in range(2)]


class TTY(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def _no_terminal(monkeypatch):
    """No terminal, 80 columns: Keras's L = 76 (the fallback size minus 4)."""
    monkeypatch.setenv("COLUMNS", "80")
    for var in ("TTY_COMPATIBLE", "FORCE_COLOR", "NO_COLOR", "COLORTERM"):
        monkeypatch.delenv(var, raising=False)


def capture(model, **kwargs):
    calls = []
    model.summary(print_fn=calls.append, **kwargs)
    assert len(calls) == 1
    return calls[0]


def mlp(dropout_cls=Dropout):
    layer = dropout_cls(0.5, name="dropout") if dropout_cls is not Dropout else \
        Dropout(name="dropout")
    return Sequential([Input((8,)), Dense(16, name="dense"), layer, Dense(3, name="dense_1")],
                      name="sequential")


MLP_TABLE = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 16)             │           144 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout (Dropout)               │ (None, 16)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 3)              │            51 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 587 (2.30 KB)
 Trainable params: 195 (780.00 B)
 Non-trainable params: 0 (0.00 B)
 Optimizer params: 392 (1.54 KB)
"""


# ----------------------------------------------------------------------------------------------
# The Sequential MLP (from Keras).
# ----------------------------------------------------------------------------------------------
def test_sequential_mlp_with_kerasish_dropout_exact(capsys):
    model = mlp(kerasish.layers.Dropout)
    model.optimizer = FakeAdam(model)
    model.summary()
    assert capsys.readouterr().out == MLP_TABLE


def test_sequential_mlp_exact_to_stdout(capsys):
    model = mlp()
    model.optimizer = FakeAdam(model)
    model.summary()
    out = capsys.readouterr().out
    assert out == MLP_TABLE
    assert "\x1b" not in out
    assert all(line == line.rstrip() for line in out.splitlines())


def test_print_fn_gets_one_string_and_nothing_is_printed(capsys):
    model = mlp()
    model.optimizer = FakeAdam(model)
    assert capture(model) == MLP_TABLE
    assert capsys.readouterr().out == ""
    lines = []
    print_summary(model, print_fn=lines.append)
    assert lines == [MLP_TABLE]


def test_optimizer_line_only_once_the_optimizer_is_built():
    model = mlp()
    text = capture(model)
    assert "Optimizer" not in text
    assert text.endswith(" Total params: 195 (780.00 B)\n Trainable params: 195 (780.00 B)\n"
                         " Non-trainable params: 0 (0.00 B)\n")
    model.optimizer = FakeAdam(model, built=False)  # compiled, not trained yet
    assert "Optimizer" not in capture(model)
    model.optimizer = FakeAdam(model)
    assert " Optimizer params: 392 (1.54 KB)\n" in capture(model)


# ----------------------------------------------------------------------------------------------
# Functional models: InputLayer rows, Connected to, wrapping inside cells.
# ----------------------------------------------------------------------------------------------
def two_input_model():
    a = Input((4,), name="a")
    b = Input((6,), name="b")
    da = Dense(6, name="da")(a)
    db = Dense(6, name="db")(b)
    merged = Concatenate(name="concatenate")([da, db])
    return Model([a, b], Dense(2, name="out")(merged), name="two_in")


def test_two_input_functional_table():
    text = capture(two_input_model())
    # The header, the a/da rows and the wrapped concatenate row are from Keras.
    assert text == """\
Model: "two_in"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ a (InputLayer)      │ (None, 4)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ b (InputLayer)      │ (None, 6)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ da (Dense)          │ (None, 6)         │         30 │ a[0][0]           │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ db (Dense)          │ (None, 6)         │         42 │ b[0][0]           │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concatenate         │ (None, 12)        │          0 │ da[0][0],         │
│ (Concatenate)       │                   │            │ db[0][0]          │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ out (Dense)         │ (None, 2)         │         26 │ concatenate[0][0] │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 98 (392.00 B)
 Trainable params: 98 (392.00 B)
 Non-trainable params: 0 (0.00 B)
"""


def test_plain_chain_functional_is_sequential_like():
    x = Input((8,), name="x")
    model = Model(x, Dense(2, name="d2")(Dense(4, name="d1")(x)), name="chain")
    text = capture(model)
    assert "Connected to" not in text
    assert "│ x (InputLayer)                  │ (None, 8)              │             0 │" in text
    assert text.splitlines()[1] == "┏" + "━" * 33 + "┳" + "━" * 24 + "┳" + "━" * 15 + "┓"


def test_shared_layer_and_multi_output_layer():
    x = Input((5,), name="x")
    shared = Dense(5, name="shared")
    first, second = Split(name="split")(shared(shared(x)))
    model = Model(x, [first, second], name="shared_model")
    text = capture(model, line_length=100)
    # one row per layer; a shared layer lists the inputs of all its calls in this model
    assert "│ shared (Dense)              │ (None, 5)               │             30 │ x[0][" \
        in text.splitlines()
    narrow = capture(model, line_length=76)
    assert "│ shared (Dense)      │ (None, 5)         │         30 │ x[0][0],          │\n" \
           "│                     │                   │            │ shared[0][0]      │" \
        in narrow
    assert "│ split (Split)       │ [(None, 2),       │          0 │ shared[1][0]      │\n" \
           "│                     │ (None, 3)]        │            │                   │" \
        in narrow


# ----------------------------------------------------------------------------------------------
# Nested models, expand_nested, show_trainable.
# ----------------------------------------------------------------------------------------------
def nested_model():
    inner = Sequential([Input((8,)), Dense(4, name="dense_2"),
                        BatchNormalization(name="batch_normalization")], name="inner")
    x = Input((8,), name="x")
    return Model(x, Dense(1, name="head")(inner(x)), name="outer")


def test_nested_model_is_one_row():
    text = capture(nested_model())
    assert "│ inner (Sequential)              │ (None, 4)              │            52 │" in text
    assert "dense_2" not in text
    assert text.endswith(" Total params: 57 (228.00 B)\n Trainable params: 49 (196.00 B)\n"
                         " Non-trainable params: 8 (32.00 B)\n")


def test_expand_nested_and_show_trainable():
    text = capture(nested_model(), expand_nested=True, show_trainable=True)
    lines = text.splitlines()
    assert lines[2] == "┃ Layer (type)                ┃ Output Shape          ┃    Param # ┃ Trai… ┃"  # noqa: E501
    # from Keras:
    assert """\
│ inner (Sequential)          │ (None, 4)             │         52 │   Y   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│    └ dense_2 (Dense)        │ (None, 4)             │         36 │   Y   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│    └ batch_normalization    │ (None, 4)             │         16 │   Y   │
│ (BatchNormalization)        │                       │            │       │
""" in text
    assert "│ x (InputLayer)              │ (None, 8)             │          0 │   -   │" in text


def test_trainable_column_values():
    x = Input((2,), name="x")
    frozen = Dense(3, name="frozen")
    model = Model(x, Dropout(name="drop")(frozen(x)), name="frozen_model")
    frozen.trainable = False
    text = capture(model, show_trainable=True)
    assert "│ frozen (Dense)              │ (None, 3)             │          9 │   N   │" in text
    assert "│ drop (Dropout)              │ (None, 3)             │          0 │   -   │" in text
    assert "│ x (InputLayer)              │ (None, 2)             │          0 │   -   │" in text
    assert " Trainable params: 0 (0.00 B)\n Non-trainable params: 9 (36.00 B)\n" in text


# ----------------------------------------------------------------------------------------------
# Widths.
# ----------------------------------------------------------------------------------------------
def cell_widths(text):
    top = text.splitlines()[1]
    return [len(part) for part in top[1:-1].replace("┳", " ").split(" ")]


def test_cell_widths_for_each_line_length(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a console wide enough for the widest table
    assert cell_widths(capture(mlp(), line_length=76)) == [33, 24, 15]
    assert cell_widths(capture(mlp(), line_length=88)) == [38, 29, 17]
    assert cell_widths(capture(two_input_model(), line_length=76)) == [21, 19, 12, 19]
    assert cell_widths(capture(two_input_model(), line_length=108)) == [31, 27, 17, 28]
    assert cell_widths(capture(nested_model(), show_trainable=True, line_length=76)) == \
        [29, 23, 12, 7]
    for text in (capture(mlp(), line_length=88), capture(two_input_model(), line_length=108)):
        widths = {len(line) for line in text.splitlines()[1:-3]}
        assert widths == {88} or widths == {108}


def test_default_line_length(monkeypatch):
    assert len(capture(mlp()).splitlines()[1]) == 76  # no terminal: 80 columns - 4
    monkeypatch.setenv("COLUMNS", "200")
    assert len(capture(mlp()).splitlines()[1]) == 88
    assert len(capture(mlp(), show_trainable=True).splitlines()[1]) == 100
    assert len(capture(two_input_model()).splitlines()[1]) == 108
    assert len(capture(two_input_model(), show_trainable=True).splitlines()[1]) == 120
    monkeypatch.setenv("COLUMNS", "64")
    assert len(capture(two_input_model()).splitlines()[1]) == 60


def test_table_wider_than_the_console_is_cropped():
    # Keras's rich console crops its lines at the console width (80 without a terminal).
    text = capture(two_input_model(), line_length=108)
    lines = text.splitlines()
    assert lines[1] == "┏" + "━" * 31 + "┳" + "━" * 27 + "┳" + "━" * 17 + "┳━"
    assert max(len(line) for line in lines) == 80
    assert lines[1].endswith("┳━")


def test_custom_positions():
    text = capture(mlp(), positions=[0.5, 0.7, 1.0], line_length=60)
    assert cell_widths(text) == [29, 10, 17]
    assert "┃                             ┃ Output   ┃                 ┃\n" \
           "┃ Layer (type)                ┃ Shape    ┃         Param # ┃" in text  # bottom-aligned
    assert "│ dense (Dense)               │ (None,   │             144 │\n" \
           "│                             │ 16)      │                 │" in text


def test_long_names_wrap_at_spaces_and_long_words_are_cut():
    x = Input((3,), name="x")
    model = Model(x, Dense(2, name="a_really_long_layer_name_without_spaces")(x), name="m")
    text = capture(model)
    assert "│ a_really_long_layer_name_witho… │ (None, 2)              │             8 │\n" \
           "│ (Dense)                         │                        │               │" in text


def test_insufficient_width():
    with pytest.raises(ValueError, match="Insufficient console width to print summary."):
        capture(mlp(), line_length=10)


# ----------------------------------------------------------------------------------------------
# Unbuilt layers, layer_range, sizes.
# ----------------------------------------------------------------------------------------------
def test_unbuilt_layers():
    model = Sequential([Dense(4, name="d1"), Dense(2, name="d2")], name="unbuilt")
    text = capture(model)
    assert "│ d1 (Dense)                      │ ?                      │   0 (unbuilt) │" in text
    assert "│ d2 (Dense)                      │ ?                      │   0 (unbuilt) │" in text
    assert " Total params: 0 (0.00 B)\n" in text


def test_layer_range():
    model = two_input_model()
    text = capture(model, layer_range=["da", "concatenate"])
    names = re.findall(r"^│ (\w+)", text, re.MULTILINE)
    assert names == ["da", "db", "concatenate"]
    assert capture(model, layer_range=["d.", "c.*"]) == text
    with pytest.raises(ValueError, match="layer_range must be a list or tuple of length 2"):
        capture(model, layer_range=["a"])
    with pytest.raises(ValueError, match="Passed layer_names do not match"):
        capture(model, layer_range=["nope", "out"])


def test_readable_memory_size():
    assert readable_memory_size(780) == "780.00 B"
    assert readable_memory_size(1572) == "1.54 KB"
    assert readable_memory_size(2002000 * 4) == "7.64 MB"
    assert readable_memory_size(1023) == "1023.00 B"
    assert readable_memory_size(1024) == "1.00 KB"
    assert readable_memory_size(3 * 1024 ** 3) == "3.00 GB"


def test_large_counts_have_thousands_separators():
    model = Sequential([Input((1000,)), Dense(1000, name="h1"), Dense(1000, name="h2")],
                       name="big")
    text = capture(model)
    assert "│ h1 (Dense)                      │ (None, 1000)           │     1,001,000 │" in text
    assert " Total params: 2,002,000 (7.64 MB)\n" in text


def test_memory_counts_dtypes():
    weights = [np.zeros((10,), np.float32), np.zeros((3,), np.int64), np.zeros((8,), bool)]
    assert summary_mod.weight_memory_size(weights) == 40 + 24 + 1
    assert summary_mod.count_params(weights) == 21


# ----------------------------------------------------------------------------------------------
# Styling on a terminal.
# ----------------------------------------------------------------------------------------------
def test_ansi_codes_only_on_a_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    tty = TTY()
    monkeypatch.setattr(sys, "stdout", tty)
    model = mlp()
    model.summary()
    out = tty.getvalue()
    assert out.startswith('\x1b[1mModel: "sequential"\x1b[0m\n')
    assert "┃\x1b[1m \x1b[0m\x1b[1mLayer (type)                   \x1b[0m\x1b[1m \x1b[0m┃" in out
    assert "│ dense (\x1b[94mDense\x1b[0m)                   │ (\x1b[96mNone\x1b[0m, " \
           "\x1b[32m16\x1b[0m)             │           \x1b[32m144\x1b[0m │" in out
    assert "\x1b[1m Total params: \x1b[0m\x1b[32m195\x1b[0m (780.00 B)\n" in out
    # the same model with print_fn, or to a file, is plain text
    assert "\x1b" not in capture(model)


def test_ansi_256_colors(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    tty = TTY()
    monkeypatch.setattr(sys, "stdout", tty)
    nested_model().summary(show_trainable=True)
    out = tty.getvalue()
    assert "(\x1b[38;5;33mSequential\x1b[0m)" in out
    assert "\x1b[1;38;5;34mY\x1b[0m" in out
    assert "\x1b[1m-\x1b[0m" in out


# ----------------------------------------------------------------------------------------------
# The wrapping rules themselves.
# ----------------------------------------------------------------------------------------------
def wrap(text, width, justify="left", overflow="ellipsis"):
    return [line.plain for line in
            table_mod._wrap(summary_mod._Text(text), width, justify, overflow)]


def test_wrap_rules():
    assert wrap("concatenate (Concatenate)", 19) == ["concatenate        ", "(Concatenate)      "]
    assert wrap("da[0][0], db[0][0]", 17) == ["da[0][0],        ", "db[0][0]         "]
    assert wrap("Param #", 10, "right") == ["   Param #"]
    assert wrap("Trainable", 5, "center") == ["Trai…"]
    assert wrap("Y", 5, "center") == ["  Y  "]
    assert wrap("abcdefghij k", 4) == ["abc…", "k   "]
    assert wrap("abcdefghij k", 4, "default", "fold") == ["abcd", "efgh", "ij k"]
    assert wrap("abcdefghij kl", 4, "default", "fold") == ["abcd", "efgh", "ij ", "kl"]


def test_table_width_reduction():
    # rich: fixed widths + 1 space of padding a side, reduced evenly (Python's round) to fit.
    assert table_mod._table_widths([34, 26, 16], 76) == [33, 24, 15]
    assert table_mod._table_widths([22, 20, 14, 20], 76) == [21, 19, 12, 19]
    assert table_mod._table_widths([32, 28, 19, 29], 108) == [31, 27, 17, 28]
