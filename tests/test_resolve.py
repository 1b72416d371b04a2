"""The cross-field checks in `layerwise.resolve`, called directly (the CLI paths are in
test_core_errors, test_ddp and test_ensemble)."""

from __future__ import annotations

import pytest

from layerwise.errors import LayerwiseError
from layerwise.resolve import check_repeatable, check_training_modes, resolve_loss
from layerwise.run import as_config


def test_loss_is_resolved_from_the_task_and_checked_against_it() -> None:
    assert [resolve_loss(t, "auto") for t in ("multiclass", "binary", "regression")] == ["cross_entropy", "bce", "mse"]
    assert resolve_loss("regression", "huber") == "huber"
    with pytest.raises(LayerwiseError, match="loss 'mse' does not fit a binary task; use one of bce"):
        resolve_loss("binary", "mse")


@pytest.mark.parametrize(("setting", "reason"), [
    ({"network": {"dropout": 0.1}}, "dropout"), ({"training": {"grad_clip": 1.0}}, "grad_clip"),
    ({"training": {"schedule": "plateau"}}, "the plateau schedule"), ({"training": {"on_nan": "skip-batch"}}, "on_nan"),
])
def test_copies_refuse_what_would_couple_them(setting, reason) -> None:
    check_repeatable(as_config({}))  # the defaults train as copies
    with pytest.raises(LayerwiseError, match=f"--repeat: {reason}.* is not supported when training copies at once"):
        check_repeatable(as_config(setting))


def test_ways_of_training_that_do_not_go_together() -> None:
    check_training_modes(repeat=3, folds=None, nproc_per_node=None, ensemble=1)
    for args, message in [((2, None, None, 3), "training.ensemble (--ensemble) cannot be combined with --repeat"),
                          ((1, None, 2, 3), "training.ensemble (--ensemble) cannot be combined with --nproc-per-node"),
                          ((2, 3, None, None), "--folds and --repeat cannot be combined"),
                          ((1, 3, 2, None), "--folds and --nproc-per-node cannot be combined")]:
        with pytest.raises(LayerwiseError) as caught:
            check_training_modes(*args)
        assert str(caught.value) == message


def test_explicit_network_sizes_must_agree_with_the_data() -> None:
    from layerwise.resolve import check_data_sizes

    config = as_config({"network": {"input_size": 4, "output_size": 3}})
    check_data_sizes(config.network, 4, 3)
    with pytest.raises(LayerwiseError, match="network.output_size is 3 but the data needs 2"):
        check_data_sizes(config.network, 4, 2)
    with pytest.raises(LayerwiseError, match="the data has 0 feature columns; a network needs at least 1 input"):
        check_data_sizes(config.network, 0, 3)
