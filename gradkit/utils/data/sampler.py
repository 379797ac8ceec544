"""``torch.utils.data.sampler``: the module PyTorch code imports the samplers from."""

from gradkit.data import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                          SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]
