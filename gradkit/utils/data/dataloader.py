"""``torch.utils.data.dataloader``: the module PyTorch code imports ``DataLoader`` from."""

from gradkit.data import DataLoader, default_collate, default_convert, get_worker_info

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]
