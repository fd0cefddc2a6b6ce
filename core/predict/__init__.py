"""Ways of predicting water (torch, ONNX Runtime, Otsu, fixed threshold), their factory and runtimes."""
