"""PyTorch's error types and messages, word for word.

Each case is a snippet that fails with ``torch`` bound to the module under
test. The expected messages were recorded from PyTorch 2.13.0 with ``torch.``
replaced by ``gradkit.``; ``test_recorded_messages_match_live_pytorch``
re-checks them when PyTorch is installed.
"""

from __future__ import annotations

import warnings
from types import ModuleType

import pytest

import gradkit

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed). Saved intermediate values of the graph are freed "
          "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
          "backward through the graph a second time or if you need to access saved tensors after "
          "calling backward.")
_HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its "
         "gradient, with gradkit.autograd.set_detect_anomaly(True, check_nan=False).")
_NO_GRAD_FN = "element 0 of tensors does not require grad and does not have a grad_fn"


def _range(n: int, got: int) -> str:
    return f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {got})"


# id -> (snippet, exception type, message)
CASES: dict[str, tuple[str, type, str]] = {
    # --- backward ---------------------------------------------------------------------
    "nonscalar_backward": ("x = torch.ones(3, requires_grad=True); (x * 2).backward()",
                           RuntimeError, "grad can be implicitly created only for scalar outputs"),
    "nonscalar_grad": ("x = torch.ones(2, 2, requires_grad=True); torch.autograd.grad(x * 2, x)",
                       RuntimeError, "grad can be implicitly created only for scalar outputs"),
    "backward_twice": ("x = torch.ones(3, requires_grad=True); y = x.exp().sum(); y.backward(); "
                       "y.backward()", RuntimeError, _FREED),
    "grad_twice": ("x = torch.ones(3, requires_grad=True); y = (x * x).sum(); "
                   "torch.autograd.grad(y, x); torch.autograd.grad(y, x)", RuntimeError, _FREED),
    "no_grad_fn": ("x = torch.ones(3); x.sum().backward()", RuntimeError, _NO_GRAD_FN),
    "no_grad_fn_detached": ("x = torch.ones(3, requires_grad=True); x.detach().sum().backward()",
                            RuntimeError, _NO_GRAD_FN),
    "no_grad_fn_no_grad_block": ("x = torch.ones(3, requires_grad=True)\nwith torch.no_grad():\n"
                                 "    y = x * 2\ny.sum().backward()", RuntimeError, _NO_GRAD_FN),
    "no_grad_fn_autograd_grad": ("x = torch.ones(3); y = torch.ones(3, requires_grad=True); "
                                 "torch.autograd.grad(x.sum(), y)", RuntimeError, _NO_GRAD_FN),
    "grad_output_shape": ("x = torch.ones(3, requires_grad=True); (x * 2).backward(torch.ones(4))",
                          RuntimeError, "Mismatch in shape: grad_output[0] has a shape of "
                          "torch.Size([4]) and output[0] has a shape of torch.Size([3])."),
    "unused_input": ("a = torch.tensor(1., requires_grad=True); "
                     "c = torch.tensor(3., requires_grad=True); torch.autograd.grad(a * 2, [a, c])",
                     RuntimeError, "The differentiated Tensor at index 1 appears to not have been "
                     "used in the graph. Set allow_unused=True if this is the desired behavior."),
    "input_not_requiring_grad": ("x = torch.ones(3, requires_grad=True); y = torch.ones(3); "
                                 "torch.autograd.grad((x * y).sum(), y)", RuntimeError,
                                 "One of the differentiated Tensors does not require grad"),
    # --- requires_grad ------------------------------------------------------------------
    "int_tensor_requires_grad": ("torch.tensor([1, 2], requires_grad=True)", RuntimeError,
                                 "Only Tensors of floating point and complex dtype can require "
                                 "gradients"),
    "bool_zeros_requires_grad": ("torch.zeros(2, dtype=torch.bool, requires_grad=True)",
                                 RuntimeError, "Only Tensors of floating point and complex dtype "
                                 "can require gradients"),
    "int_arange_requires_grad": ("torch.arange(3, requires_grad=True)", RuntimeError,
                                 "Only Tensors of floating point and complex dtype can require "
                                 "gradients"),
    "int_requires_grad_": ("torch.tensor([1, 2]).requires_grad_()", RuntimeError,
                           "only Tensors of floating point dtype can require gradients"),
    "non_leaf_requires_grad_false": (
        "x = torch.ones(3, requires_grad=True); y = x * 2; y.requires_grad = False", RuntimeError,
        "you can only change requires_grad flags of leaf variables. If you want to use a computed "
        "variable in a subgraph that doesn't require differentiation use var_no_grad = "
        "var.detach()."),
    "retain_grad_without_grad": ("torch.ones(3).retain_grad()", RuntimeError,
                                 "can't retain_grad on Tensor that has requires_grad=False"),
    "hook_without_grad": ("torch.ones(3).register_hook(lambda g: g)", RuntimeError,
                          "cannot register a hook on a tensor that doesn't require gradient"),
    # --- in-place -------------------------------------------------------------------------
    "leaf_inplace": ("x = torch.ones(3, requires_grad=True); x.add_(1)", RuntimeError,
                     "a leaf Variable that requires grad is being used in an in-place operation."),
    "leaf_inplace_operator": ("x = torch.ones(3, requires_grad=True); x *= 2", RuntimeError,
                              "a leaf Variable that requires grad is being used in an in-place "
                              "operation."),
    "leaf_setitem": ("x = torch.ones(3, requires_grad=True); x[0] = 2.", RuntimeError,
                     "a view of a leaf Variable that requires grad is being used in an in-place "
                     "operation."),
    "leaf_view_inplace": ("x = torch.ones(3, requires_grad=True); x[:2].add_(1)", RuntimeError,
                          "a view of a leaf Variable that requires grad is being used in an "
                          "in-place operation."),
    "saved_output_modified": (
        "x = torch.tensor([1., 2., 3.], requires_grad=True); y = x.exp(); y.add_(1); "
        "y.sum().backward()", RuntimeError,
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: [torch.FloatTensor [3]], which is output 0 of Exp, is at version 1; expected "
        "version 0 instead. " + _HINT),
    "saved_input_modified": (
        "x = torch.tensor([1., 2., 3.], requires_grad=True); a = x * 2; y = a * a; a.mul_(2); "
        "y.sum().backward()", RuntimeError,
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: [torch.FloatTensor [3]], which is output 0 of Mul, is at version 1; expected "
        "version 0 instead. " + _HINT),
    "saved_leaf_constant_modified": (
        "x = torch.tensor([[1., 2.]], requires_grad=True); w = torch.ones(2, 2, dtype=torch.float64)"
        "; y = x.double() @ w; w.add_(1); y.sum().backward()", RuntimeError,
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: [torch.DoubleTensor [2, 2]] is at version 1; expected version 0 instead. "
        + _HINT),
    "inplace_int_div": ("x = torch.tensor([1, 2]); x.div_(2)", RuntimeError,
                        "result type Float can't be cast to the desired output type Long"),
    "inplace_broadcast": ("x = torch.ones(3); x.add_(torch.ones(2, 3))", RuntimeError,
                          "output with shape [3] doesn't match the broadcast shape [2, 3]"),
    # --- numpy / item / bool --------------------------------------------------------------
    "numpy_requires_grad": ("torch.ones(3, requires_grad=True).numpy()", RuntimeError,
                            "Can't call numpy() on Tensor that requires grad. Use "
                            "tensor.detach().numpy() instead."),
    "numpy_non_leaf": ("x = torch.ones(3, requires_grad=True); (x * 2).numpy()", RuntimeError,
                       "Can't call numpy() on Tensor that requires grad. Use "
                       "tensor.detach().numpy() instead."),
    "item_many": ("torch.ones(3).item()", RuntimeError,
                  "a Tensor with 3 elements cannot be converted to Scalar"),
    "bool_many": ("bool(torch.ones(3))", RuntimeError,
                  "Boolean value of Tensor with more than one value is ambiguous"),
    "len_0d": ("len(torch.tensor(1.))", TypeError, "len() of a 0-d tensor"),
    "iter_0d": ("iter(torch.tensor(1.))", TypeError, "iteration over a 0-d tensor"),
    "mean_int": ("torch.tensor([1, 2]).mean()", RuntimeError, "mean(): could not infer output "
                 "dtype. Input dtype must be either a floating point or complex dtype. Got: Long"),
    "mean_bool": ("torch.tensor([True]).mean()", RuntimeError, "mean(): could not infer output "
                  "dtype. Input dtype must be either a floating point or complex dtype. Got: Bool"),
    "clamp_no_bounds": ("torch.clamp(torch.ones(3))", RuntimeError,
                        "gradkit.clamp: At least one of 'min' or 'max' must not be None"),
    # --- shapes ---------------------------------------------------------------------------
    "view_size": ("torch.arange(6.).view(4, 2)", RuntimeError,
                  "shape '[4, 2]' is invalid for input of size 6"),
    "view_infer": ("torch.arange(6.).view(-1, 4)", RuntimeError,
                   "shape '[-1, 4]' is invalid for input of size 6"),
    "view_two_infer": ("torch.ones(6).view(-1, -1)", RuntimeError,
                       "only one dimension can be inferred"),
    "reshape_size": ("torch.arange(6.).reshape(5)", RuntimeError,
                     "shape '[5]' is invalid for input of size 6"),
    "view_non_contiguous": ("torch.arange(6.).reshape(2, 3).t().view(6)", RuntimeError,
                            "view size is not compatible with input tensor's size and stride (at "
                            "least one dimension spans across two contiguous subspaces). Use "
                            ".reshape(...) instead."),
    "matmul_2d": ("torch.ones(2, 3) @ torch.ones(2, 3)", RuntimeError,
                  "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    "matmul_1d_2d": ("torch.ones(3) @ torch.ones(4, 2)", RuntimeError,
                     "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x2)"),
    "matmul_1d": ("torch.ones(3) @ torch.ones(4)", RuntimeError,
                  "inconsistent tensor size, expected tensor [3] and src [4] to have the same number "
                  "of elements, but got 3 and 4 elements respectively"),
    "matmul_0d": ("torch.tensor(1.) @ torch.ones(3)", RuntimeError,
                  "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    "mm": ("torch.mm(torch.ones(2, 3), torch.ones(2, 3))", RuntimeError,
           "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    "mv": ("torch.mv(torch.ones(2, 3), torch.ones(2))", RuntimeError,
           "size mismatch, got input (2), mat (2x3), vec (2)"),
    "dot": ("torch.dot(torch.ones(3), torch.ones(4))", RuntimeError,
            "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of "
            "elements, but got 3 and 4 elements respectively"),
    "bmm": ("torch.bmm(torch.ones(2, 2, 3), torch.ones(2, 2, 3))", RuntimeError,
            "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 2]."),
    "expand": ("torch.ones(2, 3).expand(4, 3)", RuntimeError,
               "The expanded size of the tensor (4) must match the existing size (2) at "
               "non-singleton dimension 0.  Target sizes: [4, 3].  Tensor sizes: [2, 3]"),
    "expand_fewer_sizes": ("torch.ones(2, 3).expand(3)", RuntimeError,
                           "expand(torch.FloatTensor{[2, 3]}, size=[3]): the number of sizes "
                           "provided (1) must be greater or equal to the number of dimensions in "
                           "the tensor (2)"),
    "cat_sizes": ("torch.cat([torch.ones(2, 3), torch.ones(2, 4)], dim=0)", RuntimeError,
                  "Sizes of tensors must match except in dimension 0. Expected size 3 but got size "
                  "4 for tensor number 1 in the list."),
    "cat_ndim": ("torch.cat([torch.ones(2, 3), torch.ones(3)])", RuntimeError,
                 "Tensors must have same number of dimensions: got 2 and 1"),
    "stack_sizes": ("torch.stack([torch.ones(2, 3), torch.ones(2, 4)])", RuntimeError,
                    "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and "
                    "[2, 4] at entry 1"),
    "permute_len": ("torch.ones(2, 3).permute(0)", RuntimeError,
                    "permute(sparse_coo): number of dimensions in the tensor input does not match "
                    "the length of the desired ordering of dimensions i.e. input.dim() = 2 is not "
                    "equal to len(dims) = 1"),
    "flatten_order": ("torch.ones(2, 3).flatten(1, 0)", RuntimeError,
                      "flatten() has invalid args: start_dim cannot come after end_dim"),
    "chunk_zero": ("torch.ones(3).chunk(0)", RuntimeError,
                   "chunk expects `chunks` to be greater than 0, got: 0"),
    # --- indexing -------------------------------------------------------------------------
    "index": ("torch.ones(3)[5]", IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    "index_negative": ("torch.ones(3)[-4]", IndexError,
                       "index -4 is out of bounds for dimension 0 with size 3"),
    "index_second_dim": ("torch.ones(2, 3)[0, 3]", IndexError,
                         "index 3 is out of bounds for dimension 1 with size 3"),
    "index_third_dim": ("torch.ones(2, 3, 4)[1, 1, 4]", IndexError,
                        "index 4 is out of bounds for dimension 2 with size 4"),
    "index_list": ("torch.ones(3)[[0, 5]]", IndexError,
                   "index 5 is out of bounds for dimension 0 with size 3"),
    "too_many_indices": ("torch.ones(3)[0, 0]", IndexError,
                         "too many indices for tensor of dimension 1"),
    "float_index": ("torch.ones(3)[1.5]", IndexError,
                    "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                    "are valid indices (got float)"),
    # --- dims -----------------------------------------------------------------------------
    "dim_sum": ("torch.ones(2, 3).sum(dim=2)", IndexError, _range(2, 2)),
    "dim_sum_negative": ("torch.ones(2, 3).sum(dim=-3)", IndexError, _range(2, -3)),
    "dim_mean": ("torch.ones(2, 3).mean(dim=2)", IndexError, _range(2, 2)),
    "dim_max": ("torch.ones(2, 3).max(dim=5)", IndexError, _range(2, 5)),
    "dim_argmax": ("torch.ones(2, 3).argmax(dim=2)", IndexError, _range(2, 2)),
    "dim_cumsum": ("torch.ones(2, 3).cumsum(dim=2)", IndexError, _range(2, 2)),
    "dim_size": ("torch.ones(2, 3).size(2)", IndexError, _range(2, 2)),
    "dim_unsqueeze": ("torch.ones(2, 3).unsqueeze(4)", IndexError, _range(3, 4)),
    "dim_unsqueeze_negative": ("torch.ones(2, 3).unsqueeze(-4)", IndexError, _range(3, -4)),
    "dim_squeeze": ("torch.ones(2, 3).squeeze(3)", IndexError, _range(2, 3)),
    "dim_transpose": ("torch.ones(2, 3).transpose(0, 2)", IndexError, _range(2, 2)),
    "dim_cat": ("torch.cat([torch.ones(2, 3), torch.ones(2, 3)], dim=2)", IndexError, _range(2, 2)),
    "dim_flatten": ("torch.ones(2, 3).flatten(0, 2)", IndexError, _range(2, 2)),
    "dim_0d": ("torch.tensor(1.).sum(dim=1)", IndexError, _range(1, 1)),
    # --- broadcasting and products -----------------------------------------------------
    "broadcast_add": ("torch.ones(2, 3) + torch.ones(4)", RuntimeError,
                      "The size of tensor a (3) must match the size of tensor b (4) at "
                      "non-singleton dimension 1"),
    "broadcast_mul": ("torch.ones(2, 3) * torch.ones(3, 2)", RuntimeError,
                      "The size of tensor a (3) must match the size of tensor b (2) at "
                      "non-singleton dimension 1"),
    "broadcast_rank3": ("torch.ones(2, 3, 4) + torch.ones(5, 4)", RuntimeError,
                        "The size of tensor a (3) must match the size of tensor b (5) at "
                        "non-singleton dimension 1"),
    "matmul_2d_1d": ("torch.ones(2, 3) @ torch.ones(4)", RuntimeError,
                     "size mismatch, got input (2), mat (2x3), vec (4)"),
    "matmul_batched": ("torch.ones(2, 2, 3) @ torch.ones(2, 4, 5)", RuntimeError,
                       "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but "
                       "got: [2, 4]."),
    # --- assigning grad and requires_grad -----------------------------------------------
    "assign_grad_shape": ("x = torch.ones(3, requires_grad=True); x.grad = torch.ones(4)",
                          RuntimeError, "attempting to assign a gradient of size '[4]' to a tensor "
                          "of size '[3]'. Please ensure that the gradient and the tensor are the "
                          "same size"),
    "assign_grad_dtype": ("x = torch.ones(2, requires_grad=True); "
                          "x.grad = torch.ones(2, dtype=torch.float64)", RuntimeError,
                          "attempting to assign a gradient with dtype 'double' to a tensor with "
                          "grad_dtype 'Float'. The gradient must match the tensor's grad_dtype "
                          "(defaults to the tensor's dtype). You can set the tensor's grad_dtype "
                          "attribute with a specific dtype, or None to allow any dtype. Set "
                          "grad_dtype with caution. Diverging the dtypes of a tensor and its "
                          "gradient may break downstream systems that assume they match."),
    "int_requires_grad_attribute": ("x = torch.ones(3, dtype=torch.int64); x.requires_grad = True",
                                    RuntimeError, "only Tensors of floating point and complex "
                                    "dtype can require gradients"),
}


def raised_by(snippet: str, module: ModuleType) -> BaseException:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(compile(snippet, "<case>", "exec"), {"torch": module})
        except Exception as exc:  # noqa: BLE001
            return exc
        finally:
            module.set_grad_enabled(True)
    raise AssertionError(f"no error raised by {snippet!r}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_type_and_message(name: str) -> None:
    snippet, kind, message = CASES[name]
    exc = raised_by(snippet, gradkit)
    assert type(exc) is kind, f"{type(exc).__name__}: {exc}"
    if name in EXTENDED:
        # NOTE: gradkit keeps PyTorch's text verbatim and appends its own diagnosis after it.
        assert str(exc).startswith(message + "\n"), str(exc)
        assert EXTENDED[name] in str(exc)
    else:
        assert str(exc) == message


#: messages gradkit extends (by appending only): id -> a phrase of the appended diagnosis
EXTENDED = {
    "backward_twice": "were freed by an earlier backward",
    "grad_twice": "were freed by an earlier backward",
    "no_grad_fn": "none of the tensors it was computed from requires grad",
    "no_grad_fn_detached": "comes from a detached tensor",
    "no_grad_fn_no_grad_block": "was computed under gradkit.no_grad()",
    "no_grad_fn_autograd_grad": "none of the tensors it was computed from requires grad",
    "saved_output_modified": "saved by `exp`",
    "saved_input_modified": "modified by `mul_`",
    "saved_leaf_constant_modified": "modified by `add_`",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_recorded_messages_match_live_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    snippet, kind, message = CASES[name]
    exc = raised_by(snippet, torch)
    assert isinstance(exc, kind)
    # gradkit names its own functions in hints (gradkit.autograd...); the type names are torch.
    assert str(exc).replace("torch.", "gradkit.") == message.replace("torch.", "gradkit.")


def test_error_leaves_grad_mode_and_graph_usable() -> None:
    x = gradkit.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        (x * 2).backward()
    assert gradkit.is_grad_enabled()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_grad_of_none_cannot_be_zeroed() -> None:
    # the seed's try/except relies on this being an AttributeError on None
    x = gradkit.tensor(4.0, requires_grad=True)
    with pytest.raises(AttributeError):
        x.grad.zero_()
