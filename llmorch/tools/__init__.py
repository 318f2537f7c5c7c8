"""Tools the model may call: typed functions with a JSON Schema, a registry, safe execution."""
