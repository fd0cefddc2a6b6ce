"""Export a floodkd checkpoint to ONNX, its metadata travelling inside the file.

The graph takes the network input (N, C, H, W) float32 (what
``representation.model_input`` makes; H and W multiples of the encoder's
stride, any N) and returns class probabilities (N, classes, H, W) (softmax
included). Everything in the checkpoint but the weights (bands with units and
clip ranges, classes, input transform, architecture, training, metrics) is
stored as JSON under the ONNX ``metadata_props`` key ``floodkd_checkpoint``,
so ``OnnxPredictor`` checks inputs exactly as checkpoints are checked. A
sha256 of graph, weights and metadata (core/models/onnx_weights.py) is stored
under ``floodkd_sha256``; loading verifies it (:func:`verify_onnx_bytes`).
"""
from __future__ import annotations

import json
import warnings

from .checkpoint import load_checkpoint, model_from_checkpoint
from ..errors import CheckpointError, FloodKDError, require_module, require_torch
from .onnx_weights import MODEL_KEY, WEIGHTS_KEY, MalformedOnnx, inspect_weights, model_digest

METADATA_KEY = "floodkd_checkpoint"
OPSET = 17


def checkpoint_metadata(ckpt: dict) -> str:
    """The checkpoint without its weights, as JSON (non-JSON values as strings)."""
    meta = {k: v for k, v in ckpt.items() if k != "state_dict"}
    return json.dumps(meta, default=str, sort_keys=True)


def weights_checksum(data: bytes, path: str) -> str:
    """sha256 of an ONNX model's weights; CheckpointError for NaN/inf or weights outside the file."""
    try:
        digest, count, bad, external = inspect_weights(data)
    except MalformedOnnx as exc:
        raise CheckpointError(f"{path} is not a readable ONNX model ({exc}); export it again.") from None
    if bad:
        raise CheckpointError(f"{path} is corrupted: {len(bad)} weight tensor(s) hold NaN or infinite values "
                              f"({', '.join(bad[:3])}). Export it again from an intact checkpoint.")
    if external or not count:
        raise CheckpointError(f"{path} keeps {'some of its weights in other files' if external else 'no weights'}; "
                              "floodkd uses single-file models written by `floodkd export-onnx`.")
    return digest


def sign_onnx(proto) -> str:
    """Record the checksum of graph, weights and metadata in ``proto`` (an onnx.ModelProto; replaces an
    older one); returns it. Call it after the last change to the model."""
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key not in (MODEL_KEY, WEIGHTS_KEY)]
    del proto.metadata_props[:]
    for key, value in kept:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    digest = model_digest(proto.SerializeToString())
    entry = proto.metadata_props.add()
    entry.key, entry.value = MODEL_KEY, digest
    return digest


def verify_onnx_bytes(data: bytes, metadata: dict, path: str) -> None:
    """Refuse NaN/inf or outside weights, and a model changed since export (graph, weights or metadata).

    ``metadata``: the file's metadata_props as a dict. Files that carry only
    the former weights-only checksum are refused: export them again.
    """
    weights_checksum(data, path)  # finite weights, all inside the file
    expected = metadata.get(MODEL_KEY)
    if not expected:
        if metadata.get(WEIGHTS_KEY):
            raise CheckpointError(
                f"{path} was exported by an older floodkd whose checksum covers only the weights, so an edited "
                "graph or metadata (classes, clip ranges) would go unnoticed; export it again with `floodkd "
                "export-onnx` (or 'Export a model to ONNX' in QGIS) from its .pt checkpoint.")
        raise CheckpointError(f"{path} carries no checksum (key '{MODEL_KEY}'), so a corrupted or edited copy "
                              "cannot be told from a good one; export it again with `floodkd export-onnx`.")
    try:
        digest = model_digest(data)
    except MalformedOnnx as exc:
        raise CheckpointError(f"{path} is not a readable ONNX model ({exc}); export it again.") from None
    if digest != expected:
        raise CheckpointError(
            f"{path} is corrupted or was edited: its graph, weights or floodkd metadata do not match the checksum "
            f"recorded at export (sha256 {expected[:12]}..., now {digest[:12]}...). Copy or export it again.")


def export_onnx(checkpoint_path: str, onnx_path: str, opset: int = OPSET, tile: int = 512) -> dict:
    """Write ``onnx_path`` from a floodkd checkpoint (atomically); returns the metadata.

    Uses torch's TorchScript-based exporter (``dynamo=False``), which needs the
    ``onnx`` package; batch, height and width stay dynamic.
    """
    from ..io.destinations import Files
    from ..io.publish import publishing

    files = Files((("the ONNX model (OUTPUT)", onnx_path, (".onnx",)),))
    with publishing(files, {"CHECKPOINT": checkpoint_path}) as pub:  # checked, locked, published like segment's
        ckpt = _export(checkpoint_path, pub.stage(onnx_path), opset, tile)
    return json.loads(checkpoint_metadata(ckpt))


def _export(checkpoint_path: str, tmp: str, opset: int, tile: int) -> dict:
    """Export the checkpoint into the new file ``tmp`` (a staged name); returns the checkpoint."""
    torch = require_torch()
    onnx = require_module("onnx", "exporting to ONNX needs the 'onnx' package: `pip install onnx==1.23.2` "
                                  "(pinned in requirements.txt; run scripts/setup.sh)")
    ckpt = load_checkpoint(checkpoint_path, role="export")
    model = model_from_checkpoint(ckpt)
    channels = int(ckpt.get("in_channels", len(ckpt["bands"])))

    class WithSoftmax(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return torch.softmax(self.net(x), dim=1)

    try:
        # The TorchScript exporter is deprecated in favour of dynamo, which needs
        # the onnxscript package as well; this one needs only onnx.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(WithSoftmax(model).eval(), (torch.zeros(1, channels, tile, tile),), tmp,
                              dynamo=False, opset_version=opset, input_names=["input"],
                              output_names=["probabilities"],
                              dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"},
                                            "probabilities": {0: "batch", 2: "height", 3: "width"}})
        proto = onnx.load(tmp)
        weights_checksum(proto.SerializeToString(), checkpoint_path)
        entry = proto.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, checkpoint_metadata(ckpt)
        proto.producer_name = "floodkd"
        digest = sign_onnx(proto)
        onnx.save(proto, tmp)
        with open(tmp, "rb") as fh:
            if model_digest(fh.read()) != digest:
                raise FloodKDError("the written file differs from the exported model (disk error?)")
        from ..io.raster_io import _umask_permissions

        _umask_permissions(tmp)
    except FloodKDError:
        raise
    except Exception as exc:
        raise FloodKDError(f"could not export {checkpoint_path} to ONNX ({type(exc).__name__}: {exc})") from exc
    return ckpt
