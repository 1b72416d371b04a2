"""torch's optimizers without their `torch.compile` guards, for a loop that never compiles them.

Why: `torch.optim.Optimizer` wraps `add_param_group`, `zero_grad`, `state_dict`,
`load_state_dict` and the functional `adam`/`rmsprop` in `torch._disable_dynamo`, and `step` in a
wrapper that runs `import torch._dynamo` + two `graph_break()` calls. The first of these imports
torch's whole compiler stack (sympy, fx, dynamo: ~1-2 s, measured with `python -X importtime`),
and the `step` wrapper plus the profiler hook cost microseconds on every step. layerwise's loop
never runs under `torch.compile`, so none of that protects anything here.

What stays the same: the class is a subclass of torch's own (Adam, AdamW, SGD, RMSprop), the
update is torch's code (the fused / foreach kernels included) and `state_dict()` is the same
dict, so checkpoints, schedulers and resume see a plain torch optimizer. If torch's compiler is
already loaded (someone compiles in this process), the guards are left in place.

Fused Adam/AdamW also skip torch's per-step Python (`_init_group`, the device/dtype grouping, the
dispatch through `adam()`): from the second step on, the lists of parameters and state tensors
are kept and each step makes the same two kernel calls torch's `_fused_adam` makes
(`_foreach_add_` on the step counts, then `_fused_adam_`/`_fused_adamw_`), so the weights are
bit-identical. That Python was ~60 us of a ~600 us W1 step on a 2-core Xeon (1 thread, measured
against the direct calls; benchmarks/RESULTS.md, issue 14).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys

import torch
from torch.optim import optimizer as torch_optimizer

_GUARDED = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")
# torch.optim.<module>.<function>: the functional updates wrapped by `_disable_dynamo_if_unsupported`
_FUNCTIONAL = {"Adam": ("adam", "adam"), "AdamW": ("adam", "adam"), "RMSprop": ("rmsprop", "rmsprop")}


def _compiler_loaded() -> bool:
    return "torch._dynamo" in sys.modules


def _has_step_hooks(optimizer) -> bool:
    return bool(optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks
                or torch_optimizer._global_optimizer_pre_hooks
                or torch_optimizer._global_optimizer_post_hooks)


@functools.lru_cache(maxsize=None)
def lean_class(base: type) -> type:
    """A subclass of the torch optimizer `base` whose guarded methods call torch's plain ones."""
    module, name = _FUNCTIONAL.get(base.__name__, (None, None))
    functional = None
    if module is not None:
        functional = inspect.unwrap(getattr(importlib.import_module(f"torch.optim.{module}"), name))
    plain_step = inspect.unwrap(base.step)
    fused_adam = issubclass(base, torch.optim.Adam)  # AdamW too: a subclass with decoupled decay
    namespace = {}
    for method in _GUARDED:
        plain, guarded = inspect.unwrap(getattr(base, method)), getattr(base, method)

        def call(self, *args, _plain=plain, _guarded=guarded, **kwargs):
            return (_guarded if _compiler_loaded() else _plain)(self, *args, **kwargs)

        namespace[method] = functools.wraps(plain)(call)

    def step(self, closure=None):
        if _compiler_loaded() or _has_step_hooks(self):
            return base.step(self, closure)  # torch's own path, hooks and guards included
        if fused_adam and closure is None:
            with torch.no_grad():
                if _fused_adam_step(self):
                    return None
        # `torch._disable_dynamo` caches its wrapper under `__dynamo_disable` on first call:
        # while this step runs, that cache holds the plain function itself (put back after).
        seeded = functional is not None and not hasattr(functional, "__dynamo_disable")
        if seeded:
            setattr(functional, "__dynamo_disable", functional)
        try:
            with torch.no_grad():
                return plain_step(self, closure)
        finally:
            if seeded:
                delattr(functional, "__dynamo_disable")

    def zero_grad(self, set_to_none: bool = True):
        if not set_to_none or _compiler_loaded():
            return namespace["_zero_grad"](self, set_to_none)
        for group in self.param_groups:  # torch's loop minus its profiler label and grad buckets
            for p in group["params"]:
                p.grad = None

    namespace["_zero_grad"], namespace["zero_grad"] = namespace["zero_grad"], zero_grad
    step.hooked = True  # keeps Optimizer.__init__ from wrapping it in the profiler hook
    namespace["step"] = step
    namespace["__doc__"] = f"torch.optim.{base.__name__} without the torch.compile guards."
    return type(base.__name__, (base,), namespace)


def _fused_adam_step(optimizer) -> bool:
    """One fused Adam/AdamW update from the kept lists (the same kernel calls as torch's
    `_fused_adam`); False, with nothing changed, when this step needs torch's own path: not fused,
    amsgrad, a grad scaler attached, a parameter without a gradient, state not made yet, a tensor lr."""
    kept = optimizer.__dict__.get("_lean_lists")
    if kept is None or kept[1] is None or kept[0] is not optimizer.state \
            or len(kept[1]) != len(optimizer.param_groups) \
            or any(group["params"] is not params for group, (params, *_) in zip(optimizer.param_groups, kept[1])):
        # made again after load_state_dict (a new state dict), add_param_group, or while the
        # state is not made yet (torch's first step makes it)
        kept = optimizer._lean_lists = (optimizer.state, _fused_adam_lists(optimizer))
    groups = kept[1]
    if groups is None or getattr(optimizer, "grad_scale", None) is not None \
            or getattr(optimizer, "found_inf", None) is not None:
        return False
    grads = [[p.grad for p in params] for params, *_ in groups]
    if any(g is None for group_grads in grads for g in group_grads) or any(
            isinstance(group["lr"], torch.Tensor) for group in optimizer.param_groups):  # a scheduler may set it
        return False
    for group, (params, exp_avgs, exp_avg_sqs, steps), group_grads in zip(optimizer.param_groups, groups, grads):
        (beta1, beta2) = group["betas"]
        kernel = torch._fused_adamw_ if group["decoupled_weight_decay"] else torch._fused_adam_
        torch._foreach_add_(steps, 1)
        kernel(params, group_grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=group["lr"], beta1=beta1,
               beta2=beta2, weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"],
               grad_scale=None, found_inf=None)
    return True


def _fused_adam_lists(optimizer):
    """Per group (params, exp_avgs, exp_avg_sqs, steps) when every group can take the kept-lists
    path: fused, no amsgrad, no tensor hyperparameters, state made, one device and dtype (torch
    would group by device and dtype; with one of each its lists are these, in this order)."""
    groups = []
    for group in optimizer.param_groups:
        params = group["params"]
        if not group["fused"] or group["amsgrad"] or group["differentiable"] or group["capturable"] \
                or any(isinstance(group[k], torch.Tensor) for k in ("lr", "weight_decay", "eps")) \
                or any(isinstance(b, torch.Tensor) for b in group["betas"]):
            return None
        states = [optimizer.state.get(p) for p in params]
        if not params or any(not s or "exp_avg" not in s for s in states) \
                or len({(p.device, p.dtype) for p in params}) != 1:
            return None
        groups.append((params, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
                       [s["step"] for s in states]))
    return groups
