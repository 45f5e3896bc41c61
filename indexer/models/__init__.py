"""indexer.models: embedding models that run offline — conversion, ONNX, the static model."""
