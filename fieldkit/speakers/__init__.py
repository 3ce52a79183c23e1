"""Who spoke: voice activity, CAM++ speaker embeddings (ONNX), clustering and attribution of
transcript segments, offline on the CPU."""
