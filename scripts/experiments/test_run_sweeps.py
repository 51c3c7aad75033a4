"""run_sweeps.py: the command lines it gives the binary, shards from a job array, failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import run_sweeps


def _recording_binary(tmp_path: Path, status: int = 0) -> tuple[str, Path]:
    # Stands in for neuralstyle: appends its arguments to calls.jsonl.
    log = tmp_path / "calls.jsonl"
    script = tmp_path / "neuralstyle"
    script.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"sys.exit({status})\n"
    )
    script.chmod(0o755)
    return str(script), log


def test_runs_every_experiment(tmp_path):
    binary, log = _recording_binary(tmp_path)
    out = tmp_path / "sweeps"
    assert run_sweeps.main(["--bin", binary, "--model", "m", "--out", str(out), "--size", "64",
                            "--shard", "2/3", "--", "--gif-delay", "1s"]) == 0
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [Path(c[-1]).name for c in calls] == ["style_weight.json", "content_layer.json", "tv_weight.json"]
    assert calls[0] == ["sweep", "--model", "m", "--out", str(out / "style_weight"), "--shard", "2/3",
                        "--size", "64", "--gif-delay", "1s", str(run_sweeps.SWEEPS_DIR / "style_weight.json")]
    # The sweep files exist where the commands point.
    assert all(Path(c[-1]).is_file() for c in calls)


def test_only_and_dry_run(tmp_path, capsys):
    binary, log = _recording_binary(tmp_path)
    assert run_sweeps.main(["--bin", binary, "--only", "tv_weight", "--dry-run"]) == 0
    assert not log.exists()
    assert "tv_weight.json" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        run_sweeps.main(["--bin", binary, "--only", "style"])


def test_shard_from_env():
    assert run_sweeps.shard_from_env({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}) == "3/4"
    assert run_sweeps.shard_from_env({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4",
                                      "SLURM_ARRAY_TASK_MIN": "0"}) == "1/4"
    with pytest.raises(SystemExit, match="not in a Slurm job array"):
        run_sweeps.shard_from_env({})
    with pytest.raises(SystemExit, match="contiguous array ids"):
        run_sweeps.shard_from_env({"SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_COUNT": "4"})


def test_failing_binary(tmp_path):
    binary, log = _recording_binary(tmp_path, status=130)
    with pytest.raises(SystemExit, match="style_weight: neuralstyle sweep exited with status 130"):
        run_sweeps.main(["--bin", binary])
    assert len(log.read_text().splitlines()) == 1  # stops at the first failure
