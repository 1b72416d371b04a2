"""The output, the loss E and ∂E/∂ŷ written out, with the formula each loss uses (torch's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .numbers import MAX_TERMS, RESULT_PLACES, num

if TYPE_CHECKING:  # annotations only: trace.py -> words.py -> here
    from .trace import Trace

# What E is, as torch defines it (mean over the output values of one example).
LOSS_FORMULAS = {
    "mse": "E = mean((ŷ − y)²)   [torch.nn.MSELoss]",
    "l1": "E = mean(|ŷ − y|)   [torch.nn.L1Loss]",
    "huber": "E = mean(½(ŷ − y)² where |ŷ − y| < 1, else |ŷ − y| − ½)   [torch.nn.HuberLoss, delta 1]",
    "ce": "E = −log p_y with p = softmax(ŷ): the output is logits, softmax is part of the loss   [torch.nn.CrossEntropyLoss]",
    "bce": "E = −mean(y log ŷ + (1 − y) log(1 − ŷ))   [torch.nn.BCELoss]",
    "bce_logits": "E = −mean(y log σ(ŷ) + (1 − y) log(1 − σ(ŷ))): the output is logits   [torch.nn.BCEWithLogitsLoss]",
}
# ∂E/∂ŷ for each output value; n is the number of output values.
GRADIENT_FORMULAS = {
    "mse": "∂E/∂ŷ = 2(ŷ − y)/n",
    "l1": "∂E/∂ŷ = sign(ŷ − y)/n",
    "huber": "∂E/∂ŷ = clip(ŷ − y, −1, 1)/n",
    "ce": "∂E/∂ŷ = p − y  (y one-hot)",
    "bce": "∂E/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ))/n",
    "bce_logits": "∂E/∂ŷ = (σ(ŷ) − y)/n",
}


def _r(value: float) -> str:
    return num(value, RESULT_PLACES)


def output_words(trace: Trace) -> list[str]:
    y_hat = trace.output
    lines = [f"ŷ = {_r(y_hat[0])}" if y_hat.size == 1 else f"ŷ = ({', '.join(_r(v) for v in y_hat)})"]
    if trace.loss == "ce":
        p = trace.probabilities
        best = int(p.argmax())
        name = f" ({trace.net.classes[best]})" if trace.net.classes and len(trace.net.classes) == p.size else ""
        lines.append(f"softmax: p = ({', '.join(_r(v) for v in p)}); the largest, p{best + 1}, is class {best}{name}")
    if trace.loss == "bce_logits":
        meaning = "the probability of class 1" if y_hat.size == 1 else "each output's probability of being 1"
        lines.append(f"σ(ŷ) = ({', '.join(_r(v) for v in trace.probabilities)}): {meaning}")
    return lines


def loss_words(trace: Trace) -> dict:
    return {"formula": LOSS_FORMULAS[trace.loss], "worked": f"E = {_worked_loss(trace)} = {_r(trace.loss_value)}"}


def _worked_loss(trace: Trace) -> str:
    y_hat, y, n = trace.output, trace.target, trace.output.size
    if trace.loss == "ce":
        index = int(y.argmax())
        return f"−log p{index + 1} = −log {_r(trace.probabilities[index])}"
    if n > MAX_TERMS:
        return f"mean over {n} outputs"
    pairs = list(zip(y_hat, y))
    if trace.loss == "mse":
        terms = [f"({_r(a)} − {num(b)})²" for a, b in pairs]
    elif trace.loss == "l1":
        terms = [f"|{_r(a)} − {num(b)}|" for a, b in pairs]
    elif trace.loss == "huber":
        terms = [f"huber({_r(a)} − {num(b)})" for a, b in pairs]
    else:  # bce on probabilities or on logits (then through σ)
        probs = y_hat if trace.loss == "bce" else trace.probabilities
        terms = [f"({num(b)}·log {_r(p)} + {num(1 - b)}·log(1 − {_r(p)}))" for p, b in zip(probs, y)]
        return ("−" if n == 1 else "−(") + " + ".join(terms) + ("" if n == 1 else f")/{n}")
    return terms[0] if n == 1 else f"({' + '.join(terms)})/{n}"


def loss_gradient_words(trace: Trace, j: int | None) -> str:
    """The ∂E/∂ŷ formula (j None) or its worked value for output j."""
    if j is None:
        return GRADIENT_FORMULAS[trace.loss]
    a, y, n = trace.output[j], trace.target[j], trace.output.size
    value = trace.backward[0].error_in[j]
    if trace.loss == "ce":  # p = softmax(ŷ)
        worked = f"{_r(trace.probabilities[j])} − {num(y)}"
    elif trace.loss == "bce_logits":  # p = σ(ŷ)
        worked = f"({_r(trace.probabilities[j])} − {num(y)})/{n}"
    elif trace.loss == "bce":
        worked = f"({_r(a)} − {num(y)})/({_r(a)}(1 − {_r(a)}))/{n}"
    else:
        shape = {"mse": "2({})/{}", "l1": "sign({})/{}", "huber": "clip({}, −1, 1)/{}"}[trace.loss]
        worked = shape.format(f"{_r(a)} − {num(y)}", n)
    return f"{worked} = {num(value)}"
