"""Multi-process training helpers (torchrun / DistributedDataParallel).

Under ``torchrun --nproc_per_node N`` the environment holds ``WORLD_SIZE``,
``RANK`` and ``LOCAL_RANK``; :func:`setup` then starts the process group
(gloo on the CPU, nccl on CUDA). With ``WORLD_SIZE`` unset or 1 everything
runs in one process and no process group is created.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class DistContext:
    """Where this process stands: rank, world size and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: str = "cpu"
    initialised: bool = False

    @property
    def is_main(self) -> bool:
        """Only the main process writes files and logs."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device: str = "auto") -> DistContext:
    """Resolve the device and, under torchrun, start the process group.

    Args:
        device: ``auto``, ``cpu`` or ``cuda[:N]``; under torchrun with CUDA each
            process takes ``cuda:LOCAL_RANK``.
    """
    import torch

    from ...core.predict.factory import resolve_device

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device)
    if world > 1 and dev.startswith("cuda"):
        dev = f"cuda:{local}"
        torch.cuda.set_device(local)
    ctx = DistContext(rank, world, local, dev)
    if world > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("nccl" if dev.startswith("cuda") else "gloo")
            ctx.initialised = True
    return ctx


def cleanup(ctx: DistContext) -> None:
    """Destroy the process group this module started."""
    if ctx.initialised:
        import torch.distributed as dist

        dist.destroy_process_group()
        ctx.initialised = False


def barrier(ctx: DistContext) -> None:
    if ctx.distributed:
        import torch.distributed as dist

        dist.barrier()


def all_sum(ctx: DistContext, values):
    """Sum a list of numbers over all processes (float64)."""
    if not ctx.distributed:
        return [float(v) for v in values]
    import torch
    import torch.distributed as dist

    dev = ctx.device if ctx.device.startswith("cuda") else "cpu"
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=dev)
    dist.all_reduce(t)
    return t.cpu().tolist()


def average_buffers(model, ctx: DistContext) -> None:
    """Average floating-point buffers (BatchNorm running statistics) over processes.

    DDP keeps parameters in step but each process updates its BatchNorm
    statistics on its own batches; averaging them at the end of an epoch makes
    validation and the saved checkpoint identical on every process.
    """
    if not ctx.distributed:
        return
    import torch.distributed as dist

    for buf in model.buffers():
        if buf.is_floating_point():
            dist.all_reduce(buf)
            buf.div_(ctx.world_size)


def broadcast_flag(ctx: DistContext, flag: bool) -> bool:
    """True on every process when rank 0 says so (e.g. cancel requested)."""
    if not ctx.distributed:
        return bool(flag)
    return all_sum(ctx, [1.0 if (flag and ctx.is_main) else 0.0])[0] > 0


def freeze_unused(model, in_channels: int, size: int = 64) -> list:
    """Stop gradients of parameters the forward pass never uses.

    smp encoders built with ``encoder_depth < 5`` keep their deepest stages,
    which get no gradient; DDP would then fail ("parameters that were not used
    in producing loss"). Single-process SGD skips them anyway (no gradient), so
    freezing them changes nothing but lets DDP run without the slower
    ``find_unused_parameters``.

    Returns:
        Names of the frozen parameters.
    """
    import torch

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()  # no BatchNorm statistics update, no dropout
    model.zero_grad(set_to_none=True)
    model(torch.zeros(1, in_channels, size, size, device=device)).sum().backward()
    frozen = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    for name, param in model.named_parameters():
        if name in frozen:
            param.requires_grad_(False)
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return frozen


def wrap(model, ctx: DistContext, in_channels: int = 0, size: int = 64):
    """Wrap a model in DistributedDataParallel when running multi-process.

    With ``in_channels`` set, parameters the forward pass never uses are frozen
    first (see :func:`freeze_unused`).
    """
    if not ctx.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if in_channels:
        freeze_unused(model, in_channels, size)

    ids = [ctx.local_rank] if ctx.device.startswith("cuda") else None
    return DistributedDataParallel(model, device_ids=ids)


def unwrap(model):
    return getattr(model, "module", model)


def shard(indices, ctx: DistContext):
    """This process's share of an index list (no padding, for evaluation)."""
    return list(indices)[ctx.rank::ctx.world_size]
