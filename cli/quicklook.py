"""``floodkd quicklook SAR CLASSES PNG``: VV in grey with water in blue."""


def add_parser(sub, name):
    p = sub.add_parser(name, help="render a PNG quick-look of a flood raster over its SAR scene")
    p.add_argument("sar", help="the Sentinel-1 VV/VH scene that was segmented")
    p.add_argument("classes", help="the floodkd class raster (0 dry, 1 water, 255 nodata)")
    p.add_argument("png", help="destination PNG")
    p.add_argument("--max-side", type=int, default=1024, help="longest side of the PNG in pixels")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..core.products.quicklook import quicklook_scene

    print(quicklook_scene(args.sar, args.classes, args.png, args.max_side))
    return 0
