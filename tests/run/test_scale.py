"""The acceptance of docs/scale.md on a 5,000-account book: sharded runs (N = 2 and 3) and a Spark
run in ``local[2]`` give artifacts byte-identical to the whole-book run.

Marked ``scale`` and left out of ``make test`` (it takes minutes: see docs/scale.md#spark); run it
with ``make test-scale``. The sample-sized checks of the same property run in CI
(tests/run/test_shards.py, tests/engines/test_spark.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from drawdown.api import compute_all
from drawdown.inputs.sample import write_sample
from drawdown.params import Params, load_params
from drawdown.run.shards import compute_sharded
from run.test_shards import _same_files

pytestmark = pytest.mark.scale

ACCOUNTS = 5_000


@pytest.fixture(scope="module")
def params(tmp_path_factory: pytest.TempPathFactory) -> Params:
    book = write_sample(tmp_path_factory.mktemp("book5k"), accounts=ACCOUNTS)
    params = load_params(overrides={"reset": {"start_date": "2026-10-05"}})
    return params.with_overrides({"source": {"uri": str(book)}})


@pytest.fixture(scope="module")
def whole(params: Params, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("whole")
    compute_all(params.source.uri, params).write(folder)
    return folder


@pytest.mark.parametrize("shards", [2, 3])
def test_sharded_runs_are_byte_identical_on_5000_accounts(
    params: Params, whole: Path, tmp_path: Path, shards: int
) -> None:
    sharded, _ = compute_sharded(params.source.uri, params, shards, tmp_path / "work", workers=2)
    sharded.write(tmp_path / "sharded")
    assert _same_files(whole, tmp_path / "sharded") == []


def test_a_spark_run_is_byte_identical_on_5000_accounts(
    params: Params, whole: Path, tmp_path: Path
) -> None:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime (scripts/system-deps.sh)")
    from drawdown.engines.spark import compute_spark

    on_spark, _ = compute_spark(params.source.uri, params, 3, tmp_path / "work", "local[2]")
    on_spark.write(tmp_path / "spark")
    assert _same_files(whole, tmp_path / "spark") == []
