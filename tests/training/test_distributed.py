"""Data-parallel training: 2 gloo processes (torchrun) end where one process on the full batch
ends; only rank 0 writes; bf16 autocast also runs on the CPU."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fairdg.training import RunConfig, train
from fairdg.training.distributed import shard
from fairdg.training.sampler import DomainSampler

FLAGS = ["--dataset", "synthetic", "--algorithm", "erm", "--compare", "none", "--steps", "6",
         "--eval-every", "6", "--hparam", "batch_size=32", "--quiet"]  # fmt: skip


def test_shards_partition_the_full_batch(tiny_tabular):
    domains = tiny_tabular.split(0).train()
    full = DomainSampler(domains, 8, seed=3)()
    parts = [DomainSampler(domains, 8, seed=3, rank=r, world_size=2)() for r in range(2)]
    for d, batch in enumerate(full):
        torch.testing.assert_close(torch.cat([p[d].x for p in parts]), batch.x)
    with pytest.raises(ValueError, match="not divisible by the 3 processes"):
        DomainSampler(domains, 8, seed=3, world_size=3)
    assert shard(torch.arange(6), 1, 3).tolist() == [2, 3]


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node", "2", "-m", "fairdg", "run", *FLAGS, "--output",
               str(tmp_path / "ddp")]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip
    try:
        out, err = proc.communicate(timeout=300)
    finally:  # never leave the workers behind
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, err[-2000:]
    assert out.count("erm on synthetic") == 1  # rank 0 reports
    config = RunConfig(dataset="synthetic", algorithm="erm", steps=6, eval_every=6,
                       hparams={"batch_size": 32}, output_dir=str(tmp_path / "one"),
                       quiet=True)  # fmt: skip
    one = train(config)
    ddp_dir = tmp_path / "ddp" / config.run_id()
    summary = (tmp_path / "ddp" / "results.jsonl").read_text().splitlines()
    assert len(summary) == 1 and len((ddp_dir / "results.jsonl").read_text().splitlines()) == 1
    ddp = torch.load(ddp_dir / "model.pt", weights_only=True)["model"]
    for name, value in one.algorithm.state_dict().items():
        torch.testing.assert_close(ddp[name], value, rtol=1e-5, atol=1e-6, msg=name)


def test_bf16_autocast_trains_on_the_cpu_and_other_precisions_are_refused(tmp_path):
    config = RunConfig(dataset="synthetic", steps=2, precision="bf16", output_dir=str(tmp_path))
    record = train(config).record
    assert 0.0 <= record["metrics"]["test"]["accuracy"] <= 1.0
    with pytest.raises(ValueError, match="precision must be one of"):
        config.replace(precision="fp16", output_dir=str(tmp_path / "bad"))
    assert not Path(tmp_path / "bad").exists()
    assert config.run_id() != config.replace(precision="fp32").run_id()  # bf16: another run
