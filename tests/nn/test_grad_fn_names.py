"""grad_fn names of gradkit against PyTorch's, for the expressions of the sweep.

``EXPECTED`` holds the names PyTorch 2.13 (CPU) gives for each case of
``tests/support/grad_fn_cases.py``: the output's ``grad_fn`` and the names of its
``next_functions`` (``torch::autograd::AccumulateGrad`` written as ``AccumulateGrad``).
They were recorded by running the sweep with torch installed, and are checked again
against a live torch where one is installed. Fused ops are real rows of the table
(``addmm``, ``nll_loss``, ``mse_loss``, ...), so the gradients and second derivatives
through them are compared with PyTorch's here as well (finite differences in float64 are
checked by the OpSpecs of ``tests/support/op_specs_nn.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit
from grad_fn_cases import CASES, maker, run

BUILDS = dict(CASES)

#: recorded from PyTorch 2.13.0+cpu
EXPECTED: dict[str, tuple[str, tuple[str | None, ...]]] = {
    'linear_2d': ('AddmmBackward0', ('AccumulateGrad', 'AccumulateGrad', 'TBackward0')),
    'linear_1d': ('ViewBackward0', ('AddmmBackward0',)),
    'linear_3d': ('ViewBackward0', ('AddmmBackward0',)),
    'linear_nobias_2d': ('MmBackward0', ('AccumulateGrad', 'TBackward0')),
    'linear_nobias_1d': ('SqueezeBackward4', ('MmBackward0',)),
    'linear_nobias_3d': ('UnsafeViewBackward0', ('MmBackward0',)),
    'linear_const_x': ('AddmmBackward0', ('AccumulateGrad', None, 'TBackward0')),
    'bilinear': ('AddBackward0', ('ViewBackward0', 'AccumulateGrad')),
    'mm': ('MmBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'matmul_2d_2d': ('MmBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'matmul_2d_1d': ('MvBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'matmul_1d_2d': ('SqueezeBackward4', ('MmBackward0',)),
    'matmul_1d_1d': ('DotBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'matmul_3d_3d': ('UnsafeViewBackward0', ('BmmBackward0',)),
    'matmul_3d_2d': ('UnsafeViewBackward0', ('MmBackward0',)),
    'matmul_2d_3d': ('CloneBackward0', ('TransposeBackward0',)),
    'matmul_3d_1d': ('UnsafeViewBackward0', ('MvBackward0',)),
    'bmm': ('BmmBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'mv': ('MvBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'dot': ('DotBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'addmm': ('AddmmBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'outer': ('MulBackward0', ('ViewBackward0', 'AccumulateGrad')),
    'einsum_ij_jk': ('ViewBackward0', ('PermuteBackward0',)),
    'einsum_trace': ('SumBackward1', ('PermuteBackward0',)),
    'cross_entropy': ('NllLossBackward0', ('LogSoftmaxBackward0',)),
    'cross_entropy_sum': ('NllLossBackward0', ('LogSoftmaxBackward0',)),
    'cross_entropy_none': ('NllLossBackward0', ('LogSoftmaxBackward0',)),
    'cross_entropy_probs': ('DivBackward1', ('NegBackward0',)),
    'cross_entropy_smooth': ('AddBackward0', ('MulBackward1', 'MulBackward1')),
    'nll_loss': ('NllLossBackward0', ('AccumulateGrad',)),
    'nll_loss_2d': ('NllLoss2DBackward0', ('AccumulateGrad',)),
    'mse_loss': ('MseLossBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'mse_loss_none': ('MseLossBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'l1_loss': ('MeanBackward0', ('AbsBackward0',)),
    'smooth_l1_loss': ('SmoothL1LossBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'huber_loss': ('HuberLossBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'bce': ('BinaryCrossEntropyBackward0', ('AccumulateGrad', None)),
    'bce_with_logits': ('BinaryCrossEntropyWithLogitsBackward0', ('AccumulateGrad', None)),
    'kl_div': ('DivBackward0', ('SumBackward0', None)),
    'soft_margin_loss': ('SoftMarginLossBackward0', ('AccumulateGrad',)),
    'bce_weight': ('BinaryCrossEntropyBackward0', ('AccumulateGrad', None)),
    'mse_loss_broadcast': ('MseLossBackward0', ('AccumulateGrad', None)),
    'poisson_nll_loss': ('MeanBackward0', ('SubBackward0',)),
    'margin_ranking_loss': ('MeanBackward0', ('ClampMinBackward0',)),
    'triplet_margin_loss': ('MeanBackward0', ('ClampMinBackward0',)),
    'multi_margin_loss': ('MultiMarginLossBackward0', ('AccumulateGrad',)),
    'cosine_similarity': ('SumBackward1', ('MulBackward0',)),
    'pairwise_distance': ('NormBackward1', ('AddBackward1',)),
    'softmax': ('SoftmaxBackward0', ('AccumulateGrad',)),
    'log_softmax': ('LogSoftmaxBackward0', ('AccumulateGrad',)),
    'relu': ('ReluBackward0', ('AccumulateGrad',)),
    'relu6': ('HardtanhBackward0', ('AccumulateGrad',)),
    'gelu': ('GeluBackward0', ('AccumulateGrad',)),
    'gelu_tanh': ('GeluBackward0', ('AccumulateGrad',)),
    'silu': ('SiluBackward0', ('AccumulateGrad',)),
    'mish': ('MishBackward0', ('AccumulateGrad',)),
    'sigmoid': ('SigmoidBackward0', ('AccumulateGrad',)),
    'F_sigmoid': ('SigmoidBackward0', ('AccumulateGrad',)),
    'tanh': ('TanhBackward0', ('AccumulateGrad',)),
    'leaky_relu': ('LeakyReluBackward0', ('AccumulateGrad',)),
    'elu': ('EluBackward0', ('AccumulateGrad',)),
    'selu': ('EluBackward0', ('AccumulateGrad',)),
    'celu': ('CeluBackward0', ('AccumulateGrad',)),
    'softplus': ('SoftplusBackward0', ('AccumulateGrad',)),
    'hardtanh': ('HardtanhBackward0', ('AccumulateGrad',)),
    'hardsigmoid': ('HardsigmoidBackward0', ('AccumulateGrad',)),
    'hardswish': ('HardswishBackward0', ('AccumulateGrad',)),
    'logsigmoid': ('LogSigmoidBackward0', ('AccumulateGrad',)),
    'softsign': ('DivBackward0', ('AccumulateGrad', 'AddBackward0')),
    'tanhshrink': ('SubBackward0', ('AccumulateGrad', 'TanhBackward0')),
    'prelu': ('PreluKernelBackward0', ('AccumulateGrad', 'ViewBackward0')),
    'glu': ('GluBackward0', ('AccumulateGrad',)),
    'normalize': ('DivBackward0', ('AccumulateGrad', 'ExpandBackward0')),
    'softshrink': ('SoftshrinkBackward0', ('AccumulateGrad',)),
    'hardshrink': ('HardshrinkBackward0', ('AccumulateGrad',)),
    'threshold': ('ThresholdBackward0', ('AccumulateGrad',)),
    'embedding_padding_idx': ('EmbeddingBackward0', ('AccumulateGrad',)),
    'linear_module': ('AddmmBackward0', ('AccumulateGrad', 'AccumulateGrad', 'TBackward0')),
    'dropout_eval': (None, ()),
    'layer_norm': ('NativeLayerNormBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'layer_norm_noaffine': ('NativeLayerNormBackward0', ('AccumulateGrad', None, None)),
    'batch_norm_train': ('NativeBatchNormBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'batch_norm_eval': ('NativeBatchNormBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'instance_norm': ('ViewBackward0', ('NativeBatchNormBackward0',)),
    'dropout_train': ('MulBackward0', ('AccumulateGrad', None)),
    'softmin': ('SoftmaxBackward0', ('NegBackward0',)),
    'rms_norm': ('MulBackward0', ('AccumulateGrad', 'RsqrtBackward0')),
    'group_norm': ('NativeGroupNormBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'conv1d': ('ConvolutionBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'conv2d': ('ConvolutionBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'conv2d_nobias': ('ConvolutionBackward0', ('AccumulateGrad', 'AccumulateGrad', None)),
    'conv2d_unbatched': ('SqueezeBackward1', ('ConvolutionBackward0',)),
    'conv1d_grouped': ('ConvolutionBackward0', ('AccumulateGrad', 'AccumulateGrad', None)),
    'conv3d': ('ConvolutionBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'conv_transpose2d': ('ConvolutionBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'conv_transpose1d': ('ConvolutionBackward0', ('AccumulateGrad', 'AccumulateGrad', None)),
    'max_pool1d': ('SqueezeBackward1', ('MaxPool2DWithIndicesBackward0',)),
    'avg_pool1d': ('SqueezeBackward1', ('AvgPool2DBackward0',)),
    'adaptive_max_pool2d': ('AdaptiveMaxPool2DBackward0', ('AccumulateGrad',)),
    'pad': ('ConstantPadNdBackward0', ('AccumulateGrad',)),
    'interpolate': ('UpsampleNearest2DBackward0', ('AccumulateGrad',)),
    'scaled_dot_product_attention': ('UnsafeViewBackward0', ('BmmBackward0',)),
    'max_pool2d': ('MaxPool2DWithIndicesBackward0', ('AccumulateGrad',)),
    'avg_pool2d': ('AvgPool2DBackward0', ('AccumulateGrad',)),
    'adaptive_avg_pool2d': ('MeanBackward1', ('AccumulateGrad',)),
    'embedding': ('EmbeddingBackward0', ('AccumulateGrad',)),
    'sum': ('SumBackward0', ('AccumulateGrad',)),
    'sum_dim': ('SumBackward1', ('AccumulateGrad',)),
    'mean': ('MeanBackward0', ('AccumulateGrad',)),
    'mean_dim': ('MeanBackward1', ('AccumulateGrad',)),
    'max': ('MaxBackward1', ('AccumulateGrad',)),
    'max_dim': ('MaxBackward0', ('AccumulateGrad',)),
    'min': ('MinBackward1', ('AccumulateGrad',)),
    'amax': ('AmaxBackward0', ('AccumulateGrad',)),
    'prod': ('ProdBackward0', ('AccumulateGrad',)),
    'var': ('VarBackward0', ('AccumulateGrad',)),
    'std_dim': ('StdBackward0', ('AccumulateGrad',)),
    'logsumexp': ('LogsumexpBackward0', ('AccumulateGrad',)),
    'norm': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'norm_dim': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'linalg_norm': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'linalg_vector_norm': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'cumsum': ('CumsumBackward0', ('AccumulateGrad',)),
    'cumprod': ('CumprodBackward0', ('AccumulateGrad',)),
    'pow_scalar': ('PowBackward0', ('AccumulateGrad',)),
    'pow_tensor': ('PowBackward1', ('AccumulateGrad', 'AccumulateGrad')),
    'rpow': ('PowBackward2', ('AccumulateGrad',)),
    'add': ('AddBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'add_scalar': ('AddBackward0', ('AccumulateGrad', None)),
    'sub': ('SubBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'rsub': ('RsubBackward1', ('AccumulateGrad',)),
    'mul': ('MulBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'div': ('DivBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'neg': ('NegBackward0', ('AccumulateGrad',)),
    'exp': ('ExpBackward0', ('AccumulateGrad',)),
    'log': ('LogBackward0', ('AccumulateGrad',)),
    'sqrt': ('SqrtBackward0', ('AccumulateGrad',)),
    'abs': ('AbsBackward0', ('AccumulateGrad',)),
    'clamp': ('ClampBackward1', ('AccumulateGrad',)),
    'clamp_min': ('ClampBackward1', ('AccumulateGrad',)),
    'where': ('WhereBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'maximum': ('MaximumBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'T': ('PermuteBackward0', ('AccumulateGrad',)),
    't': ('TBackward0', ('AccumulateGrad',)),
    'mT': ('TransposeBackward0', ('AccumulateGrad',)),
    'transpose': ('TransposeBackward0', ('AccumulateGrad',)),
    'permute': ('PermuteBackward0', ('AccumulateGrad',)),
    'view': ('ViewBackward0', ('AccumulateGrad',)),
    'reshape': ('ViewBackward0', ('AccumulateGrad',)),
    'flatten': ('ViewBackward0', ('AccumulateGrad',)),
    'unsqueeze': ('UnsqueezeBackward0', ('AccumulateGrad',)),
    'squeeze': ('SqueezeBackward1', ('AccumulateGrad',)),
    'expand': ('ExpandBackward0', ('AccumulateGrad',)),
    'repeat': ('RepeatBackward0', ('AccumulateGrad',)),
    'select': ('SelectBackward0', ('AccumulateGrad',)),
    'slice': ('SliceBackward0', ('AccumulateGrad',)),
    'slice_dim1': ('SliceBackward0', ('AccumulateGrad',)),
    'index_tensor': ('IndexBackward0', ('AccumulateGrad',)),
    'index_bool': ('IndexBackward0', ('AccumulateGrad',)),
    'index_select': ('IndexSelectBackward0', ('AccumulateGrad',)),
    'gather': ('GatherBackward0', ('AccumulateGrad',)),
    'clone': ('CloneBackward0', ('AccumulateGrad',)),
    'cat': ('CatBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'stack': ('StackBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'chunk': ('SplitBackward0', ('AccumulateGrad',)),
    'split': ('SplitBackward0', ('AccumulateGrad',)),
    'flip': ('FlipBackward0', ('AccumulateGrad',)),
    'roll': ('RollBackward0', ('AccumulateGrad',)),
    'tril': ('TrilBackward0', ('AccumulateGrad',)),
    'diag': ('DiagEmbedBackward0', ('AccumulateGrad',)),
    'diagonal': ('DiagonalBackward0', ('AccumulateGrad',)),
    'trace': ('TraceBackward0', ('AccumulateGrad',)),
    'masked_fill': ('MaskedFillBackward0', ('AccumulateGrad',)),
    'to_float32': ('ToCopyBackward0', ('AccumulateGrad',)),
    # --- #17: rows that were compositions (recorded from PyTorch 2.13.0+cpu) ---
    'grid_sample': ('GridSampler2DBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'grid_sample_bicubic_border': ('GridSampler2DBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'grid_sample_nearest_reflection':
        ('GridSampler2DBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'grid_sample_const_grid': ('GridSampler2DBackward0', ('AccumulateGrad', None)),
    'grid_sample_3d': ('GridSampler3DBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'grid_sample_3d_nearest': ('GridSampler3DBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'fractional_max_pool2d': ('FractionalMaxPool2DBackward0', ('AccumulateGrad',)),
    'fractional_max_pool2d_unbatched': ('FractionalMaxPool2DBackward0', ('AccumulateGrad',)),
    'fractional_max_pool3d': ('FractionalMaxPool3DBackward0', ('AccumulateGrad',)),
    'fractional_max_pool3d_unbatched': ('FractionalMaxPool3DBackward0', ('AccumulateGrad',)),
    'FractionalMaxPool2d': ('FractionalMaxPool2DBackward0', ('AccumulateGrad',)),
    'scatter_reduce_prod': ('ScatterReduceBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'scatter_reduce_prod_noself': ('ScatterReduceBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'embedding_bag_max': ('EmbeddingBagBackward0', ('AccumulateGrad', None)),
    'embedding_bag_max_2d': ('EmbeddingBagBackward0', ('AccumulateGrad', None)),
    # --- the wide sweep (tests/support/grad_fn_wide.py) ---
    'max_pool3d': ('MaxPool3DWithIndicesBackward0', ('AccumulateGrad',)),
    'avg_pool3d': ('AvgPool3DBackward0', ('AccumulateGrad',)),
    'adaptive_avg_pool1d': ('SqueezeBackward1', ('AdaptiveAvgPool2DBackward0',)),
    'adaptive_avg_pool3d': ('AdaptiveAvgPool3DBackward0', ('AccumulateGrad',)),
    'lp_pool2d': ('PowBackward0', ('MulBackward0',)),
    'pixel_shuffle': ('PixelShuffleBackward0', ('AccumulateGrad',)),
    'pad_reflect': ('ReflectionPad1DBackward0', ('AccumulateGrad',)),
    'pad_replicate': ('ReplicationPad1DBackward0', ('AccumulateGrad',)),
    'pad_circular': ('CopySlices', ('CopySlices', 'SliceBackward0')),
    'unfold': ('Im2ColBackward0', ('AccumulateGrad',)),
    'fold': ('Col2ImBackward0', ('AccumulateGrad',)),
    'local_response_norm': ('DivBackward0', ('AccumulateGrad', 'PowBackward0')),
    'cosine_embedding_loss': ('MeanBackward0', ('AddBackward0',)),
    'hinge_embedding_loss': ('MeanBackward0', ('AddBackward0',)),
    'multilabel_margin_loss': ('MultilabelMarginLossBackward0', ('AccumulateGrad',)),
    'multilabel_soft_margin_loss': ('MeanBackward0', ('DivBackward0',)),
    'gaussian_nll_loss': ('MeanBackward0', ('MulBackward0',)),
    'rrelu_eval': ('RreluWithNoiseBackward0', ('AccumulateGrad',)),
    'elu_alpha': ('EluBackward0', ('AccumulateGrad',)),
    'log_softmax_dim0': ('LogSoftmaxBackward0', ('AccumulateGrad',)),
    'one_hot_mm': ('MmBackward0', (None, 'AccumulateGrad')),
    'embedding_bag': ('EmbeddingBagBackward0', ('AccumulateGrad', None)),
    'alpha_dropout_eval': (None, ()),
    'dropout2d_eval': (None, ()),
    'batch_norm_noaffine': ('NativeBatchNormBackward0', ('AccumulateGrad', None, None)),
    'instance_norm_affine': ('ViewBackward0', ('NativeBatchNormBackward0',)),
    'mha_sdpa_mask': ('UnsafeViewBackward0', ('BmmBackward0',)),
    'silu_inplace_clone': ('SiluBackward0', ('CloneBackward0',)),
    'softmax2d': ('SoftmaxBackward0', ('AccumulateGrad',)),
    'logit': ('LogitBackward0', ('AccumulateGrad',)),
    'sinh': ('SinhBackward0', ('AccumulateGrad',)),
    'asin': ('AsinBackward0', ('AccumulateGrad',)),
    'atan2': ('Atan2Backward0', ('AccumulateGrad', 'AccumulateGrad')),
    'erf': ('ErfBackward0', ('AccumulateGrad',)),
    'erfinv': ('ErfinvBackward0', ('AccumulateGrad',)),
    'lgamma': ('LgammaBackward0', ('AccumulateGrad',)),
    'digamma': ('DigammaBackward0', ('AccumulateGrad',)),
    'log1p': ('Log1PBackward0', ('AccumulateGrad',)),
    'expm1': ('Expm1Backward0', ('AccumulateGrad',)),
    'rsqrt': ('RsqrtBackward0', ('AccumulateGrad',)),
    'reciprocal': ('ReciprocalBackward0', ('AccumulateGrad',)),
    'sign': ('SignBackward0', ('AccumulateGrad',)),
    'square': ('PowBackward0', ('AccumulateGrad',)),
    'xlogy': ('XlogyBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'hypot': ('HypotBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'lerp': ('LerpBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'addcmul': ('AddcmulBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'addcdiv': ('AddcdivBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'fmod': ('FmodBackward0', ('AccumulateGrad',)),
    'remainder': ('RemainderBackward0', ('AccumulateGrad',)),
    'minimum': ('MinimumBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'fmax': ('FmaxBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'clamp_tensor': ('ClampBackward0', ('AccumulateGrad', None, None)),
    'nansum': ('NansumBackward0', ('AccumulateGrad',)),
    'nanmean': ('DivBackward0', ('NansumBackward0', None)),
    'median': ('MedianBackward0', ('AccumulateGrad',)),
    'median_dim': ('MedianBackward1', ('AccumulateGrad',)),
    'kthvalue': ('KthvalueBackward0', ('AccumulateGrad',)),
    'sort': ('SortBackward0', ('AccumulateGrad',)),
    'topk': ('TopkBackward0', ('AccumulateGrad',)),
    'cummax': ('CummaxBackward0', ('AccumulateGrad',)),
    'logcumsumexp': ('LogcumsumexpBackward0', ('AccumulateGrad',)),
    'amin': ('AminBackward0', ('AccumulateGrad',)),
    'aminmax': ('AminmaxBackward0', ('AccumulateGrad',)),
    'std': ('StdBackward0', ('AccumulateGrad',)),
    'var_mean': ('VarMeanBackward0', ('AccumulateGrad',)),
    'std_mean': ('StdMeanBackward0', ('AccumulateGrad',)),
    'norm_p1': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'norm_inf': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'dist': ('DistBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'cdist': ('CdistBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'renorm': ('RenormBackward0', ('AccumulateGrad',)),
    'count_nz': ('SumBackward0', ('AbsBackward0',)),
    'all_mean_dims': ('MeanBackward1', ('AccumulateGrad',)),
    'sum_keep': ('SumBackward1', ('AccumulateGrad',)),
    'prod_dim': ('ProdBackward1', ('AccumulateGrad',)),
    'cumsum0': ('CumsumBackward0', ('AccumulateGrad',)),
    'diff': ('SubBackward0', ('SliceBackward0', 'SliceBackward0')),
    'trapezoid': ('MulBackward1', ('SubBackward0',)),
    'narrow': ('SliceBackward0', ('AccumulateGrad',)),
    'unbind': ('UnbindBackward0', ('AccumulateGrad',)),
    'movedim': ('PermuteBackward0', ('AccumulateGrad',)),
    'swapaxes': ('TransposeBackward0', ('AccumulateGrad',)),
    'squeeze_all': ('SqueezeBackward0', ('AccumulateGrad',)),
    'unflatten': ('ViewBackward0', ('AccumulateGrad',)),
    'view_as': ('ViewBackward0', ('AccumulateGrad',)),
    'expand_as': ('ExpandBackward0', ('AccumulateGrad',)),
    'contiguous_T': ('CloneBackward0', ('PermuteBackward0',)),
    'flipud': ('FlipBackward0', ('AccumulateGrad',)),
    'rot90': ('Rot90Backward0', ('AccumulateGrad',)),
    'triu': ('TriuBackward0', ('AccumulateGrad',)),
    'tile': ('RepeatBackward0', ('AccumulateGrad',)),
    'repeat_interleave': ('ViewBackward0', ('CloneBackward0',)),
    'take': ('TakeBackward0', ('AccumulateGrad',)),
    'take_along_dim': ('GatherBackward0', ('ExpandBackward0',)),
    'masked_select': ('MaskedSelectBackward0', ('AccumulateGrad',)),
    'index_add': ('IndexAddBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'scatter': ('ScatterBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'scatter_add': ('ScatterAddBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'hstack': ('CatBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'vstack': ('CatBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'dstack': ('CatBackward0', ('UnsqueezeBackward0', 'UnsqueezeBackward0')),
    'atleast_2d': ('UnsqueezeBackward0', ('AccumulateGrad',)),
    'tensor_split': ('SliceBackward0', ('AccumulateGrad',)),
    'meshgrid': ('ExpandBackward0', ('ViewBackward0',)),
    'cartesian_prod': ('StackBackward0', ('UnsafeViewBackward0', 'UnsafeViewBackward0')),
    'kron': ('UnsafeViewBackward0', ('MulBackward0',)),
    'tensordot': ('ViewBackward0', ('MmBackward0',)),
    'inner': ('ViewBackward0', ('MmBackward0',)),
    'cross': ('LinalgCrossBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'baddbmm': ('BaddbmmBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'addbmm': ('AddbmmBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'addmv': ('AddmvBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'addr': ('AddrBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'chain_matmul': ('ViewBackward0', ('MmBackward0',)),
    'matrix_power': ('MmBackward0', ('MmBackward0', 'AccumulateGrad')),
    'det': ('LinalgDetBackward0', ('AccumulateGrad',)),
    'slogdet': ('LinalgSlogdetBackward0', ('AccumulateGrad',)),
    'logdet': ('WhereBackward0', (None, 'LinalgSlogdetBackward0')),
    'inv': ('LinalgInvExBackward0', ('AccumulateGrad',)),
    'pinv': ('LinalgPinvBackward0', ('AccumulateGrad',)),
    'solve': ('LinalgSolveExBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'cholesky': ('LinalgCholeskyExBackward0', ('AddBackward0',)),
    'qr': ('LinalgQrBackward0', ('AccumulateGrad',)),
    'svd': ('LinalgSvdBackward0', ('AccumulateGrad',)),
    'svdvals': ('LinalgSvdBackward0', ('AccumulateGrad',)),
    'eigh': ('LinalgEighBackward0', ('AddBackward0',)),
    'eigvalsh': ('LinalgEighBackward0', ('AddBackward0',)),
    'matrix_norm': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'matrix_norm_nuc': ('SumBackward1', ('LinalgSvdBackward0',)),
    'lstsq': ('LinalgLstsqBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'matrix_exp': ('LinalgMatrixExpBackward0', ('AccumulateGrad',)),
    'solve_triangular': ('LinalgSolveTriangularBackward0', ('AddBackward0', 'AccumulateGrad')),
    'vecdot': ('SumBackward1', ('MulBackward0',)),
    'trace2': ('TraceBackward0', ('AccumulateGrad',)),
    'fft': ('SelectBackward0', ('ViewAsRealBackward0',)),
    'rfft': ('AbsBackward0', ('FftR2CBackward0',)),
    'irfft': ('FftC2RBackward0', ('ToCopyBackward0',)),
    'complex_abs': ('AbsBackward0', ('ComplexBackward0',)),
    'sigmoid_method': ('SigmoidBackward0', ('AccumulateGrad',)),
    'type_as': ('ToCopyBackward0', ('AccumulateGrad',)),
    'double': ('ToCopyBackward0', ('ToCopyBackward0',)),
    'clone_detach_mul': ('MulBackward0', ('AccumulateGrad', None)),
    'div_scalar': ('DivBackward0', ('AccumulateGrad', None)),
    'floordiv_t': ('NotImplemented', ('MulBackward0',)),
    'true_divide_r': ('MulBackward0', ('ReciprocalBackward0', None)),
    'sub_alpha': ('SubBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'add_alpha': ('AddBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'matmul_4d': ('UnsafeViewBackward0', ('BmmBackward0',)),
    'max_binary_broadcast': ('MaximumBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'where_scalar': ('WhereBackward0', ('AccumulateGrad', None)),
    'nan_to_num': ('NanToNumBackward0', ('AccumulateGrad',)),
    'polar': ('SelectBackward0', ('ViewAsRealBackward0',)),
    'heaviside_mul': ('MulBackward0', ('AccumulateGrad', None)),
    'frac': ('FracBackward0', ('AccumulateGrad',)),
    'round': ('RoundBackward0', ('AccumulateGrad',)),
    'trunc': ('TruncBackward0', ('AccumulateGrad',)),
    'sinc': ('SincBackward0', ('AccumulateGrad',)),
    'deg2rad': ('Deg2RadBackward0', ('AccumulateGrad',)),
    'logaddexp': ('LogaddexpBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'softmax_fn': ('SoftmaxBackward0', ('AccumulateGrad',)),
    'outer_ger': ('MulBackward0', ('ViewBackward0', 'AccumulateGrad')),
    'vdot': ('VdotBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'cumprod0': ('CumprodBackward0', ('AccumulateGrad',)),
    # --- grad_fn_wider.py (recorded from PyTorch 2.13.0+cpu) ---
    'm_clamp_min': ('ClampMinBackward0', ('AccumulateGrad',)),
    'm_clamp_max': ('ClampMaxBackward0', ('AccumulateGrad',)),
    'm_clamp_min_tensor': ('ClampBackward0', ('AccumulateGrad', 'AccumulateGrad', None)),
    'm_masked_fill_tensor': ('MaskedFillBackward1', ('AccumulateGrad', 'AccumulateGrad')),
    'm_scatter_add': ('ScatterAddBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'm_scatter_value': ('ScatterBackward1', ('AccumulateGrad',)),
    'm_scatter_reduce': ('ScatterReduceBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'm_gather_dim0': ('GatherBackward0', ('AccumulateGrad',)),
    'm_index_select_dim1': ('IndexSelectBackward0', ('AccumulateGrad',)),
    'm_repeat_interleave_int': ('ViewBackward0', ('CloneBackward0',)),
    'm_repeat_interleave_flat': ('ViewBackward0', ('CloneBackward0',)),
    'm_repeat_interleave_tensor': ('IndexSelectBackward0', ('AccumulateGrad',)),
    'm_expand_as': ('ExpandBackward0', ('AccumulateGrad',)),
    'm_new_zeros_add': ('AddBackward0', (None, 'AccumulateGrad')),
    'm_new_tensor_mul': ('MulBackward0', ('AccumulateGrad', None)),
    'm_new_ones_rg': ('MulBackward0', ('AccumulateGrad', None)),
    'm_index_fill': ('IndexFillBackward0', ('AccumulateGrad',)),
    'm_index_copy': ('IndexCopyBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'm_masked_scatter': ('MaskedScatterBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'm_put': ('PutBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'm_sub_rsub_scalar': ('RsubBackward1', ('MulBackward0',)),
    'm_neg_method': ('NegBackward0', ('AccumulateGrad',)),
    'm_abs_method': ('AbsBackward0', ('AccumulateGrad',)),
    'm_exp_log': ('LogBackward0', ('ExpBackward0',)),
    'm_pow_method': ('PowBackward0', ('AccumulateGrad',)),
    'm_sqrt_abs': ('SqrtBackward0', ('AbsBackward0',)),
    'm_relu_method': ('ReluBackward0', ('AccumulateGrad',)),
    'm_softmax_method': ('SoftmaxBackward0', ('AccumulateGrad',)),
    'm_log_softmax_method': ('LogSoftmaxBackward0', ('AccumulateGrad',)),
    'm_mean_keepdim': ('MeanBackward1', ('AccumulateGrad',)),
    'm_sum_dims': ('SumBackward1', ('AccumulateGrad',)),
    'm_max_other': ('MaximumBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'm_min_dim': ('MinBackward0', ('AccumulateGrad',)),
    'm_argmax_gather': ('GatherBackward0', ('AccumulateGrad',)),
    'm_view_neg1': ('ViewBackward0', ('AccumulateGrad',)),
    'm_contiguous_t': ('CloneBackward0', ('TBackward0',)),
    'm_unsqueeze_neg': ('UnsqueezeBackward0', ('AccumulateGrad',)),
    'm_squeeze_dim0': ('SqueezeBackward1', ('AccumulateGrad',)),
    'm_flatten_all': ('ViewBackward0', ('AccumulateGrad',)),
    'm_split_sizes': ('SplitWithSizesBackward0', ('AccumulateGrad',)),
    'm_chunk_dim1': ('SplitBackward0', ('AccumulateGrad',)),
    'm_unbind0': ('UnbindBackward0', ('AccumulateGrad',)),
    'm_narrow': ('SliceBackward0', ('AccumulateGrad',)),
    'm_roll_dims': ('RollBackward0', ('AccumulateGrad',)),
    'm_type_float': ('ToCopyBackward0', ('AccumulateGrad',)),
    'm_to_dtype_same': ('MulBackward0', ('AccumulateGrad', None)),
    'm_detach_add': ('AddBackward0', (None, 'AccumulateGrad')),
    'm_where_method': ('WhereBackward0', ('AccumulateGrad', None)),
    'm_lerp_scalar': ('LerpBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'm_addmm_method': ('AddmmBackward0', ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'm_outer_method': ('MulBackward0', ('ViewBackward0', 'AccumulateGrad')),
    'm_norm_p1_dim': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'm_std_unbiased': ('StdBackward0', ('AccumulateGrad',)),
    'm_var_correction': ('VarBackward0', ('AccumulateGrad',)),
    'm_sigmoid_mul': ('MulBackward0', ('SigmoidBackward0', 'AccumulateGrad')),
    'm_tanh_method': ('TanhBackward0', ('AccumulateGrad',)),
    'm_diag_embed': ('DiagEmbedBackward0', ('AccumulateGrad',)),
    'm_triu_k': ('TriuBackward0', ('AccumulateGrad',)),
    'where_x_scalar': ('WhereBackward0', ('AccumulateGrad', None)),
    'where_scalar_y': ('WhereBackward0', (None, 'AccumulateGrad')),
    'where_broadcast': ('WhereBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'cumsum_dim1': ('CumsumBackward0', ('AccumulateGrad',)),
    'cumsum_neg': ('CumsumBackward0', ('AccumulateGrad',)),
    'cumprod_dim0': ('CumprodBackward0', ('AccumulateGrad',)),
    'logcumsumexp_dim1': ('LogcumsumexpBackward0', ('AccumulateGrad',)),
    'cummin_values': ('CumminBackward0', ('AccumulateGrad',)),
    'norm_fro': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'norm_fro_dim': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'norm_p3': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'norm_dim_keepdim': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'linalg_norm_ord1': ('AmaxBackward0', ('LinalgVectorNormBackward0',)),
    'linalg_norm_vec_inf': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'linalg_vector_norm_dim': ('LinalgVectorNormBackward0', ('AccumulateGrad',)),
    'linalg_matrix_norm_2': ('AmaxBackward0', ('LinalgSvdBackward0',)),
    'F_linear_nobias_module': ('MmBackward0', ('AccumulateGrad', 'TBackward0')),
    'F_conv2d_stride_pad': ('ConvolutionBackward0', ('AccumulateGrad', 'AccumulateGrad', None)),
    'F_conv2d_dilation': ('ConvolutionBackward0', ('AccumulateGrad', 'AccumulateGrad', None)),
    'F_conv1d_pad_same': ('ConvolutionBackward0', ('AccumulateGrad', 'AccumulateGrad', None)),
    'F_conv_transpose3d': ('ConvolutionBackward0', ('AccumulateGrad', 'AccumulateGrad', None)),
    'F_max_pool2d_pad': ('MaxPool2DWithIndicesBackward0', ('AccumulateGrad',)),
    'F_max_pool2d_indices': ('MaxPool2DWithIndicesBackward0', ('AccumulateGrad',)),
    'F_avg_pool1d_pad': ('SqueezeBackward1', ('AvgPool2DBackward0',)),
    'F_adaptive_max_pool1d': ('SqueezeBackward1', ('AdaptiveMaxPool2DBackward0',)),
    'F_adaptive_avg_pool1d': ('SqueezeBackward1', ('AdaptiveAvgPool2DBackward0',)),
    'F_lp_pool1d': ('PowBackward0', ('MulBackward0',)),
    'F_pixel_unshuffle': ('PixelUnshuffleBackward0', ('AccumulateGrad',)),
    'F_interpolate_bilinear': ('UpsampleBilinear2DBackward0', ('AccumulateGrad',)),
    'F_upsample_nearest': ('UpsampleNearest2DBackward0', ('AccumulateGrad',)),
    'F_pad_constant_value': ('ConstantPadNdBackward0', ('AccumulateGrad',)),
    'F_pad_reflect_2d': ('ReflectionPad2DBackward0', ('AccumulateGrad',)),
    'F_pad_replicate_1d': ('ReplicationPad1DBackward0', ('AccumulateGrad',)),
    'F_dropout1d_eval': (None, ()),
    'F_feature_alpha_dropout_eval': (None, ()),
    'F_log_sigmoid_mean': ('MeanBackward0', ('LogSigmoidBackward0',)),
    'F_softplus_beta': ('SoftplusBackward0', ('AccumulateGrad',)),
    'F_leaky_relu_slope': ('LeakyReluBackward0', ('AccumulateGrad',)),
    'F_elu_inplace_false': ('EluBackward0', ('AccumulateGrad',)),
    'F_hardtanh_range': ('HardtanhBackward0', ('AccumulateGrad',)),
    'F_gumbel_none': ('SoftmaxBackward0', ('DivBackward0',)),
    'F_normalize_p1': ('DivBackward0', ('AccumulateGrad', 'ExpandBackward0')),
    'F_cosine_similarity_dim0': ('SumBackward1', ('MulBackward0',)),
    'F_pairwise_distance_p1': ('NormBackward1', ('AddBackward1',)),
    'F_pdist': ('PdistBackward0', ('AccumulateGrad',)),
    'F_l1_loss_sum': ('SumBackward0', ('AbsBackward0',)),
    'F_l1_loss_none': ('AbsBackward0', ('SubBackward0',)),
    'F_mse_loss_sum': ('MseLossBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'F_nll_loss_weight': ('NllLossBackward0', ('AccumulateGrad',)),
    'F_nll_loss_ignore': ('NllLossBackward0', ('AccumulateGrad',)),
    'F_cross_entropy_2d': ('NllLoss2DBackward0', ('LogSoftmaxBackward0',)),
    'F_cross_entropy_weight': ('NllLossBackward0', ('LogSoftmaxBackward0',)),
    'F_bce_logits_pos_weight': ('BinaryCrossEntropyWithLogitsBackward0', ('AccumulateGrad', None)),
    'F_kl_div_log_target': ('SumBackward0', ('MulBackward0',)),
    'F_huber_delta': ('HuberLossBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'F_smooth_l1_beta': ('SmoothL1LossBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'F_ctc_free_logsumexp': ('LogsumexpBackward0', ('AccumulateGrad',)),
    'F_multi_head_attention': ('TransposeBackward0', ('ViewBackward0',)),
    'F_embedding_max_norm_free': ('EmbeddingBackward0', ('AccumulateGrad',)),
    'F_one_hot_float_mul': ('MulBackward0', (None, 'AccumulateGrad')),
    'F_layer_norm_2d_shape': ('NativeLayerNormBackward0', ('AccumulateGrad', None, None)),
    'F_group_norm_noaffine': ('NativeGroupNormBackward0', ('AccumulateGrad', None, None)),
    'F_batch_norm_2d_train': ('NativeBatchNormBackward0', ('AccumulateGrad', None, None)),
    'F_silu_relu_chain': ('SiluBackward0', ('ReluBackward0',)),
    'F_gelu_module': ('GeluBackward0', ('AccumulateGrad',)),
    'F_sequential_mlp': ('AddmmBackward0', ('AccumulateGrad', 'ReluBackward0', 'TBackward0')),
    'F_flatten_module': ('ViewBackward0', ('AccumulateGrad',)),
    'F_unflatten_module': ('ViewBackward0', ('AccumulateGrad',)),
    'F_identity_module': ('MulBackward0', ('AccumulateGrad', None)),
    'F_affine_grid_2d': ('AffineGridGeneratorBackward0', ('AccumulateGrad',)),
    'F_affine_grid_3d': ('AffineGridGeneratorBackward0', ('AccumulateGrad',)),
    'F_lp_pool1d_inf': ('SqueezeBackward1', ('MaxPool2DWithIndicesBackward0',)),
    'F_lp_pool2d_neg_inf': ('NegBackward0', ('MaxPool2DWithIndicesBackward0',)),
    'F_pad_circular_crop_2d': ('CopySlices', ('CopySlices', 'SliceBackward0')),
    'floordiv_tensors': ('NotImplemented', ('AccumulateGrad', 'AccumulateGrad')),
    'm_scatter_reduce_amax': ('ScatterReduceBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'm_scatter_reduce_mean': ('ScatterReduceBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'F_conv_transpose3d_groups': ('ConvolutionBackward0',
                                  ('AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad')),
    'F_embedding_bag_sum_weights': ('EmbeddingBagBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'F_multilabel_margin_loss_sum': ('MultilabelMarginLossBackward0', ('AccumulateGrad',)),
    'm_index_copy_0d': ('IndexCopyBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'm_put_accumulate': ('PutBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'm_index_reduce_amax': ('IndexReduceBackward0', ('AccumulateGrad', 'AccumulateGrad')),
    'm_index_reduce_mean_inplace': ('IndexReduceBackward0', ('CloneBackward0', 'AccumulateGrad')),
    'm_index_reduce_prod_noself': ('IndexReduceBackward0', ('AccumulateGrad', 'AccumulateGrad')),
}

#: cases whose grad_fn name still differs from PyTorch's (none left; gradkit composed these where
#: PyTorch has one kernel)
NAME_DIFFERS: set[str] = set()

#: same grad_fn name, different next_functions (none left)
NEXT_DIFFERS: set[str] = set()

SAME_NAME = [k for k in EXPECTED if k not in NAME_DIFFERS]
SAME_NEXT = [k for k in SAME_NAME if k not in NEXT_DIFFERS]


def test_every_case_has_a_recorded_name() -> None:
    assert set(EXPECTED) == set(BUILDS)
    assert NAME_DIFFERS <= set(EXPECTED) and NEXT_DIFFERS <= set(EXPECTED)


@pytest.mark.parametrize("label", SAME_NAME)
def test_grad_fn_name_matches_pytorch(label: str) -> None:
    assert run(gradkit, BUILDS[label])[0] == EXPECTED[label][0]


@pytest.mark.parametrize("label", SAME_NEXT)
def test_next_functions_names_match_pytorch(label: str) -> None:
    assert run(gradkit, BUILDS[label])[1] == EXPECTED[label][1]


def test_cross_entropy_is_nll_loss_over_log_softmax() -> None:
    x = gradkit.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]], requires_grad=True)
    loss = gradkit.nn.functional.cross_entropy(x, gradkit.tensor([2, 0]))
    assert loss.grad_fn.name() == "NllLossBackward0"
    (sm, _), = loss.grad_fn.next_functions
    assert sm.name() == "LogSoftmaxBackward0"
    assert sm.next_functions[0][0].variable is x
    # printed as PyTorch prints it
    assert "grad_fn=<NllLossBackward0>" in repr(loss)


def test_linear_module_prints_addmm() -> None:
    lin = gradkit.nn.Linear(3, 2)
    assert "grad_fn=<AddmmBackward0>" in repr(lin(gradkit.ones(4, 3)))
    assert "grad_fn=<ViewBackward0>" in repr(lin(gradkit.ones(3)))


def test_no_slot_for_inputs_without_gradient() -> None:
    # PyTorch: a where condition or a mask has no next_functions slot, nor has the number
    # of masked_fill's Scalar overload; a tensor value is MaskedFillBackward1 with its edge
    x = gradkit.tensor([1.0, -2.0, 3.0], requires_grad=True)
    v = gradkit.tensor(5.0, requires_grad=True)
    w = gradkit.where(x > 0, x, v)
    assert [n.variable for n, _ in w.grad_fn.next_functions] == [x, v]
    m = x.masked_fill(x < 0, v)
    assert m.grad_fn.name() == "MaskedFillBackward1"
    assert [n.variable for n, _ in m.grad_fn.next_functions] == [x, v]
    m.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0])
    assert v.grad.item() == 1.0
    c = x.detach().masked_fill(x.detach() < 0, v)        # a constant self keeps its None slot
    assert [n is None for n, _ in c.grad_fn.next_functions] == [True, False]


def test_scalar_overload_nodes() -> None:
    # PyTorch 2.13: x.clamp_min(0) is ClampMinBackward0, x.clamp_max(0) ClampMaxBackward0,
    # x.clamp(min=0) ClampBackward1; a Scalar product (MulBackward1) has no slot for the number
    x = gradkit.tensor([1.0, -2.0, 3.0], requires_grad=True)
    assert x.clamp_min(0).grad_fn.name() == "ClampMinBackward0"
    assert gradkit.clamp_max(x, 0).grad_fn.name() == "ClampMaxBackward0"
    assert x.clamp(min=0).grad_fn.name() == "ClampBackward1"
    y = gradkit.clamp_max(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [0.5, -2.0, 0.5])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])
    loss = gradkit.nn.functional.cross_entropy(
        gradkit.zeros(2, 3, requires_grad=True), gradkit.tensor([0, 1]), label_smoothing=0.1)
    terms = [n for n, _ in loss.grad_fn.next_functions]
    assert [n.name() for n in terms] == ["MulBackward1", "MulBackward1"]
    assert all(len(n.next_functions) == 1 for n in terms)
    assert abs(loss.item() - np.log(3.0)) < 1e-6          # uniform logits: log(3) whatever the
    # smoothing


def test_soft_margin_loss_target_that_requires_grad_is_differentiated() -> None:
    # PyTorch refuses it; gradkit composes then: d/dt log(1 + exp(-t x)) = -x sigmoid(-t x)
    x = gradkit.tensor([1.0, -2.0], dtype=gradkit.float64, requires_grad=True)
    t = gradkit.tensor([0.5, 1.0], dtype=gradkit.float64, requires_grad=True)
    gradkit.nn.functional.soft_margin_loss(x, t).backward()
    xs, ts = np.array([1.0, -2.0]), np.array([0.5, 1.0])
    sig = 1.0 / (1.0 + np.exp(ts * xs))
    np.testing.assert_allclose(t.grad.numpy(), -xs * sig / 2, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), -ts * sig / 2, rtol=1e-12)


# --- live PyTorch ---------------------------------------------------------------------------
@pytest.mark.parametrize("label", sorted(EXPECTED))
def test_recorded_names_are_pytorchs(label: str) -> None:
    torch = pytest.importorskip("torch")
    assert run(torch, BUILDS[label]) == EXPECTED[label]


#: the cases that run through the fused rows, for gradients and second derivatives
ROWS = [
    "linear_2d", "linear_1d", "linear_3d", "linear_const_x", "addmm", "cross_entropy_probs",
    "margin_ranking_loss", "triplet_margin_loss", "pad", "linear_nobias_1d", "linear_nobias_3d",
    "matmul_1d_2d", "matmul_3d_3d", "matmul_3d_2d", "matmul_3d_1d", "matmul_2d_3d", "normalize",
    "scaled_dot_product_attention", "mse_loss_broadcast", "pairwise_distance", "glu",
    "soft_margin_loss", "instance_norm", "conv_transpose2d", "conv_transpose1d", "prelu",
    "cross_entropy", "cross_entropy_sum",
    "cross_entropy_none", "cross_entropy_smooth", "nll_loss", "nll_loss_2d", "mse_loss",
    "mse_loss_none", "smooth_l1_loss", "huber_loss", "bce", "bce_weight", "bce_with_logits", "gelu",
    "gelu_tanh",
    "silu", "mish", "leaky_relu", "elu", "selu", "celu", "softplus", "hardsigmoid", "logsigmoid",
    "embedding", "layer_norm", "layer_norm_noaffine", "batch_norm_train", "batch_norm_eval",
    "softshrink", "hardshrink", "threshold", "group_norm", "conv1d", "conv2d", "conv2d_nobias",
    "conv2d_unbatched", "conv1d_grouped", "multi_margin_loss", "embedding_padding_idx",
    "avg_pool1d", "avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool2d", "interpolate",
    "einsum_ij_jk", "einsum_trace", "bilinear", "max_pool1d", "conv3d", "max_pool3d",
    "avg_pool3d",
    "addr", "addbmm", "dist", "aminmax", "index_add", "nansum", "take", "take_along_dim",
    "trapezoid", "chain_matmul", "matrix_power", "lstsq", "cdist", "renorm", "F_pdist",
    "grid_sample", "grid_sample_bicubic_border", "grid_sample_nearest_reflection",
    "grid_sample_const_grid", "grid_sample_3d", "grid_sample_3d_nearest", "fractional_max_pool2d",
    "fractional_max_pool2d_unbatched", "fractional_max_pool3d", "fractional_max_pool3d_unbatched",
    "FractionalMaxPool2d", "scatter_reduce_prod", "scatter_reduce_prod_noself", "embedding_bag_max",
    "embedding_bag_max_2d",
]


#: PyTorch has no second derivative here ("derivative for aten::hardsigmoid_backward is not
#: implemented", likewise multi_margin_loss_backward, _cdist_backward and _pdist_backward);
#: gradkit's is checked by finite differences (the OpSpecs, ``test_multi_margin_loss_row``,
#: tests/ops/test_pytorch_node_rows.py)
FIRST_ORDER_ONLY = {"hardsigmoid", "multi_margin_loss", "cdist", "F_pdist"}


def _grads(lib: Any, label: str) -> tuple[list[Any], list[Any]]:
    """First and second derivatives of a fixed projection of the case's output."""
    leaves: list[Any] = []
    out = BUILDS[label](lib, maker(lib, leaves))
    v = lib.tensor(np.random.default_rng(7).uniform(0.5, 1.5, tuple(out.shape)), dtype=lib.float64)
    first = lib.autograd.grad((out * v).sum(), leaves, create_graph=label not in FIRST_ORDER_ONLY)
    rng = np.random.default_rng(8)
    us = [lib.tensor(rng.uniform(-1.0, 1.0, tuple(g.shape)), dtype=lib.float64) for g in first]
    live = [(g * u).sum() for g, u in zip(first, us) if g.requires_grad]
    if not live:
        return [g.detach() for g in first], []
    total = live[0]
    for term in live[1:]:
        total = total + term
    second = lib.autograd.grad(total, leaves, allow_unused=True)
    return [g.detach() for g in first], [None if s is None else s.detach() for s in second]


@pytest.mark.parametrize("label", ROWS)
def test_fused_rows_gradients_and_second_derivatives_match_pytorch(label: str) -> None:
    torch = pytest.importorskip("torch")
    assert label not in NAME_DIFFERS
    g1, h1 = _grads(gradkit, label)
    g2, h2 = _grads(torch, label)
    assert len(g1) == len(g2)
    # NOTE: PyTorch's CPU hardsigmoid multiplies by 1/6 rounded to float32 in every dtype
    # (3e-8 off in float64); gradkit's float64 is exact
    rtol = 1e-7 if label == "hardsigmoid" else 1e-10
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=1e-12)
    if not h1 and not h2:
        return
    # an input the gradient does not depend on has no second derivative (None or zeros)
    h1 = h1 or [None] * len(g1)
    h2 = h2 or [None] * len(g2)
    for a, b, g in zip(h1, h2, g1):
        a = np.zeros(g.shape) if a is None else a.numpy()
        b = np.zeros(g.shape) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# --- the nodes of gradients taken with create_graph=True (what torch.func.grad returns) -----
#: cases whose gradients' nodes are named otherwise than PyTorch's: gradkit writes a derivative
#: in its own primitives where PyTorch runs a double-backward kernel (``...BackwardBackward0``),
#: or finds the gradient constant in the input (a linear op: no node at all)
GRAD_NAME_DIFFERS: set[str] = {
    'm_index_reduce_prod_noself',
    'F_adaptive_avg_pool1d', 'F_adaptive_max_pool1d', 'F_avg_pool1d_pad', 'F_batch_norm_2d_train',
    'F_bce_logits_pos_weight', 'F_conv1d_pad_same', 'F_conv_transpose3d',
    'F_conv_transpose3d_groups', 'F_cross_entropy_2d', 'F_cross_entropy_weight',
    'F_elu_inplace_false', 'F_embedding_bag_sum_weights', 'F_gelu_module', 'F_hardtanh_range',
    'F_huber_delta', 'F_layer_norm_2d_shape', 'F_leaky_relu_slope', 'F_log_sigmoid_mean',
    'F_max_pool2d_indices', 'F_max_pool2d_pad', 'F_mse_loss_sum', 'F_multilabel_margin_loss_sum',
    'F_nll_loss_ignore', 'F_nll_loss_weight', 'F_pad_reflect_2d', 'F_pad_replicate_1d', 'F_pdist',
    'F_sigmoid', 'F_silu_relu_chain', 'F_smooth_l1_beta', 'F_softplus_beta',
    'FractionalMaxPool2d', 'adaptive_avg_pool1d', 'adaptive_avg_pool3d', 'adaptive_max_pool2d',
    'addbmm', 'addcdiv', 'addmv', 'addr', 'atan2', 'avg_pool1d', 'avg_pool2d', 'avg_pool3d',
    'baddbmm', 'batch_norm_eval', 'batch_norm_noaffine', 'batch_norm_train', 'bce', 'bce_weight',
    'bce_with_logits', 'bilinear', 'bmm', 'cdist', 'celu', 'conv1d', 'conv1d_grouped', 'conv2d',
    'conv2d_unbatched', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'cross_entropy',
    'cross_entropy_none', 'cross_entropy_probs', 'cross_entropy_smooth', 'cross_entropy_sum',
    'det', 'dist', 'div', 'einsum_ij_jk', 'elu', 'elu_alpha', 'fractional_max_pool2d',
    'fractional_max_pool2d_unbatched', 'fractional_max_pool3d', 'fractional_max_pool3d_unbatched',
    'gaussian_nll_loss', 'gelu', 'gelu_tanh', 'glu', 'grid_sample', 'grid_sample_3d',
    'grid_sample_3d_nearest', 'grid_sample_bicubic_border', 'grid_sample_const_grid',
    'grid_sample_nearest_reflection', 'group_norm', 'hardshrink', 'hardsigmoid', 'hardswish',
    'hardtanh', 'huber_loss', 'instance_norm_affine', 'layer_norm', 'layer_norm_noaffine',
    'leaky_relu', 'linalg_norm', 'linalg_norm_vec_inf', 'linalg_vector_norm', 'linear_1d',
    'log_softmax', 'log_softmax_dim0', 'logsigmoid', 'm_log_softmax_method', 'm_outer_method',
    'm_relu_method', 'm_sigmoid_mul', 'm_softmax_method', 'm_std_unbiased', 'm_tanh_method',
    'matmul_2d_1d', 'matmul_2d_3d', 'matmul_3d_1d', 'matmul_3d_3d', 'matrix_norm', 'max_pool1d',
    'max_pool2d', 'max_pool3d', 'mha_sdpa_mask', 'mse_loss', 'mse_loss_broadcast',
    'mse_loss_none', 'multi_margin_loss', 'multilabel_margin_loss', 'mv', 'nll_loss',
    'nll_loss_2d', 'norm', 'norm_dim', 'norm_dim_keepdim', 'norm_fro', 'norm_fro_dim', 'norm_inf',
    'norm_p3', 'outer', 'outer_ger', 'pad_reflect', 'pad_replicate', 'pairwise_distance', 'polar',
    'pow_tensor', 'prelu', 'qr', 'reciprocal', 'relu', 'relu6', 'rrelu_eval',
    'scaled_dot_product_attention', 'scatter_reduce_prod', 'scatter_reduce_prod_noself', 'selu',
    'sigmoid', 'sigmoid_method', 'slogdet', 'smooth_l1_loss', 'soft_margin_loss', 'softmax',
    'softmax2d', 'softmax_fn', 'softplus', 'softshrink', 'std', 'std_dim', 'std_mean', 'tanh',
    'threshold', 'true_divide_r', 'var_mean', 'xlogy',
}


def _gradient_names(lib: Any, label: str) -> tuple[str | None, ...]:
    """The ``grad_fn`` names of the case's gradients taken with ``create_graph=True``."""
    leaves: list[Any] = []
    out = BUILDS[label](lib, maker(lib, leaves))
    v = lib.tensor(np.random.default_rng(7).uniform(0.5, 1.5, tuple(out.shape)), dtype=out.dtype)
    gs = lib.autograd.grad((out * v).sum(), leaves, create_graph=True, allow_unused=True)
    return tuple(None if g is None or g.grad_fn is None else type(g.grad_fn).__name__
                 for g in gs)


def test_gradient_name_differences_are_cases() -> None:
    assert GRAD_NAME_DIFFERS <= set(EXPECTED)


@pytest.mark.parametrize("label", sorted(set(EXPECTED) - GRAD_NAME_DIFFERS))
def test_create_graph_gradient_names_are_pytorchs(label: str) -> None:
    torch = pytest.importorskip("torch")
    try:
        expected = _gradient_names(torch, label)
    except RuntimeError as e:                  # no derivative of the derivative there either
        with pytest.raises(RuntimeError):
            _gradient_names(gradkit, label)
        assert "derivative" in str(e)
        return
    assert _gradient_names(gradkit, label) == expected
