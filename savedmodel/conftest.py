"""Fixtures shared by the exporter's test modules: one export of the random-weights
model (seed 1) per test session, since each export takes a minute or more on two
cores and test_export, test_controls and test_tiles all test the same one.

`make test-py` passes the one `make testmodels` just built from this exporter with
the same arguments (NEURALSTYLE_TEST_MODEL), so the session exports none."""

from __future__ import annotations

import os

import pytest
import tensorflow as tf

from savedmodel import export as ex

SEED = 1


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    if given := os.environ.get("NEURALSTYLE_TEST_MODEL"):
        return given
    out = tmp_path_factory.mktemp("export") / "vgg16-random-seed1"
    assert ex.main(["--out", str(out), "--weights", "random", "--seed", str(SEED)]) == 0
    return str(out)


@pytest.fixture(scope="session")
def model(exported):
    return tf.saved_model.load(exported)
