"""``torch.utils.data.dataset``: the module PyTorch code imports ``Dataset`` from."""

from gradkit.data import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,
                          Subset, TensorDataset, random_split)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split"]
