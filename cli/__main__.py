"""``python -m floodkd.cli``: the ``floodkd`` command line."""
from .main import main

if __name__ == "__main__":
    raise SystemExit(main())
