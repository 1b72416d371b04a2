"""Loss, optimizer and learning-rate schedule from a `RunConfig`."""

from __future__ import annotations

from ..spec import TrainingSpec


def make_loss(name: str, class_weights=None, label_smoothing: float = 0.0):
    """A mean-reduced torch loss. `class_weights` is a float tensor (one weight per class);
    `label_smoothing` moves that much of each one-hot target onto the classes evenly."""
    from torch import nn

    if name == "cross_entropy":
        return nn.CrossEntropyLoss(weight=class_weights, label_smoothing=label_smoothing)
    if name == "bce":
        bce = _smoothed_bce(label_smoothing) if label_smoothing else nn.BCEWithLogitsLoss
        if class_weights is None:
            return bce()
        # pos_weight rescales positives relative to negatives: w1 / w0 keeps the balance
        # `balanced` asks for while leaving the loss on the unweighted scale for negatives.
        return bce(pos_weight=class_weights[1:2] / class_weights[0])
    return {"mse": nn.MSELoss, "l1": nn.L1Loss, "huber": nn.HuberLoss}[name]()


def _smoothed_bce(epsilon: float):
    """BCEWithLogitsLoss on targets y(1 - eps) + eps/2: cross-entropy's label smoothing for 2 classes."""
    from torch import nn

    class SmoothedBCEWithLogitsLoss(nn.BCEWithLogitsLoss):
        def forward(self, outputs, target):
            return super().forward(outputs, target * (1.0 - epsilon) + 0.5 * epsilon)

    return SmoothedBCEWithLogitsLoss


def make_optimizer(spec: TrainingSpec, parameters, device_type: str):
    """The torch optimizer; fused kernels where torch has them for the device (one kernel per
    step instead of one per parameter: measured 0.24 s vs 0.31 s per W1 epoch on 2 CPU cores),
    as the `lean_optim` subclass that skips torch.compile's guards (and their 1-2 s import)."""
    import torch

    from .lean_optim import lean_class

    params = list(parameters)
    speed = {"fused": True} if spec.optimizer in ("sgd", "adam", "adamw") and device_type in ("cpu", "cuda", "mps") else {"foreach": True}
    if spec.optimizer == "sgd":
        return lean_class(torch.optim.SGD)(params, lr=spec.lr, momentum=spec.momentum, nesterov=spec.nesterov,
                               weight_decay=spec.weight_decay, **speed)
    betas = (0.9, spec.adam_beta2)
    if spec.optimizer == "adam":
        return lean_class(torch.optim.Adam)(params, lr=spec.lr, betas=betas, weight_decay=spec.weight_decay, **speed)
    if spec.optimizer == "adamw":
        return lean_class(torch.optim.AdamW)(params, lr=spec.lr, betas=betas, weight_decay=spec.weight_decay, **speed)
    return lean_class(torch.optim.RMSprop)(params, lr=spec.lr, momentum=spec.momentum,
                               weight_decay=spec.weight_decay, **speed)


def make_scheduler(spec: TrainingSpec, optimizer, steps_per_epoch: int):
    """(scheduler, when) with `when` in {"epoch", "batch", "metric", None}."""
    import torch.optim.lr_scheduler as sched

    if spec.schedule == "none":
        return None, None
    if spec.schedule == "step":
        return sched.StepLR(optimizer, step_size=spec.step_size, gamma=spec.gamma), "epoch"
    if spec.schedule == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=spec.epochs), "epoch"
    if spec.schedule == "onecycle":
        return sched.OneCycleLR(optimizer, max_lr=spec.lr, epochs=spec.epochs,
                                steps_per_epoch=max(steps_per_epoch, 1)), "batch"
    return sched.ReduceLROnPlateau(optimizer, factor=spec.gamma, patience=max(spec.early_stopping.patience // 2, 1)), "metric"
