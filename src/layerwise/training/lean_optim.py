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
    namespace = {}
    for method in _GUARDED:
        plain, guarded = inspect.unwrap(getattr(base, method)), getattr(base, method)

        def call(self, *args, _plain=plain, _guarded=guarded, **kwargs):
            return (_guarded if _compiler_loaded() else _plain)(self, *args, **kwargs)

        namespace[method] = functools.wraps(plain)(call)

    def step(self, closure=None):
        if _compiler_loaded() or _has_step_hooks(self):
            return base.step(self, closure)  # torch's own path, hooks and guards included
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
