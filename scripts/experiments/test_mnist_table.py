"""mnist_table.py: runs the binary per model and writes the table from its JSON."""

from __future__ import annotations

import json
import stat

import mnist_table


def _fake_binary(tmp_path, accuracy: float) -> str:
    # Stands in for neuralstyle: answers `mnist --model M ... --json` with a result.
    script = tmp_path / "neuralstyle"
    result = {"steps": 1000, "batch": 100, "seed": 1, "test_accuracy": accuracy, "article_accuracy": 0.9205,
              "train_seconds": 12.4, "tensorflow": "2.18.1"}
    script.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"r = {json.dumps(result)}\n"
        "r['model'] = sys.argv[sys.argv.index('--model') + 1]\n"
        "assert sys.argv[1] == 'mnist' and '--json' in sys.argv\n"
        "print(json.dumps(r))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_table(tmp_path):
    out = tmp_path / "r" / "results.md"
    binary = _fake_binary(tmp_path, 0.91664)
    assert mnist_table.main(["--bin", binary, "--only", "linear,nn", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| linear (linear softmax, zero init, SGD 0.5) | 92.05% | 91.66% | 1000 x 100 | 1 | 12.4 |" in text
    assert "| nn (" in text and "convnet" not in text
    assert [r["model"] for r in json.loads(out.with_suffix(".json").read_text())] == ["linear", "nn"]


def test_failing_binary(tmp_path):
    import pytest

    script = tmp_path / "fails"
    script.write_text("#!/bin/sh\nexit 3\n")
    script.chmod(0o755)
    with pytest.raises(SystemExit, match="linear: neuralstyle exited with status 3"):
        mnist_table.main(["--bin", str(script), "--only", "linear", "--out", str(tmp_path / "x.md")])
