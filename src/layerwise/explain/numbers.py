"""How numbers are written in a worked example: short, like a hand calculation (1.2, 0.7685)."""

from __future__ import annotations

# Decimals shown for intermediate values (σ(1.2) = 0.7685) and for results (ŷ = 0.77572, E).
STEP_PLACES = 4
RESULT_PLACES = 5
# Below this size a fixed number of decimals would show 0.0000; such values get 3 significant
# digits in scientific notation instead (1.23e-05).
SMALL = 1e-3
# A sum with more terms than this is shortened to its first terms, "…", and its last term.
MAX_TERMS = 8
SIGMA = "σ"


def num(value: float, places: int = STEP_PLACES) -> str:
    """1.2 -> '1.2', 0.768525 -> '0.7685', 1.5e-05 -> '1.5e-05', -0.0 -> '0'."""
    value = float(value)
    if value == 0 or abs(value) < 0.5 * 10 ** -(places + 8):
        return "0"
    if abs(value) < SMALL or abs(value) >= 1e7:
        return f"{value:.2e}".replace(".00e", "e").replace("0e", "e")
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fixed(value: float, places: int) -> str:
    """Exactly `places` decimals, as a hand calculation writes a rounded value (0.90, not 0.9)."""
    return f"{float(value):.{places}f}"


def factor(text: str) -> str:
    """Parenthesise a negative number used in a product: 1×(-0.5)."""
    return f"({text})" if text.startswith("-") else text


def product(left: str, right: str) -> str:
    return f"{factor(left)}×{factor(right)}"


def join_sum(terms: list[str]) -> str:
    """'a + b + c', shortened to 'a + b + c + … + z (n terms)' when long."""
    if len(terms) > MAX_TERMS:
        terms = terms[:3] + ["…"] + terms[-1:] + [f"({len(terms)} terms)"]
        return " + ".join(terms[:-1]) + " " + terms[-1]
    return " + ".join(terms)


def activation_symbol(name: str) -> str:
    """σ for sigmoid (as in the seeds), id for identity, the activation's own name otherwise."""
    return {"sigmoid": SIGMA, "identity": "id"}.get(name, name)
