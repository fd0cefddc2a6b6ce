"""``python -m floodkd.worker``: run one job (see worker/server.py)."""
from .server import main

if __name__ == "__main__":
    raise SystemExit(main())
