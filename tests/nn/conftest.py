"""tests/nn: torch on one thread (the layers' tensors are small; two threads on a loaded 2-core
machine spend their time waiting for each other, measured 40x slower)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
