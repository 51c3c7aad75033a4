import json
import os
from pathlib import Path

import pytest

from savedmodel import cli


def _export(path: Path, marker: str) -> Path:
    """A stand-in for an export: a folder with a record and one file."""
    path.mkdir(parents=True)
    cli.write_metadata(path, {"marker": marker})
    (path / "saved_model.pb").write_text(marker)
    return path


def _marker(path: Path) -> str:
    return json.loads((path / cli.METADATA_FILE).read_text())["marker"]


def test_write_metadata(tmp_path):
    cli.write_metadata(tmp_path, {"b": 1, "a": [1, 2]})
    text = (tmp_path / "neuralstyle.json").read_text()
    assert text.endswith("}\n") and json.loads(text) == {"b": 1, "a": [1, 2]}
    assert text.index('"b"') < text.index('"a"')  # the exporter's order


def test_replace_dir_new_and_previous(tmp_path):
    dst = tmp_path / "model"
    cli.replace_dir(_export(tmp_path / "new1", "one"), dst)
    assert _marker(dst) == "one" and not (tmp_path / "new1").exists()
    cli.replace_dir(_export(tmp_path / "new2", "two"), dst)
    assert _marker(dst) == "two" and (dst / "saved_model.pb").read_text() == "two"
    # Nothing left beside it: the old export and its holding folder are gone.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize("failing", [1, 2])
def test_replace_dir_failure_keeps_old(tmp_path, monkeypatch, failing):
    """A failure at either rename leaves the previous export in place, whole, and the
    staged one where it was."""
    dst = _export(tmp_path / "model", "old")
    src = _export(tmp_path / "staged", "new")
    real_rename = os.rename
    calls = []

    def rename(a, b):
        calls.append((str(a), str(b)))
        if len(calls) == failing:
            raise OSError(28, "No space left on device (simulated)")
        real_rename(a, b)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="simulated"):
        cli.replace_dir(src, dst)
    monkeypatch.setattr(os, "rename", real_rename)
    assert _marker(dst) == "old" and (dst / "saved_model.pb").read_text() == "old"
    assert _marker(src) == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "staged"]
    if failing == 2:
        # The old export went aside, then came back after the new one failed to move in.
        assert calls[0][0] == str(dst) and calls[1] == (str(src), str(dst)) and calls[2][1] == str(dst)


def test_replace_dir_never_deletes_before_the_new_one_is_in(tmp_path, monkeypatch):
    """Between the steps, dst is either the old export or the new one: the old one is
    only deleted once the new one is in place."""
    dst = _export(tmp_path / "model", "old")
    src = _export(tmp_path / "staged", "new")
    seen = []
    real_rmtree = cli.shutil.rmtree

    def rmtree(path, *args, **kwargs):
        seen.append(_marker(dst))
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(cli.shutil, "rmtree", rmtree)
    cli.replace_dir(src, dst)
    assert seen == ["new"] and _marker(dst) == "new"


def test_check_out_refusals(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(cli.ExportError, match="exists and is not a directory"):
        cli.check_out(f)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(cli.ExportError, match="not a previous export"):
        cli.replace_dir(_export(tmp_path / "staged", "new"), foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    cli.check_out(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    cli.check_out(tmp_path / "empty")


def _build(fail: bool):
    def build(weights: str, seed: int | None, workdir: str, staged: str) -> dict:
        assert Path(workdir).parent == Path(staged).parent.parent
        _export(Path(staged), f"{weights}-{seed}")
        if fail:
            raise cli.ExportError("--weights broken.h5: not an HDF5 file")
        return {"source": weights, "sha256": "0123456789abcdef"}

    return build


def test_run_cli(tmp_path, capsys):
    out = tmp_path / "sub" / "model"
    assert cli.run_cli(["--out", str(out), "--weights", "random", "--seed", "3"], "fake", "Fake.\n", "no-top",
                       _build(False)) == 0
    assert _marker(out) == "random-3"
    assert f"exported {out}" in capsys.readouterr().out
    # A failed export reports one line, exit code 2, and leaves the previous one.
    assert cli.run_cli(["--out", str(out), "--weights", "broken.h5"], "fake", "Fake.\n", "no-top", _build(True)) == 2
    assert capsys.readouterr().err == "fake: --weights broken.h5: not an HDF5 file\n"
    assert _marker(out) == "random-3"
    assert sorted(p.name for p in out.parent.iterdir()) == ["model"]
