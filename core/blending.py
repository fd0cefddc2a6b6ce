"""The running weighted sums of one strip of overlapping tiles, on the CPU or where the network ran.

A buffer one tile high and the scene wide holds ``acc`` (sum of probability x
weight) and ``wsum`` (sum of weights); when a strip is done, its first rows
are final: their probability is acc / wsum, and the buffer moves up. With a
torch predictor on a GPU the buffers stay on the GPU (``TorchBlend``): the
probabilities never cross to the host tile by tile, only the finished rows do,
and the main thread does not wait on every batch. Both do the same float32
multiplications, additions and divisions in the same order (separate
operations, nothing fused), so they give the same bits.
"""
from __future__ import annotations

import numpy as np


def make_blend(predictor, tile_h: int, width: int, weights: np.ndarray):
    """``TorchBlend`` on the predictor's device when it blends there (torch on CUDA), else ``NumpyBlend``."""
    device = getattr(predictor, "blend_device", None)
    if device is not None and hasattr(predictor, "predict_tensor"):
        return TorchBlend(predictor, tile_h, width, weights, device)
    return NumpyBlend(predictor, tile_h, width, weights)


def _missing(valid, unpredicted, top):
    if (valid & unpredicted).any():  # every valid pixel must have been predicted
        raise RuntimeError(f"tiling left valid pixels without prediction in rows {top}..{top + len(valid)}")


class NumpyBlend:
    def __init__(self, predictor, tile_h, width, weights):
        self.predictor, self.weights = predictor, weights
        self.tw = weights.shape[1]
        self.acc = np.zeros((tile_h, width), np.float32)
        self.wsum = np.zeros((tile_h, width), np.float32)
        self.weighted = np.empty(weights.shape, np.float32)

    def add_batch(self, cols, raw, mask, clock):
        """Run the predictor on one batch and add its tiles (starting at ``cols``)."""
        with clock("network"):
            p = self.predictor.predict(raw, mask)
        with clock("blend"):
            for k, c in enumerate(cols):  # acc += p * weights, without a temporary
                self.acc[:, c:c + self.tw] += np.multiply(p[k], self.weights, out=self.weighted)
                self.wsum[:, c:c + self.tw] += self.weights

    def finish_rows(self, n, valid, top):
        """The probability (n, width) float32 of the first ``n`` rows (0 where nothing was predicted);
        then the buffer moves up by ``n`` rows."""
        acc, wsum = self.acc, self.wsum
        _missing(valid, wsum[:n] <= 0, top)
        p = np.divide(acc[:n], wsum[:n], out=np.zeros_like(wsum[:n]), where=wsum[:n] > 0)
        keep = len(acc) - n
        acc[:keep], wsum[:keep] = acc[n:].copy(), wsum[n:].copy()
        acc[keep:], wsum[keep:] = 0.0, 0.0
        return p


class TorchBlend:
    def __init__(self, predictor, tile_h, width, weights, device):
        import torch

        self.torch, self.predictor = torch, predictor
        self.tw = weights.shape[1]
        with torch.inference_mode():
            self.weights = torch.from_numpy(weights).to(device)
            self.acc = torch.zeros((tile_h, width), dtype=torch.float32, device=device)
            self.wsum = torch.zeros((tile_h, width), dtype=torch.float32, device=device)

    def add_batch(self, cols, raw, mask, clock):
        with self.torch.inference_mode():
            with clock("network (queued)"):
                p = self.predictor.predict_tensor(raw, mask)  # the GPU works on; nothing waits here
            with clock("blend (queued)"):
                for k, c in enumerate(cols):
                    self.acc[:, c:c + self.tw] += p[k] * self.weights
                    self.wsum[:, c:c + self.tw] += self.weights

    def finish_rows(self, n, valid, top):
        torch = self.torch
        with torch.inference_mode():
            acc, wsum = self.acc, self.wsum
            covered = wsum[:n] > 0
            p = torch.where(covered, acc[:n] / torch.where(covered, wsum[:n], 1.0), 0.0)
            p, covered = p.cpu().numpy(), covered.cpu().numpy()  # the one wait per strip
            keep = len(acc) - n
            acc[:keep], wsum[:keep] = acc[n:].clone(), wsum[n:].clone()
            acc[keep:], wsum[keep:] = 0.0, 0.0
        _missing(valid, ~covered, top)
        return p
