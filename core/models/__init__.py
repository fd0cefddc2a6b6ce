"""Network architectures, checkpoints, ONNX export and its weights checksum."""
