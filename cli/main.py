"""The ``floodkd`` command line: one sub-command per module in COMMANDS.

Exit codes: 0 success, 1 some scenes of a batch failed (see its summary.csv),
2 bad input or checkpoint (message on stderr),
130 cancelled (Ctrl-C). Each command module defines ``add_parser(subparsers)``
and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys

# (sub-command, module under floodkd.cli) -- add new commands here.
COMMANDS = [
    ("segment", "segment"),
    ("segment-change", "change"),
    ("segment-batch", "batch"),
    ("quicklook", "quicklook"),
    ("evaluate", "evaluate"),
    ("train-teacher", "train"),
    ("train-supervised", "train"),
    ("distill", "train"),
    ("export-onnx", "export"),
]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="floodkd", description="Flood mapping from Sentinel-1 SAR (cross-modal distillation).")
    parser.add_argument("--version", action="version", version=f"floodkd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS:
        mod = importlib.import_module(f".{module}", __package__)
        mod.add_parser(sub, name)
    return parser


# Options whose value may start with "-" (a western longitude): argparse takes
# "--bbox -0.77,..." for two options, so the value is attached as "--bbox=-0.77,...".
NEGATIVE_VALUE_OPTIONS = ("--bbox",)


def attach_negative_values(argv: list) -> list:
    """``[..., "--bbox", "-0.77,38.3,-0.7,38.4"]`` -> ``[..., "--bbox=-0.77,38.3,-0.7,38.4"]``."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return out + argv[i:]
        if arg in NEGATIVE_VALUE_OPTIONS and i + 1 < len(argv) and re.match(r"-[\d.]", argv[i + 1]):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def undecodable_arguments(args) -> list:
    """Option values that hold bytes Python could not decode (``ascii()`` of each), e.g. Latin-1 file names."""
    bad = []
    for value in vars(args).values():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    bad.append(ascii(text))
    return bad


def main(argv=None) -> int:
    from ..core.errors import Cancelled, FloodKDError
    from ..core.stop_signals import signals_cancel

    argv = attach_negative_values(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    undecodable = undecodable_arguments(args)
    if undecodable:
        print(f"floodkd: error: {undecodable[0]} is not valid UTF-8 (a file name in another encoding); GDAL "
              "cannot open it. Rename the file (or folder) with UTF-8 characters only.", file=sys.stderr)
        return 2
    try:
        with signals_cancel(as_interrupt=True):  # SIGTERM, SIGHUP: like Ctrl-C, temporary files removed
            return int(args.run(args) or 0)
    except Cancelled as exc:
        print(f"floodkd: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("floodkd: cancelled; no output was written", file=sys.stderr)
        return 130
    except FloodKDError as exc:
        print(f"floodkd: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("floodkd: error: out of memory. Use a smaller --tile or --batch-size, fewer --threads, or "
              "process a smaller area (--bbox); no output was written.", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only destination (nothing was left half-written)
        print(f"floodkd: error: {exc}. Check the destination folder, its permissions and free disk space.",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
