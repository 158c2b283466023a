"""execute.py: notebooks on a pool of warm kernels record their parameters, start from an empty
namespace, and a failing cell names the notebook, the cell and the error."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import psutil
import pytest

from drawdown.errors import StepFailed
from drawdown.run.kernels import KernelPool, Step, execute_all

pytestmark = pytest.mark.slow


def _notebook(path: Path, *sources: str) -> Path:
    cells = [nbformat.v4.new_code_cell("x = 0", metadata={"tags": ["parameters"]})]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "P"}
    nbformat.write(book, path)
    return path


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory):
    with KernelPool(tmp_path_factory.mktemp("cwd"), size=1) as started:
        yield started


def test_parameters_are_injected_and_recorded(pool: KernelPool, tmp_path: Path) -> None:
    template = _notebook(tmp_path / "t.ipynb", "y = x + 1\ny")
    output = tmp_path / "out" / "t.ipynb"
    execute_all([Step("t", template, output, {"x": 41})], pool)
    done = nbformat.read(output, as_version=4)
    injected = [c for c in done.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "x = 41" in injected[0].source
    assert done.metadata.papermill["parameters"] == {"x": 41}
    assert done.cells[-1].outputs[0]["data"]["text/plain"] == "42"
    assert [c.execution_count for c in done.cells] == [1, 2, 3]


def test_each_notebook_starts_from_an_empty_namespace(pool: KernelPool, tmp_path: Path) -> None:
    first = _notebook(tmp_path / "first.ipynb", "leftover = 1")
    second = _notebook(tmp_path / "second.ipynb", "'leftover' in dir()")
    steps = [
        Step("first", first, tmp_path / "first.out.ipynb", {}),
        Step("second", second, tmp_path / "second.out.ipynb", {}, needs=("first",)),
    ]
    execute_all(steps, pool)
    done = nbformat.read(tmp_path / "second.out.ipynb", as_version=4)
    assert done.cells[-1].outputs[0]["data"]["text/plain"] == "False"


def test_a_failing_cell_names_notebook_cell_and_error(pool: KernelPool, tmp_path: Path) -> None:
    template = _notebook(tmp_path / "bad.ipynb", "1", 'raise RuntimeError("boom")')
    output = tmp_path / "bad.out.ipynb"
    with pytest.raises(StepFailed, match=r"bad.ipynb failed in cell 4 \(RuntimeError: boom\)"):
        execute_all([Step("bad", template, output, {})], pool)
    assert nbformat.read(output, as_version=4).metadata.papermill["exception"] is True


def test_steps_wait_for_what_they_need(pool: KernelPool, tmp_path: Path) -> None:
    template = _notebook(tmp_path / "t.ipynb")
    with pytest.raises(StepFailed, match="never run"):
        execute_all([Step("a", template, tmp_path / "a.ipynb", {}, needs=("missing",))], pool)


def _kernel_processes() -> set[int]:
    return {
        child.pid
        for child in psutil.Process().children(recursive=True)
        if "ipykernel" in " ".join(_command_line(child))
    }


def _command_line(process: psutil.Process) -> list[str]:
    """A child's command line; none for one that has exited (a zombie not yet reaped, or gone)."""
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def test_a_lazy_pool_starts_its_kernels_when_asked(tmp_path: Path) -> None:
    before = _kernel_processes()  # the module's pool
    with KernelPool(tmp_path, size=1, eager=False) as pool:
        time.sleep(0.5)
        assert _kernel_processes() == before
        pool.start()
        deadline = time.monotonic() + 60
        while _kernel_processes() == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_kernel_processes() - before) == 1
