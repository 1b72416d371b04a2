"""The worked lines of a trace, written out as the seeds do: 'h1 = 1×0.8 + 2×0.2 = 1.2'.

`worked_lines(trace)` returns plain dicts of strings; render.py lays them out as rich tables,
Markdown or JSON, so every view shows the same words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .loss_words import loss_gradient_words, loss_words, output_words
from .network import layer_symbol, neuron_names
from .numbers import RESULT_PLACES, activation_symbol, factor, fixed, join_sum, num, product

if TYPE_CHECKING:  # annotations only: trace.py imports this module to describe itself
    from .trace import BackwardLayer, ForwardLayer, Trace


def worked_lines(trace: Trace) -> dict:
    return {
        "forward": [forward_words(trace, layer) for layer in trace.forward],
        "output": output_words(trace),
        "loss": loss_words(trace) if trace.loss else None,
        "backward": [backward_words(trace, layer) for layer in trace.backward],
    }


def passed_value(trace: Trace, layer_index: int, value: float) -> str:
    """A value as the next layer received it: inputs as given, rounded activations as 0.90."""
    if trace.decimals is not None and 0 < layer_index < len(trace.forward):
        return fixed(value, trace.decimals)
    return num(value)


def values_symbol(trace: Trace, index: int) -> str:
    """X for the input (as the seeds write it), A<layer> for a layer's activations."""
    return "X" if index == 0 else f"A{layer_symbol(trace.net, index)}"


def layer_title(trace: Trace, index: int) -> str:
    net = trace.net
    kind = "output" if index == len(net.layers) else "hidden"
    activation = net.layers[index - 1].activation
    return f"Layer {index} ({kind}, {activation}): {layer_symbol(net, index - 1)} → {layer_symbol(net, index)}"


# ---------------------------------------------------------------- forward


def forward_words(trace: Trace, layer: ForwardLayer) -> dict:
    net, index = trace.net, layer.index
    sources, names = neuron_names(net, index - 1), neuron_names(net, index)
    dense = net.layers[index - 1]
    rows = []
    for j, name in enumerate(names):
        terms = [product(passed_value(trace, index - 1, value), num(w)) for value, w in zip(layer.inputs, dense.weight[j])]
        if dense.bias is not None:
            terms.append(factor(num(dense.bias[j])))
        rows.append({
            "neuron": name,
            "sum": f"{name} = {join_sum(terms)} = {num(layer.z[j])}",
            "activation": activation_words(trace, layer, j),
        })
    symbol = layer_symbol(net, index)
    bias = f" + b{symbol}" if dense.bias is not None else ""
    f = activation_symbol(layer.activation)
    formula = f"Z{symbol} = W{symbol}·{values_symbol(trace, index - 1)}{bias}, A{symbol} = {f}(Z{symbol})"
    return {"layer": index, "title": layer_title(trace, index), "formula": formula, "inputs": sources, "rows": rows}


def activation_words(trace: Trace, layer: ForwardLayer, j: int) -> str:
    """σ(1.2) = 0.7685; in --decimals mode σ(1.2) = 0.76852 ≈ 0.77; the output gets 5 decimals."""
    symbol = activation_symbol(layer.activation)
    is_output = layer.index == len(trace.forward)
    places = RESULT_PLACES if is_output or trace.decimals is not None else None
    value = num(layer.a[j], places) if places else num(layer.a[j])
    text = f"{symbol}({num(layer.z[j])}) = {value}"
    if trace.decimals is not None and not is_output:
        text += f" ≈ {fixed(layer.passed_on[j], trace.decimals)}"
    return text


# ---------------------------------------------------------------- backward


def backward_words(trace: Trace, layer: BackwardLayer) -> dict:
    net, index = trace.net, layer.index
    symbol, below = layer_symbol(net, index), values_symbol(trace, index - 1)
    is_output = index == len(net.layers)
    f = activation_symbol(net.layers[index - 1].activation)
    if is_output:
        error_formula = loss_gradient_words(trace, None)
        delta_formula = f"δ{symbol} = ∂E/∂ŷ ⊙ {f}'(Z{symbol})"
    else:
        above = layer_symbol(net, index + 1)
        error_formula = f"∂E/∂A{symbol} = δ{above}·W{above}"
        delta_formula = f"δ{symbol} = (δ{above}·W{above}) ⊙ {f}'(Z{symbol})   [the seeds' (δo Woᵀ) ⊙ σ'(Zh)]"
    rows = [_delta_row(trace, layer, j, name) for j, name in enumerate(neuron_names(net, index))]
    return {
        "layer": index,
        "title": layer_title(trace, index),
        "error_formula": error_formula,
        "delta_formula": delta_formula,
        "gradient_formula": f"∂E/∂W{symbol} = δ{symbol} ⊗ {below}"
                            f"  (entry i,j = δ{symbol}_i × {below}_j; the seeds write {below}ᵀ δ{symbol})",
        "update_formula": f"W{symbol} ← W{symbol} − α ∂E/∂W{symbol}, α = {num(trace.learning_rate)}",
        "rows": rows,
        "parameters": parameter_rows(trace, layer),
    }


def _delta_row(trace: Trace, layer: BackwardLayer, j: int, name: str) -> dict:
    net, index = trace.net, layer.index
    if index == len(net.layers):
        error = loss_gradient_words(trace, j)
    else:
        above = trace.net.layers[index]  # the next layer's weights carry δ back
        next_delta = trace.backward[len(net.layers) - index - 1].delta
        terms = [product(num(d), num(w)) for d, w in zip(next_delta, above.weight[:, j])]
        error = f"{join_sum(terms)} = {num(layer.error_in[j])}"
    return {
        "neuron": name,
        "error": error,
        "derivative": derivative_words(trace, layer, j),
        "delta": f"δ{name} = {product(num(layer.error_in[j]), num(layer.derivative[j]))} = {num(layer.delta[j])}",
    }


def derivative_words(trace: Trace, layer: BackwardLayer, j: int) -> str:
    """σ'(1.2409) = 0.7757(1 − 0.7757) = 0.174: the seeds' σ'(Z) = A(1 − A); tanh' = 1 − A²."""
    name = trace.net.layers[layer.index - 1].activation
    z = trace.forward[layer.index - 1].z[j]
    a = trace.forward[layer.index - 1].a[j]
    head = f"{activation_symbol(name)}'({num(z)})"
    if name == "sigmoid":
        return f"{head} = {num(a)}(1 − {num(a)}) = {num(layer.derivative[j])}"
    if name == "tanh":
        return f"{head} = 1 − {num(a)}² = {num(layer.derivative[j])}"
    return f"{head} = {num(layer.derivative[j])}"


def parameter_rows(trace: Trace, layer: BackwardLayer) -> list[dict]:
    """Each weight and bias: its value, ∂E/∂w = δ × a, and w − α∂E/∂w."""
    net, index = trace.net, layer.index
    dense = net.layers[index - 1]
    sources, targets = neuron_names(net, index - 1), neuron_names(net, index)
    inputs = trace.forward[index - 1].inputs
    alpha = num(trace.learning_rate)
    rows = []
    for i, target in enumerate(targets):
        for j, source in enumerate(sources):
            grad = layer.weight_gradient[i, j]
            factors = product(num(layer.delta[i]), passed_value(trace, index - 1, inputs[j]))
            rows.append({
                "name": f"w({target}←{source})",
                "value": num(dense.weight[i, j]),
                "gradient": f"δ{target}×{source} = {factors} = {num(grad)}",
                "updated": f"{num(dense.weight[i, j])} − {product(alpha, num(grad))} = {num(layer.new_weight[i, j])}",
            })
        if dense.bias is not None:
            rows.append({
                "name": f"b({target})",
                "value": num(dense.bias[i]),
                "gradient": f"δ{target} = {num(layer.bias_gradient[i])}",
                "updated": f"{num(dense.bias[i])} − {product(alpha, num(layer.bias_gradient[i]))} = {num(layer.new_bias[i])}",
            })
    return rows
