"""A small, fast U-Net for Sentinel-1 water maps (pure PyTorch, no smp/timm).

Four stride-2 stages (1/2 .. 1/16 of the input) with dilated convolutions at
the coarse end for context, a U-Net decoder back to 1/2 resolution, and logits
upsampled bilinearly to the input size. Working at half resolution and above
skips the costly full-resolution convolutions: 10 m speckle is noise at that
scale, and the water edge is interpolated. ``width`` scales every stage
(24: the ~0.8 M-parameter student; 48: a ~3 M-parameter teacher).

Importing this module needs only torch: unlike smp (-> timm -> torchvision ->
torch._dynamo -> triton) it pulls in no LLVM that could clash with QGIS's.
"""
from __future__ import annotations


def _block(nn, cin, cout, stride=1, dilation=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def build_tiny_unet(in_channels: int, num_classes: int = 2, width: int = 24):
    """Build the network (random weights); input sides must be multiples of 16."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    c1, c2, c3, c4 = width, 2 * width, 4 * width, int(16 * width / 3)

    class TinyUNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc1 = nn.Sequential(_block(nn, in_channels, c1, 2), _block(nn, c1, c1))
            self.enc2 = nn.Sequential(_block(nn, c1, c2, 2), _block(nn, c2, c2))
            self.enc3 = nn.Sequential(_block(nn, c2, c3, 2), _block(nn, c3, c3), _block(nn, c3, c3, dilation=2))
            self.enc4 = nn.Sequential(_block(nn, c3, c4, 2), _block(nn, c4, c4, dilation=2))
            self.dec3 = _block(nn, c4 + c3, c3)
            self.dec2 = _block(nn, c3 + c2, c2)
            self.dec1 = _block(nn, c2 + c1, c1)
            self.head = nn.Conv2d(c1, num_classes, 1)

        @staticmethod
        def _up(x, skip):
            return torch.cat([F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False), skip], 1)

        def forward(self, x):
            e1 = self.enc1(x)
            e2 = self.enc2(e1)
            e3 = self.enc3(e2)
            e4 = self.enc4(e3)
            d = self.dec3(self._up(e4, e3))
            d = self.dec2(self._up(d, e2))
            d = self.dec1(self._up(d, e1))
            return F.interpolate(self.head(d), size=x.shape[-2:], mode="bilinear", align_corners=False)

    return TinyUNet()
