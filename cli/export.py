"""``floodkd export-onnx CHECKPOINT OUT.onnx``: run models where torch is not installed."""
from __future__ import annotations


def add_parser(sub, name):
    p = sub.add_parser(name, help="export a floodkd checkpoint to ONNX (for onnxruntime, no torch needed)",
                       description="Writes an ONNX model (softmax probabilities, dynamic batch/height/width) "
                                   "carrying the checkpoint's bands, units, classes and input transform as "
                                   "metadata. Give the .onnx file as MODEL to `floodkd segment` or floodkd:segment.")
    p.add_argument("checkpoint", help="floodkd checkpoint (.pt)")
    p.add_argument("output", help="destination .onnx file")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..core.errors import InputError
    from ..core.models.onnx_export import export_onnx

    if not args.output.lower().endswith(".onnx"):
        raise InputError(f"output {args.output} should end in .onnx (segment picks the runtime by the extension)")
    meta = export_onnx(args.checkpoint, args.output, opset=args.opset)
    bands = ", ".join(f"{b['name']} [{b['units']}]" for b in meta["bands"])
    print(f"wrote {args.output}: {meta['arch']}/{meta['encoder']}, bands {bands}, classes {meta['classes']}")
    return 0
