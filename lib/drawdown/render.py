"""Render executed report notebooks to HTML and PDF, never re-executing them.

Renderers, best first:
- Quarto (on PATH, or named by ``QUARTO_PATH``): ``quarto render <nb>.ipynb --to html`` (self-contained,
  ``embed-resources: true``) and ``--to typst`` for PDF, with the project in ``reports/``
  (``_quarto.yml``, ``theme.scss``, ``typst-template.typ``).
- nbconvert with the ``reports/nbconvert/drawdown`` template (code hidden, charts as inline SVG,
  no script or CDN), and headless Chromium ``--print-to-pdf`` for PDF.
- nbconvert alone: HTML only, with a warning that PDF is skipped.

Each render runs in its own temporary folder and the result is moved to ``out_dir`` under its final
name only when complete: a failed render leaves no partial file behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import yaml

from drawdown.errors import StepFailed

REPORTS_DIR = Path(__file__).resolve().parents[2] / "reports"
QUARTO_FILES = ("_quarto.yml", "theme.scss", "typst-template.typ")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)
TIMEOUT_SECONDS = 300
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def safe_filename(account_id: str) -> str:
    """A file-name stem for an account id: a readable slug plus a short hash of the exact id.

    No ``/``, ``..`` or control characters survive; distinct ids give distinct names
    (``"ACME/1"`` -> ``"ACME-1-1c3f0a9e"``).
    """
    slug = _UNSAFE.sub("-", account_id).strip("-")[:40] or "account"
    digest = hashlib.sha256(account_id.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}"


def quarto_path() -> str | None:
    """The quarto executable: ``QUARTO_PATH`` if set, else ``quarto`` on PATH, else None."""
    return os.environ.get("QUARTO_PATH") or shutil.which("quarto")


def chromium_path() -> str | None:
    """A headless-capable Chromium/Chrome on PATH, or None."""
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def renderer_name() -> str:
    """``quarto``, ``nbconvert+chromium`` or ``nbconvert``: what ``render_reports`` will use."""
    if quarto_path():
        return "quarto"
    return "nbconvert+chromium" if chromium_path() else "nbconvert"


def render_reports(notebooks: Sequence[Path], out_dir: Path, formats: Sequence[str]) -> list[Path]:
    """Render each executed notebook to ``out_dir/<stem>.html`` / ``.pdf`` (formats ``html``,
    ``pdf``), two at a time. Returns the files written, in notebook then format order.

    Raises StepFailed naming the report when a renderer fails. Without Quarto or Chromium, PDF
    is skipped with a warning.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = [fmt for fmt in ("html", "pdf") if fmt in formats]
    if "pdf" in wanted and renderer_name() == "nbconvert":
        warnings.warn(
            "neither Quarto nor Chromium found: PDF reports skipped, HTML only", stacklevel=2
        )
        wanted.remove("pdf")
    if not wanted:
        return []
    with ThreadPoolExecutor(max_workers=2) as pool:
        written = pool.map(lambda notebook: _render_one(Path(notebook), out_dir, wanted), notebooks)
        return [path for paths in written for path in paths]


def quarto_command(quarto: str, notebook: Path, fmt: str) -> list[str]:
    """The Quarto command line for one notebook and format (run inside the notebook's folder)."""
    return [quarto, "render", notebook.name, "--to", "typst" if fmt == "pdf" else "html"]


def chromium_command(chromium: str, html: Path, pdf: Path, profile: Path) -> list[str]:
    """The headless Chromium command that prints ``html`` to ``pdf`` with a fresh profile."""
    return [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--print-to-pdf={pdf}",
        html.as_uri(),
    ]


def notebook_html(notebook: Path, brand_color: str | None = None) -> str:
    """The executed notebook as one self-contained HTML page (code hidden, charts inline SVG)."""
    from nbconvert import HTMLExporter

    book = nbformat.read(notebook, as_version=4)
    exporter = HTMLExporter(
        template_name="drawdown",
        extra_template_basedirs=[str(REPORTS_DIR / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources: dict[str, Any] = {
        "report_title": _front_matter(book).get("pagetitle", notebook.stem),
        "brand_color": brand_color or _brand_color(book),
    }
    body, _ = exporter.from_notebook_node(book, resources=resources)
    return body


def _render_one(notebook: Path, out_dir: Path, formats: list[str]) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix=f"render-{notebook.stem}-") as work:
        workdir = Path(work)
        if quarto_path():
            made = {fmt: _quarto_render(notebook, workdir, fmt) for fmt in formats}
        else:
            made = _nbconvert_render(notebook, workdir, formats)
        return [_publish(made[fmt], out_dir / f"{notebook.stem}.{fmt}") for fmt in formats]


def _quarto_render(notebook: Path, workdir: Path, fmt: str) -> Path:
    folder = workdir / fmt
    folder.mkdir()
    for name in QUARTO_FILES:
        shutil.copy2(REPORTS_DIR / name, folder / name)
    target = folder / notebook.name
    shutil.copy2(notebook, target)
    _run(
        quarto_command(str(quarto_path()), target, fmt), folder, notebook.stem, f"quarto --to {fmt}"
    )
    return target.with_suffix(f".{fmt}")


def _nbconvert_render(notebook: Path, workdir: Path, formats: list[str]) -> dict[str, Path]:
    html = workdir / f"{notebook.stem}.html"
    try:
        html.write_text(notebook_html(notebook), encoding="utf-8")
    except Exception as exc:
        raise StepFailed(f"rendering report {notebook.stem} to HTML failed: {exc}") from exc
    made = {"html": html}
    if "pdf" in formats:
        pdf = workdir / f"{notebook.stem}.pdf"
        chromium = str(chromium_path())
        _run(
            chromium_command(chromium, html, pdf, workdir / "profile"),
            workdir,
            notebook.stem,
            "chromium --print-to-pdf",
        )
        made["pdf"] = pdf
    return made


def _run(command: list[str], cwd: Path, report: str, what: str) -> None:
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StepFailed(f"rendering report {report} with {what} failed: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise StepFailed(
            f"rendering report {report} with {what} failed (exit {done.returncode}): {tail}"
        )


def _publish(made: Path, final: Path) -> Path:
    if not made.is_file() or made.stat().st_size == 0:
        raise StepFailed(f"rendering report {final.stem} produced no {final.suffix} file")
    partial = final.with_name(f".{final.name}.partial")
    shutil.copyfile(made, partial)
    partial.replace(final)
    return final


def _front_matter(book: nbformat.NotebookNode) -> dict[str, Any]:
    first = book.cells[0] if book.cells else None
    if first is None or first.cell_type != "raw" or not first.source.startswith("---"):
        return {}
    loaded = yaml.safe_load(first.source.strip().strip("-"))
    return loaded if isinstance(loaded, dict) else {}


def _brand_color(book: nbformat.NotebookNode) -> str | None:
    params = book.metadata.get("papermill", {}).get("parameters", {}).get("params", {})
    color = (
        params.get("report", {}).get("brand", {}).get("primary_color")
        if isinstance(params, dict)
        else None
    )
    return color if isinstance(color, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", color) else None
