"""The optimizers without torch.compile guards update weights exactly as torch's own do (fused /
foreach kernels kept), keep torch's state_dict, and never import torch's compiler stack."""

import subprocess
import sys

import pytest
import torch

from layerwise.training import lean_optim
from layerwise.training.lean_optim import lean_class

CASES = [(torch.optim.Adam, {"lr": 1e-2, "fused": True}),
         (torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.1, "fused": True}),
         (torch.optim.SGD, {"lr": 1e-2, "momentum": 0.9, "nesterov": True, "fused": True}),
         (torch.optim.RMSprop, {"lr": 1e-3, "momentum": 0.5, "foreach": True})]


def _train(optimizer_class, settings, steps=5):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    optimizer = optimizer_class(net.parameters(), **settings)
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    return net, optimizer


@pytest.mark.parametrize("base, settings", CASES, ids=[c[0].__name__ for c in CASES])
def test_same_weights_and_state_as_torch(base, settings):
    ours, ours_opt = _train(lean_class(base), settings)
    theirs, theirs_opt = _train(base, settings)
    assert isinstance(ours_opt, base)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(a, b)
    mine, reference = ours_opt.state_dict(), theirs_opt.state_dict()
    assert mine["param_groups"] == reference["param_groups"]
    for key, state in reference["state"].items():
        for name, value in state.items():
            assert torch.equal(mine["state"][key][name], value)


def test_state_dict_round_trip_continues_identically():
    base, settings = CASES[0]
    net, optimizer = _train(lean_class(base), settings, steps=3)
    copy = lean_class(base)(net.parameters(), **settings)
    copy.load_state_dict(optimizer.state_dict())
    assert torch.equal(copy.state_dict()["state"][0]["exp_avg"], optimizer.state_dict()["state"][0]["exp_avg"])


def test_step_hooks_still_run():
    net, optimizer = _train(lean_class(torch.optim.SGD), {"lr": 0.1})
    calls = []
    optimizer.register_step_post_hook(lambda *args: calls.append(1))
    optimizer.step()
    assert calls == [1]


def test_training_with_them_does_not_import_the_compiler():
    code = ("import sys, torch; from layerwise.training.lean_optim import lean_class; "
            "net = torch.nn.Linear(3, 2); "
            "opt = lean_class(torch.optim.Adam)(net.parameters(), lr=0.1, fused=True); "
            "opt.zero_grad(); net(torch.ones(4, 3)).sum().backward(); opt.step(); opt.state_dict(); "
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


FUSED_ADAM = [(torch.optim.Adam, {"lr": 1e-2, "fused": True}),
              (torch.optim.Adam, {"lr": 1e-2, "weight_decay": 0.1, "maximize": True, "fused": True}),
              (torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.1, "betas": (0.8, 0.99), "fused": True})]


@pytest.mark.parametrize("base, settings", FUSED_ADAM, ids=["adam", "adam-wd-maximize", "adamw"])
def test_fused_adam_kept_lists_match_torch_through_schedule_and_reload(base, settings, monkeypatch):
    """From the second step on, fused Adam/AdamW run from kept lists (not torch's step): weights
    and state stay bit-identical to torch's own optimizer through an lr schedule, a frozen
    parameter (no gradient: torch's path for that step), a state_dict reload and an added group."""
    def run(optimizer_class):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
        optimizer = optimizer_class(list(net[0].parameters()), **settings)
        schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
        for step in range(12):
            if step == 4:  # a reload: a new state dict, made from the old one
                reloaded = optimizer_class(list(net[0].parameters()), **settings)
                reloaded.load_state_dict(optimizer.state_dict())
                optimizer, schedule.optimizer = reloaded, reloaded
            if step == 7:
                optimizer.add_param_group({"params": list(net[2].parameters())})
            optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(net(x), y).backward()
            if step == 9:
                net[0].bias.grad = None
            optimizer.step()
            schedule.step()
        return net, optimizer

    theirs, theirs_opt = run(base)  # torch's own optimizer imports its compiler stack, so
    monkeypatch.setattr(lean_optim, "_compiler_loaded", lambda: False)  # pretend it is not loaded
    ours, ours_opt = run(lean_class(base))
    assert ours_opt._lean_lists[1] is not None  # the kept-lists path was taken
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(a, b)
    for key, state in theirs_opt.state_dict()["state"].items():
        for name, value in state.items():
            assert torch.equal(ours_opt.state_dict()["state"][key][name], value)
