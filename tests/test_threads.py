"""The thread policy: 1 thread for small layers, the free CPUs for large ones, an explicit count
wins, and the count a run started with is recorded and reused by resume."""

import torch
import yaml

from layerwise.training import threads


def _net(width):
    return torch.nn.Sequential(torch.nn.Linear(784, width), torch.nn.ReLU(), torch.nn.Linear(width, 10))


def test_small_layers_get_one_thread(monkeypatch):
    monkeypatch.setattr(threads, "available_cpus", lambda: 8)
    monkeypatch.setattr(threads, "busy_cores_of_others", lambda: 0.0)
    assert threads.step_macs(_net(4), 32) == 32 * (784 * 4 + 4 * 10)
    assert threads.choose_threads(0, _net(4), 32) == 1
    assert threads.choose_threads(0, _net(512), 128) == 8


def test_cores_others_keep_busy_are_left_to_them(monkeypatch):
    monkeypatch.setattr(threads, "available_cpus", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores_of_others", lambda: 0.97)  # one busy process
    assert threads.choose_threads(0, _net(512), 128) == 1
    monkeypatch.setattr(threads, "busy_cores_of_others", lambda: 0.2)  # a little noise
    assert threads.choose_threads(0, _net(512), 128) == 2
    monkeypatch.setattr(threads, "busy_cores_of_others", lambda: 5.0)  # more than we have
    assert threads.choose_threads(0, _net(512), 128) == 1


def test_an_explicit_count_wins(monkeypatch):
    monkeypatch.setattr(threads, "available_cpus", lambda: 1)
    assert threads.choose_threads(3, _net(4), 1) == 3


def test_available_cpus_honours_omp_num_threads_and_the_cgroup_quota(monkeypatch, tmp_path):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.available_cpus() == 1
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert threads.cgroup_cpu_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert threads.cgroup_cpu_quota(tmp_path) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("200000")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert threads.cgroup_cpu_quota(v1) == 2.0


def test_the_probe_measures_a_share_of_cores():
    share = threads.busy_cores_of_others(0.05)
    assert 0.0 <= share <= (torch.get_num_threads() + 64)


def test_torch_threads_restores_the_callers_count():
    before = torch.get_num_threads()
    with threads.torch_threads(before + 1):
        assert torch.get_num_threads() == before + 1
    assert torch.get_num_threads() == before


def test_the_run_records_its_thread_count_and_resume_reuses_it(tmp_path):
    import layerwise
    from layerwise.run import as_config
    from layerwise.training.prepare import load_training_data, prepare
    from layerwise.training.session import TrainingSession

    config = {"data": {"source": "builtin:iris"}, "training": {"epochs": 1, "threads": 2}}
    run = layerwise.train(config, out=tmp_path / "run", quiet=True)
    saved = yaml.safe_load((run.dir / "config.yaml").read_text())
    assert saved["resolved"]["threads"] == 2
    saved["training"]["threads"] = 0  # resume must not re-decide
    resumed = as_config(saved)
    session = TrainingSession(resumed, prepare(resumed, load_training_data(resumed, None)), "cpu")
    assert session.threads == 2
