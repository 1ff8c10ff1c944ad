"""Choose where PyTorch code runs, with no code change by the reader."""
from __future__ import annotations

import os

import torch

DEVICE_ENV = "RNNCOURSE_DEVICE"


def default_device(override: str | torch.device | None = None) -> torch.device:
    """Return the device to run on.

    Order: the ``override`` argument, then the environment variable
    ``RNNCOURSE_DEVICE`` (for example ``cpu`` or ``cuda:0``), then the first GPU
    when ``torch.cuda.is_available()``, else the CPU.  Asking for CUDA on a
    machine without it raises ``RuntimeError`` naming what was found.
    """
    choice = override if override is not None else os.environ.get(DEVICE_ENV) or None
    if choice is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(choice)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {str(device)!r} was requested but torch.cuda.is_available() is False; "
                           f"use 'cpu' or unset {DEVICE_ENV}")
    return device


def describe(device: torch.device) -> str:
    """A human-readable name, e.g. 'cuda:0 (NVIDIA H100 80GB HBM3)' or 'cpu (2 threads)'."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"cpu ({torch.get_num_threads()} threads)"
