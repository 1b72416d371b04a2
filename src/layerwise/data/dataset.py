"""What every data reader returns: raw features and targets, still in the user's units and labels.

Kept apart from the source grammar (sources.py), which imports the readers (builtin.py,
tables.py, mnist1d.py), so the readers can import this without an import circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np


@dataclass
class Dataset:
    name: str  # short name used for run directories, e.g. "digits" or "houses"
    X: Any  # pandas DataFrame (tables) or ndarray (n, ...) (images, arrays)
    y: Optional[np.ndarray]  # (n,) labels/values or (n, k) multi-output; None when unlabelled
    kind: str = "table"  # "table" | "image" | "array"
    target_names: list[str] = field(default_factory=lambda: ["target"])
    X_test: Any = None  # the source's own test part, if it has one
    y_test: Optional[np.ndarray] = None
    pixel_scale: float = 1.0  # images: divide by this to reach [0, 1]
    task: Optional[str] = None  # a task the source knows (e.g. sum3 is regression)
    description: str = ""
    unused_columns: list[str] = field(default_factory=list)  # table columns left out by data.features/ignore/id_column
    # table columns read from text (data/numeric_text.py): {column: reading}; None until the table's
    # text has been judged (a file's when read; an in-memory DataFrame's in training.prepare)
    readings: Optional[dict[str, str]] = None

    def __len__(self) -> int:
        return len(self.X)
