"""`layerwise draw` / layerwise.explain.draw: the picture is written, wide layers are capped."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

from layerwise.errors import LayerwiseError
from layerwise.explain import draw
from layerwise.explain.drawing import shown_neurons

SEED0_FILE = Path(__file__).resolve().parents[1] / "docs" / "seed0-network.yaml"


def svg_text(path: Path) -> str:
    return path.read_text()


def test_seed0_drawing_is_written(tmp_path: Path) -> None:
    image = draw(SEED0_FILE, tmp_path / "seed0.png")
    assert image.stat().st_size > 10_000
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_small_networks_show_names_and_weights(tmp_path: Path) -> None:
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # keep text as text so we can read it
        image = draw(SEED0_FILE, tmp_path / "seed0.svg")
    text = svg_text(image)
    for label in ("x1", "h3", "0.8", "0.9", "sigmoid", "2-3-1 network"):
        assert label in text, label


def test_a_784_wide_input_is_capped_and_says_so(tmp_path: Path) -> None:
    assert shown_neurons(784, 16) == [*range(15), None, 783]
    assert shown_neurons(10, 16) == list(range(10))
    net = {"layers": [784, 32, 10], "activation": "relu", "output_activation": "identity", "seed": 1}
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        image = draw(net, tmp_path / "mnist.svg", max_neurons=16)
    text = svg_text(image)
    assert "showing 16 of 784" in text and "showing 16 of 32" in text and "x784" in text
    assert "x100" not in text  # neurons past the cap are not drawn
    assert "showing" not in text.split("showing 16 of 32")[1]  # the 10-wide output is not capped


def test_bad_draw_requests(tmp_path: Path) -> None:
    with pytest.raises(LayerwiseError, match="unknown image type '.gif'"):
        draw(SEED0_FILE, tmp_path / "net.gif")
    with pytest.raises(LayerwiseError, match="at least 2"):
        draw(SEED0_FILE, tmp_path / "net.png", max_neurons=1)


def test_the_draw_function_is_not_shadowed_by_a_module() -> None:
    import layerwise.explain
    import layerwise.explain.drawing  # noqa: F401  (importing the module must not replace the function)

    assert callable(layerwise.explain.draw) and callable(layerwise.explain.explain)
