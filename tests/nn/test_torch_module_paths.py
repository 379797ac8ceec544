"""Classes at PyTorch's ``torch.nn.modules.<file>`` paths (word_language_model lists them for
``torch.serialization.safe_globals``), and ``RNNBase.flatten_parameters``."""

import importlib

import pytest

import gradkit as gk


def test_nn_modules_paths_match_torch():
    pytest.importorskip("torch")
    for name in ("batchnorm", "instancenorm", "flatten", "channelshuffle", "dropout", "sparse",
                 "linear", "rnn", "activation", "container", "normalization", "transformer"):
        theirs = importlib.import_module("torch.nn.modules." + name)
        ours = importlib.import_module("gradkit.nn.modules." + name)
        for cls in theirs.__all__:
            if hasattr(gk.nn, cls) and not cls.startswith("Lazy"):
                assert getattr(ours, cls) is getattr(gk.nn, cls), (name, cls)
    from gradkit.nn.modules.linear import NonDynamicallyQuantizableLinear
    assert type(gk.nn.MultiheadAttention(4, 2).out_proj) is NonDynamicallyQuantizableLinear


def test_flatten_parameters_is_a_no_op():
    for cls in (gk.nn.RNN, gk.nn.GRU, gk.nn.LSTM):
        m = cls(3, 4)
        before = {k: v.clone() for k, v in m.state_dict().items()}
        assert m.flatten_parameters() is None
        assert all(gk.equal(before[k], v) for k, v in m.state_dict().items())


def test_serialization_safe_globals(tmp_path):
    class Thing:
        pass

    gk.serialization.clear_safe_globals()
    with gk.serialization.safe_globals([Thing]):
        assert gk.serialization.get_safe_globals() == [Thing]
    assert gk.serialization.get_safe_globals() == []
    gk.serialization.add_safe_globals([Thing])
    assert gk.serialization.get_safe_globals() == [Thing]
    gk.serialization.clear_safe_globals()
    path = tmp_path / "w.pt"
    gk.serialization.save({"w": gk.arange(3.0)}, path)
    assert gk.serialization.get_unsafe_globals_in_checkpoint(path) == []
    assert gk.equal(gk.serialization.load(path)["w"], gk.arange(3.0))
