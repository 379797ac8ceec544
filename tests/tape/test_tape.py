"""GradientTape/Variable semantics and the TensorFlow seed snippets (002) with ``gradkit.tf``."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import gradkit.tf as tf
from gradkit.tape import GradientTape, Variable

SEED_SCALAR = """
def f(x):
    return x**2
x = tf.Variable(3.0)
with tf.GradientTape() as tape:
    y = f(x)
dy_dx = tape.gradient(y, x)
print(dy_dx)
"""

SEED_MODEL = """
W = tf.Variable([0.5], dtype=tf.float32)
b = tf.Variable([0.5], dtype=tf.float32)
def model(x):
    return W * x + b
def loss(y_true, y_pred):
    return tf.reduce_mean(tf.square(y_true - y_pred))
x = tf.constant([1.0, 2.0, 3.0, 4.0], dtype=tf.float32)
y_true = tf.constant([0.0, -1.0, -2.0, -3.0], dtype=tf.float32)
with tf.GradientTape() as tape:
    y_pred = model(x)
    current_loss = loss(y_true, y_pred)
dW, db = tape.gradient(current_loss, [W, b])
print("dW:", dW.numpy(), "db:", db.numpy())
"""


def run(src):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(src, {"tf": tf})
    return out.getvalue()


def test_seed_snippets_print_like_tensorflow():
    # What TensorFlow 2 prints for the two snippets of seed 002.
    assert run(SEED_SCALAR) == "tf.Tensor(6.0, shape=(), dtype=float32)\n"
    assert run(SEED_MODEL) == "dW: [20.] db: [6.5]\n"


def test_tensor_printing():
    assert str(tf.constant([[1.0, 2.0], [3.0, 4.0]])) == \
        "tf.Tensor(\n[[1. 2.]\n [3. 4.]], shape=(2, 2), dtype=float32)"
    assert repr(tf.constant(2.0)) == "<tf.Tensor: shape=(), dtype=float32, numpy=2.0>"
    assert repr(tf.Variable(3.0)) == "<tf.Variable 'Variable:0' shape=() dtype=float32, numpy=3.0>"


def test_constants_need_watch():
    c = tf.constant(2.0)
    with GradientTape() as t:
        y = c * c
    assert t.gradient(y, c) is None
    with GradientTape() as t:
        t.watch(c)
        y = c * c
    assert float(t.gradient(y, c)) == 4.0
    assert not c.requires_grad            # the tape's mark is gone once it exits


def test_non_persistent_raises_on_second_use():
    x = Variable(2.0)
    with GradientTape() as t:
        y = x * x
    t.gradient(y, x)
    with pytest.raises(RuntimeError, match="A non-persistent GradientTape can only be used to compute "
                                           r"one set of gradients \(or jacobians\)"):
        t.gradient(y, x)


def test_persistent_structures_and_unconnected():
    x, z = Variable([1.0, 2.0]), Variable(5.0)
    with GradientTape(persistent=True) as t:
        y = (x * x).sum()
    g = t.gradient(y, {"x": x, "z": [z]})
    assert g["z"][0] is None and g["x"].tolist() == [2.0, 4.0]
    g = t.gradient(y, [x, z], unconnected_gradients="zero")
    assert float(g[1]) == 0.0
    assert t.gradient(y, x, output_gradients=np.float32(3.0)).tolist() == [6.0, 12.0]


def test_watch_accessed_variables_false_and_trainable():
    x, frozen = Variable(3.0), Variable(4.0, trainable=False)
    with GradientTape(watch_accessed_variables=False) as t:
        y = x * x
    assert t.gradient(y, x) is None
    with GradientTape(watch_accessed_variables=False) as t:
        t.watch(x)
        y = x * x
    assert float(t.gradient(y, x)) == 6.0
    with GradientTape() as t:
        y = frozen * x
    assert t.gradient(y, frozen) is None


def test_nested_tapes_second_derivative():
    x = Variable(2.0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = x * x * x
        dy = inner.gradient(y, x)
    assert float(dy) == 12.0 and float(outer.gradient(dy, x)) == 12.0


def test_jacobian_and_batch_jacobian():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
    J = t.jacobian(y, x)
    assert tuple(J.shape) == (2, 2, 2, 2) and float(J[1, 0, 1, 0]) == 6.0
    bj = t.batch_jacobian(y, x)
    np.testing.assert_allclose(bj.numpy(), [[[2, 0], [0, 4]], [[6, 0], [0, 8]]])


def test_stop_recording_and_reset():
    x = Variable(3.0)
    with GradientTape(persistent=True) as t:
        with t.stop_recording():
            y = x * x
        z = x * 2
    assert t.gradient(y, x) is None and float(t.gradient(z, x)) == 2.0
    c = tf.constant(1.0)
    with GradientTape() as t:
        t.watch(c)
        t.reset()
        y = c * c
    assert t.gradient(y, c) is None


def test_variable_assign():
    v = Variable([1.0, 2.0], name="v")
    v.assign([3.0, 4.0])
    v.assign_add([1.0, 1.0])
    v.assign_sub(np.array([0.5, 0.5], dtype=np.float32))
    np.testing.assert_allclose(v.numpy(), [3.5, 4.5])
    assert v.numpy().dtype == np.float32
    with pytest.raises(ValueError, match="Shape mismatch"):
        v.assign([1.0])
