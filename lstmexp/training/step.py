"""One optimisation step: the optimizer, float32 or autocast (bf16/fp16) forward-backward, gradient norm.

Nothing here reads a value back to the host: the loss and the gradient norm stay on the device, so
the training loop can run without a per-step sync.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """Adam, fused where torch supports it: one kernel for the whole update instead of one per tensor.

    The fused step saves about as much per step as measuring the gradient norm costs (measured
    with CPU time on a 64-unit LSTM, batch 16: 1.13 ms vs 1.16 ms per step for a plain loop).
    """
    params = list(model.parameters())
    fusable = all(p.device.type in ("cpu", "cuda") and p.dtype.is_floating_point for p in params)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fusable or None)


class MixedPrecision:
    """One optimisation step in float32 or under autocast (bf16, or fp16 with a gradient scaler).

    The gradient norm is taken after unscaling, so it means the same with and without fp16; steps
    whose fp16 gradients overflow are skipped by the scaler (and counted as non-finite).
    """

    def __init__(self, device: torch.device, amp: str | None) -> None:
        self.device_type = device.type
        self.dtype = AMP_DTYPES.get(amp or "")
        self.scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16")

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.dtype is not None)

    def step(
        self,
        forward: Callable[[torch.Tensor], torch.Tensor],
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        clip: float | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward (`forward`: the model, or a stream walker that carries its state), MSE, backward,
        update; returns the detached loss and the pre-clip gradient norm."""
        optimizer.zero_grad(set_to_none=True)
        if self.dtype is None:  # float32: no autocast or scaler calls on the hot path
            loss = nn.functional.mse_loss(forward(inputs), targets)
            loss.backward()
            norm = gradient_norm(model, clip)
            optimizer.step()
            return loss.detach(), norm
        with self.autocast():
            loss = nn.functional.mse_loss(forward(inputs).float(), targets)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(optimizer)
        norm = gradient_norm(model, clip)
        self.scaler.step(optimizer)
        self.scaler.update()
        return loss.detach(), norm


def gradient_norm(model: nn.Module, clip: float | None) -> torch.Tensor:
    """Global L2 norm of the gradients before clipping (clipping them when `clip` is set), on the device.

    Without clipping, one fused per-tensor norm and a norm of those: the model's gradients share one
    device and dtype, so torch's general get_total_norm (which groups tensors by both first) would
    spend about twice as long per step on a small LSTM for the same number.
    """
    if clip is not None:
        return torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
