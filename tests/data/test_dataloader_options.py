"""DataLoader's options are checked as PyTorch checks them (batches are made in the calling
process, so workers, pinning and prefetching change nothing), and an unknown keyword is a
TypeError rather than ignored. Messages recorded from PyTorch 2.13."""

import pytest

from gradkit.utils.data import DataLoader

DS = [1.0, 2.0, 3.0]


@pytest.mark.parametrize("kw, message", [
    ({"num_workers": -1}, "num_workers option should be non-negative; use num_workers=0 to "
                          "disable multiprocessing."),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in multiprocessing."),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
    ({"num_workers": 2, "prefetch_factor": -1}, "prefetch_factor option should be non-negative"),
])
def test_refused_options(kw, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DataLoader(DS, **kw)


def test_unknown_keyword_is_a_typeerror():
    with pytest.raises(TypeError, match="unexpected keyword argument 'shufle'"):
        DataLoader(DS, shufle=True)


def test_worker_options_give_the_same_batches():
    dl = DataLoader(DS, batch_size=2, num_workers=2, persistent_workers=True, pin_memory=True)
    assert [b.tolist() for b in dl] == [[1.0, 2.0], [3.0]]
    assert dl.prefetch_factor == 2 and DataLoader(DS).prefetch_factor is None


def test_shuffling_an_empty_dataset_is_refused_when_the_loader_is_made():
    # PyTorch 2.13 builds its RandomSampler in DataLoader(...), which refuses num_samples=0
    # (yunjey/pytorch-tutorial's basics make such a loader over a stub Dataset of length 0)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, "
                                         "but got num_samples=0"):
        DataLoader([], batch_size=4, shuffle=True)
    assert list(DataLoader([], batch_size=4)) == []      # without shuffle it is only empty
