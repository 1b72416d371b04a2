"""Data: sources -> raw Dataset -> (training split only) preprocessing -> float32 features."""

from .sources import Dataset, load_source, source_name

__all__ = ["Dataset", "load_source", "source_name"]
