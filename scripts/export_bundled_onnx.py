"""Regenerate resources/models/floodkd_s1_student.onnx from the bundled .pt beside it.

    .venv/bin/python scripts/export_bundled_onnx.py [--pt resources/models/floodkd_s1_student.pt]

The .onnx is what segment uses by default wherever onnxruntime is installed
(core/model_choice.py), so the bundled model runs without PyTorch. It is
`floodkd export-onnx` of the checkpoint, with one change: the weights are
stored as float16 with a Cast to float32 in front of the graph (the checkpoint
keeps float16 weights anyway; the export folds batch norm into the
convolutions, which rounds those to float16 at ~5e-4 relative), which halves
the file (49 -> 25 MB) so the plugin zip stays under plugins.qgis.org's limit.
Computation stays float32. The weights checksum (core/onnx_weights.py) is
recomputed for the stored weights. Run it again whenever the .pt changes.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PT = os.path.join(ROOT, "resources", "models", "floodkd_s1_student.pt")


def store_float16(proto) -> int:
    """Float32 initializers become float16 + Cast (in place); returns how many."""
    from onnx import TensorProto, helper, numpy_helper

    casts = []
    for init in proto.graph.initializer:
        if init.data_type != TensorProto.FLOAT or not init.dims:  # scalars and shapes stay as they are
            continue
        values = numpy_helper.to_array(init)
        if np.abs(values).max(initial=0) >= 65504:  # would overflow float16
            continue
        name = init.name
        init.CopyFrom(numpy_helper.from_array(values.astype(np.float16), f"{name}__fp16"))
        casts.append(helper.make_node("Cast", [f"{name}__fp16"], [name], to=TensorProto.FLOAT,
                                      name=f"{name}__to_float"))
    nodes = list(proto.graph.node)
    del proto.graph.node[:]
    proto.graph.node.extend(casts + nodes)
    return len(casts)


def export_half(pt: str, out: str) -> None:
    import onnx

    from floodkd.core.onnx_export import export_onnx, weights_checksum
    from floodkd.core.onnx_weights import WEIGHTS_KEY

    folder = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(prefix=".floodkd-", suffix=".onnx", dir=folder)
    os.close(fd)
    try:
        export_onnx(pt, tmp)
        proto = onnx.load(tmp)
        n = store_float16(proto)
        onnx.checker.check_model(proto)
        digest = weights_checksum(proto.SerializeToString(), pt)
        for entry in proto.metadata_props:
            if entry.key == WEIGHTS_KEY:
                entry.value = digest
        onnx.save(proto, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"wrote {out} ({os.path.getsize(out) / 2**20:.1f} MiB, {n} weight tensors as float16)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pt", default=DEFAULT_PT, help="the checkpoint (default: the bundled one)")
    ap.add_argument("--out", help="default: the .pt's name with .onnx")
    args = ap.parse_args(argv)
    export_half(args.pt, args.out or os.path.splitext(args.pt)[0] + ".onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
