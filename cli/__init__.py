"""The ``floodkd`` command line: one front end over core and training."""
