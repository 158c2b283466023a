"""Sharded runs at scale (issue 20, docs/scale.md): time and memory of ``drawdown run`` on the
50,000-account book whole and sharded, and on a 200,000-account book sharded.

    .venv/bin/python bench/shards.py tile --copies 4          # bench/books/L4 from bench/books/L
    .venv/bin/python bench/shards.py run L --shards 1          # the whole book
    .venv/bin/python bench/shards.py run L --shards 8          # the same book in 8 shards
    .venv/bin/python bench/shards.py run L4 --shards 32        # the 200,000-account book

``run`` runs ``drawdown run --format none`` (artifacts and exports, no reports) with
``params/sample.yaml`` into a fresh folder, under the shared bench lock (``--lock``, default
``/work/notes/bench.lock``: one measurement at a time on a shared machine), and records the load
average before and after. It measures wall and CPU seconds (the process and every child it
waited for), the peak RSS of the largest single process (``wait4``'s ru_maxrss: exact), and, by
sampling the process tree every 0.2 s, the peak RSS of each process (the driver, and the largest
of the shard workers) and of the tree as a whole. One JSON line per run is appended to
``bench/results/shards.jsonl`` and a Markdown row printed.

``tile`` writes a book ``copies`` times the size of ``bench/books/L``: copy 0 is L itself, copy
k > 0 the same rows with every account_id and contract_id (and renewal_of) prefixed ``T<k>``, so
the copies are distinct accounts with distinct contracts. Every table is streamed (scanned and
sunk), the usage never held whole; the usage stays in account order (``A…`` < ``T1…`` < ``T2…``).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import psutil

ROOT = Path(__file__).resolve().parents[1]
BOOKS = ROOT / "bench" / "books"
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
PARAMS = ROOT / "params" / "sample.yaml"
LOCK = Path("/work/notes/bench.lock")
IDS = ("account_id", "contract_id", "renewal_of")
"""The columns ``tile`` renames in each copy (those a table has)."""


# -- tiling ----------------------------------------------------------------------------------------


def tiled(scan: pl.LazyFrame, copies: int) -> pl.LazyFrame:
    """``copies`` copies of ``scan`` one after the other; copy k > 0 with its ids (``IDS``)
    prefixed ``T<k>`` (a null id stays null)."""
    names = [name for name in IDS if name in scan.collect_schema()]
    parts = [scan]
    for copy in range(1, copies):
        prefix = pl.lit(f"T{copy}")
        parts.append(scan.with_columns(pl.concat_str(prefix, pl.col(n)).alias(n) for n in names))
    return pl.concat(parts, how="vertical")


def tile(source: Path, out: Path, copies: int) -> None:
    """Write every table of the Parquet book ``source`` ``copies`` times over into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.parquet")):
        tiled(pl.scan_parquet(path), copies).sink_parquet(out / path.name, maintain_order=True)


# -- measuring -------------------------------------------------------------------------------------


@dataclass
class Measure:
    """One run: wall and CPU seconds; peak RSS of the largest process (exact), of the driver, of
    the largest other process and of the tree (sampled), in MB; the load average before/after."""

    wall: float = 0.0
    cpu: float = 0.0
    rss_mb: float = 0.0
    driver_mb: float = 0.0
    worker_mb: float = 0.0
    tree_mb: float = 0.0
    load_before: list[float] = field(default_factory=list)
    load_after: list[float] = field(default_factory=list)


def watch(command: list[str]) -> Measure:
    """Run ``command`` and measure it (see ``Measure``); exit with its error if it fails."""
    peaks: dict[int, int] = {}
    tree = 0
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        while not pid:
            total = 0
            try:
                members = [process, *process.children(recursive=True)]
            except psutil.NoSuchProcess:
                members = []
            for member in members:
                try:
                    rss = member.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                peaks[member.pid] = max(peaks.get(member.pid, 0), rss)
                total += rss
            tree = max(tree, total)
            time.sleep(0.2)
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(
                f"bench: {' '.join(command)} failed:\n{errors.read().decode()[-4000:]}"
            )
    others = [rss for member, rss in peaks.items() if member != process.pid]
    return Measure(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rss_mb=usage.ru_maxrss / 1024,
        driver_mb=peaks.get(process.pid, 0) / 2**20,
        worker_mb=max(others, default=0) / 2**20,
        tree_mb=tree / 2**20,
    )


def measured_run(book: Path, shards: int, lock: Path, extra: list[str]) -> Measure:
    """``drawdown run --format none --shards N`` of ``book`` into a fresh folder, under ``lock``."""
    with tempfile.TemporaryDirectory(prefix="bench-shards-", dir=BOOKS) as scratch:
        command = [
            str(BIN / "drawdown"),
            "run",
            "--data",
            str(book),
            "--params",
            str(PARAMS),
            "--out",
            str(Path(scratch) / "run"),
            "--format",
            "none",
            "--shards",
            str(shards),
            *extra,
        ]
        with lock.open("a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            before = list(os.getloadavg())
            measure = watch(command)
            measure.load_before, measure.load_after = before, list(os.getloadavg())
    return measure


def usage_rows(book: Path) -> int:
    return pl.scan_parquet(book / "usage.parquet").select(pl.len()).collect().item()


def accounts(book: Path) -> int:
    return pl.scan_parquet(book / "accounts.parquet").select(pl.len()).collect().item()


def row(result: dict[str, object]) -> str:
    """One Markdown row of a result."""
    m = result["measure"]
    assert isinstance(m, dict)
    rows = result["usage_rows"]
    assert isinstance(rows, int)
    load = " → ".join(f"{m[k][0]:.1f}" for k in ("load_before", "load_after"))
    return (
        f"| {result['book']} | {result['accounts']:,} | {rows:,} | {result['shards']} "
        f"| {m['wall']:.1f} | {m['cpu']:.1f} | {m['wall'] / rows * 1e6:.2f} "
        f"| {m['rss_mb']:,.0f} | {m['driver_mb']:,.0f} | {m['worker_mb']:,.0f} "
        f"| {m['tree_mb']:,.0f} | {load} |"
    )


HEAD = (
    "| book | accounts | usage rows | shards | wall s | CPU s | µs per usage row "
    "| peak RSS largest process MB | driver MB | largest worker MB | tree MB | load 1 min |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    tiling = commands.add_parser("tile", help="write a book tiled from bench/books/L")
    tiling.add_argument("--copies", type=int, default=4)
    tiling.add_argument("--source", type=Path, default=BOOKS / "L")
    tiling.add_argument("--out", type=Path, help="default bench/books/L<copies>")
    running = commands.add_parser("run", help="measure one drawdown run --format none")
    running.add_argument("book", help="a folder under bench/books (L, L4) or a path")
    running.add_argument("--shards", type=int, required=True)
    running.add_argument("--lock", type=Path, default=LOCK)
    running.add_argument("extra", nargs="*", help="more drawdown run options (after --)")
    args = parser.parse_args(argv)
    if args.command == "tile":
        out = args.out or BOOKS / f"L{args.copies}"
        started = time.perf_counter()
        tile(args.source, out, args.copies)
        print(f"{out}: {usage_rows(out):,} usage rows in {time.perf_counter() - started:.1f} s")
        return
    book = Path(args.book) if "/" in args.book else BOOKS / args.book
    measure = measured_run(book, args.shards, args.lock, args.extra)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "book": book.name,
        "accounts": accounts(book),
        "usage_rows": usage_rows(book),
        "shards": args.shards,
        "measure": asdict(measure),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "shards.jsonl").open("a", encoding="utf-8") as log:
        log.write(json.dumps(result) + "\n")
    print(HEAD)
    print(row(result))


if __name__ == "__main__":
    main()
