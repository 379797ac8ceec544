"""``torch.utils.data.distributed``: the module PyTorch code imports ``DistributedSampler`` from."""

from gradkit.data import DistributedSampler

__all__ = ["DistributedSampler"]
