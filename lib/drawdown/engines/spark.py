"""Spark as the distributed engine (docs/scale.md#spark): the shards of ``drawdown.run.shards``
computed by ``groupBy(_shard).applyInArrow`` (``pip install 'drawdown[spark]'``, Java 17).

The driver routes the book as the local engine does (``route_source``: the usage file streamed
into one partition per shard). Spark reads the routed usage, one group per shard (never one per
account), plus one marker row per shard so that a shard without usage still runs; the shard's
other tables, small, travel as a broadcast of Arrow IPC bytes. Inside each group the same
Polars functions run as in a local process: ``validate_shard``, then ``shard_parts``. Each group
returns its results as rows of ``RESULT_SCHEMA`` (one row per part: its name and its Arrow IPC
bytes, whose schema is the part's own), which Spark writes to the routing folder, partitioned by
shard, rather than collecting them in the driver; the driver reads them one shard at a time,
merges and combines them as the local engine does (the per-account series spilled shard by shard,
never whole in the driver), so the artifacts are the same, byte for byte. The routing folder must
be reachable by the driver and the workers alike (local mode, or a shared file system).

Two passes when as_of is not set: the first validates (and finds the book's latest usage date),
the second computes; with as_of set, one pass does both.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from drawdown.artifacts import Artifacts
from drawdown.errors import InputError
from drawdown.inputs.raw import RawTable
from drawdown.params import Params
from drawdown.run.shards import (
    SHARD,
    Combined,
    RoutedBook,
    ShardedBook,
    combine,
    in_input_order,
    merge_broken,
    merge_quality,
    route_source,
    shard_parts,
    validate_shard,
)

RESULT_SCHEMA = pa.schema(
    [pa.field(SHARD, pa.int32()), pa.field("part", pa.string()), pa.field("payload", pa.binary())]
)
"""What a shard's group returns: one row per part, its Arrow IPC bytes in ``payload``
(``part`` ``_check``: the pickled ``ShardCheck`` of the validation)."""

_MARKER = "_marker"
_CHECK = "_check"


def spark_session(master: str | None) -> Any:
    """A Spark session on ``master`` (default ``local[*]``), its Python workers on this
    interpreter (they import drawdown) and Arrow on."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(master or "local[*]")
        .appName("drawdown")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )


def compute_spark(
    source: str | Path, params: Params, shards: int | None, folder: Path, master: str | None = None
) -> tuple[Artifacts, Combined]:
    """The whole book's artifacts computed on Spark; as ``shards.compute_sharded``."""
    sharded = validate_spark(source, params, shards, folder, master)
    combined = compute_parts_spark(sharded, master)
    return Artifacts(combined.collected(), sharded.quality.to_json(), sharded.rejects), combined


def validate_spark(
    source: str | Path, params: Params, shards: int | None, folder: Path, master: str | None = None
) -> ShardedBook:
    """Route ``source`` and validate its shards on Spark (``shards.validate_sharded``)."""
    routed = route_source(source, params, shards, folder)
    results = _run(routed, params, master, compute=False)
    checks = [pickle.loads(results.payload(shard, _CHECK)) for shard in range(routed.shards)]
    broken = merge_broken(checks)
    if broken is not None:
        raise broken
    latest = max((check.latest for check in checks if check.latest is not None), default=None)
    if params.as_of is None:
        if latest is None:
            raise InputError("the usage table has no rows: set as_of to compute metrics")
        params = params.with_overrides({"as_of": latest.isoformat()})
    quality, rejects = merge_quality(checks, _meta(routed))
    return ShardedBook(routed, checks, quality, rejects, params)


def compute_parts_spark(sharded: ShardedBook, master: str | None = None) -> Combined:
    """Each shard's parts on Spark, then the whole-book ``combine`` on the driver, its
    per-account series spilled to ``<folder>/series`` as the local engine spills them."""
    results = _run(sharded.routed, sharded.params, master, compute=True)
    numbers = range(sharded.routed.shards)

    def part(shard: int, name: str) -> pl.DataFrame:
        return pl.read_ipc(io.BytesIO(results.payload(shard, name)))

    def parts(name: str) -> pl.DataFrame:
        return pl.concat([part(shard, name) for shard in numbers])

    readers = ((lambda name, shard=shard: part(shard, name)) for shard in numbers)
    return combine(parts, readers, sharded.params, sharded.routed.folder / "series")


def _meta(routed: RoutedBook) -> dict[str, Any]:
    import json

    return json.loads((routed.folder / "tables.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class SparkResults:
    """What one pass wrote: ``<folder>/shard=<k>/*.parquet``, rows of ``RESULT_SCHEMA``."""

    folder: Path

    def payload(self, shard: int, part: str) -> bytes:
        """The payload of one part of one shard (read from its shard's files alone)."""
        rows = pl.scan_parquet(self.folder / f"shard={shard}" / "*.parquet")
        found = rows.filter(pl.col("part") == part).select("payload").collect()
        return found.item()


def _run(routed: RoutedBook, params: Params, master: str | None, *, compute: bool) -> SparkResults:
    """One pass over the shards on Spark, its results written by the workers into the routing
    folder (``results-<pass>``, replaced), partitioned by shard."""
    spark = spark_session(master)
    small = {shard: _small_tables(routed, shard) for shard in range(routed.shards)}
    shared = spark.sparkContext.broadcast(pickle.dumps((small, params, compute)))
    usage = _usage_frame(spark, routed)

    def run_group(table: pa.Table) -> pa.Table:
        # Runs on a Spark worker, once per shard: the same Polars functions as a local process.
        tables, settings, with_parts = pickle.loads(shared.value)
        return _shard_results(table, tables, settings, with_parts)

    grouped = usage.groupBy(SHARD).applyInArrow(run_group, schema=_spark_schema())
    folder = routed.folder / ("results-parts" if compute else "results-checks")
    written = grouped.withColumnRenamed(SHARD, "shard").write.mode("overwrite")
    written.partitionBy("shard").parquet(str(folder))
    return SparkResults(folder)


def _shard_results(
    table: pa.Table,
    small: dict[int, dict[str, tuple[str, str, bytes]]],
    params: Params,
    with_parts: bool,
) -> pa.Table:
    """A shard's group: its raw tables → validation (→ parts) → rows of ``RESULT_SCHEMA``."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    shard = int(frame[SHARD][0])
    raw = {
        name: RawTable(name, origin, pl.read_ipc(io.BytesIO(data)), reference)
        for name, (origin, reference, data) in small[shard].items()
    }
    if "usage" in raw:
        rows = frame.filter(pl.col(_MARKER).is_null()).drop(SHARD, _MARKER)
        usage = raw["usage"]
        rows = pl.concat([usage.frame, rows.select(usage.frame.columns)], how="vertical_relaxed")
        raw["usage"] = RawTable("usage", usage.origin, in_input_order(rows), usage.row_reference)
    check, validated = validate_shard(raw, params)
    names, payloads = [], []
    if with_parts and validated is not None:
        for name, part in shard_parts(validated.book, validated.rated.lazy(), params).items():
            names.append(name)
            payloads.append(_ipc(part))
    else:
        names.append(_CHECK)
        payloads.append(pickle.dumps(check))
    return pa.table(
        {SHARD: pa.array([shard] * len(names), pa.int32()), "part": names, "payload": payloads},
        schema=RESULT_SCHEMA,
    )


def _ipc(frame: pl.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.write_ipc(sink)
    return sink.getvalue()


def _small_tables(routed: RoutedBook, shard: int) -> dict[str, tuple[str, str, bytes]]:
    """The shard's raw tables but usage's rows (usage: its empty frame, for the columns)."""
    return {
        name: (
            raw.origin,
            raw.row_reference,
            _ipc(raw.frame.clear() if name == "usage" else raw.frame),
        )
        for name, raw in routed.raw_tables(shard, skip_rows=("usage",)).items()
    }


def _usage_frame(spark: Any, routed: RoutedBook) -> Any:
    """The routed usage rows with ``_shard``, plus one marker row per shard."""
    from pyspark.sql import functions as F

    base = routed.folder / "raw" / "usage"
    markers = spark.createDataFrame([(shard,) for shard in range(routed.shards)], f"{SHARD} int")
    markers = markers.withColumn(_MARKER, F.lit(True))
    files = list(base.glob(f"{SHARD}=*/*.parquet"))
    if not files:
        return markers
    usage = spark.read.option("basePath", str(base)).parquet(*(str(path) for path in files))
    usage = usage.withColumn(SHARD, F.col(SHARD).cast("int"))
    return usage.unionByName(markers, allowMissingColumns=True)


def _spark_schema() -> Any:
    from pyspark.sql.types import BinaryType, IntegerType, StringType, StructField, StructType

    return StructType(
        [
            StructField(SHARD, IntegerType(), False),
            StructField("part", StringType(), False),
            StructField("payload", BinaryType(), False),
        ]
    )
