"""Render executed report notebooks to HTML and PDF, never re-executing them.

Renderers, best first:
- Quarto (on PATH, or named by ``QUARTO_PATH``): HTML (self-contained, ``embed-resources: true``)
  and Typst PDF, with the project in ``reports/`` (``_quarto.yml``, ``report.css``,
  ``typst-template.typ``). Quarto gets a copy of each notebook whose outputs are all Markdown
  (``drawdown.reports.quarto.for_quarto``). The reports are shared out between two working
  folders, each a copy of the project; one ``quarto render`` per folder renders all of its
  reports in every format (one Quarto start-up and project set-up for several reports), and the
  two run side by side (parallel renders in ONE project folder race). Quarto's warnings go to
  run.log.
- nbconvert with the ``reports/nbconvert/drawdown`` template (code hidden, charts as inline SVG,
  no script or CDN), and headless Chromium for PDF: every page of a run printed in ONE browser
  session driven over the DevTools protocol (``--remote-debugging-pipe``), which spares a browser
  start per report; should that session fail, each page is printed by its own
  ``chromium --print-to-pdf``, whose error names the report.
- nbconvert alone: HTML only, with a warning that PDF is skipped.

Each render runs in its own temporary folder and the result is moved to ``out_dir`` under its final
name only when complete: a failed render leaves no partial file behind.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import yaml

from drawdown.errors import StepFailed
from drawdown.notebook_files import read_notebook, write_notebook
from drawdown.reports import quarto
from drawdown.resources import REPORTS_DIR

QUARTO_FILES = ("_quarto.yml", "report.css", "typst-template.typ")
QUARTO_FOLDERS = 2
"""Working folders (each one ``quarto render``) that render side by side."""
QUARTO_REPORT_BYTES = 280_000
"""What a report costs Quarto besides its size, in bytes of notebook: about 0.8 s a report and
2.8 ms a KB (both formats; the 22 reports of a cold run of 5,000 accounts). Weighed by bytes
alone, the folder with the fourteen small reports ended 5–6 s after the one with eight."""
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
PER_PAGE = "chromium --print-to-pdf"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
log = logging.getLogger("drawdown")


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
    ``pdf``). Returns the files written, in notebook then format order.

    Raises StepFailed naming the report when a renderer fails. Without Quarto or Chromium, PDF
    is skipped with a warning.
    """
    with ReportRenderer(out_dir, formats) as renderer:
        return renderer.finish(notebooks)


class ReportRenderer:
    """Renders reports while the other notebooks still execute.

    ``add`` hands a finished notebook to a background thread, which writes its HTML (nbconvert,
    in-process), and a second one prints its PDF in a headless Chromium session kept open for all
    of them (the next page's HTML is written while one prints). ``reuse`` takes files rendered earlier (the report cache) instead. ``finish``
    renders what was neither added nor reused, waits, and publishes every file into ``out_dir``;
    leaving the ``with`` block without ``finish`` (a failed run) publishes nothing. With Quarto,
    rendering starts in ``finish``: the reports are shared out between ``QUARTO_FOLDERS`` working
    folders, one ``quarto render`` each, side by side. ``warnings`` collects Quarto's warnings
    (report, line), which also go to the ``drawdown`` log (run.log).
    """

    def __init__(self, out_dir: Path, formats: Sequence[str]) -> None:
        self.out_dir = Path(out_dir)
        self.formats = [fmt for fmt in ("html", "pdf") if fmt in formats]
        if "pdf" in self.formats and renderer_name() == "nbconvert":
            warnings.warn(
                "neither Quarto nor Chromium found: PDF reports skipped, HTML only", stacklevel=3
            )
            self.formats.remove("pdf")
        self._worker = ThreadPoolExecutor(max_workers=QUARTO_FOLDERS if quarto_path() else 1)
        self._printer = ThreadPoolExecutor(max_workers=1)
        self._work = Path(tempfile.mkdtemp(prefix="render-"))
        self._made: dict[Path, Future[dict[str, Path]]] = {}
        self._browser: _Browser | None = None
        self._per_page = False
        self.warnings: list[tuple[str, str]] = []

    def __enter__(self) -> ReportRenderer:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        interrupted = kind is not None and issubclass(kind, KeyboardInterrupt)
        self._worker.shutdown(wait=not interrupted, cancel_futures=True)
        self._printer.shutdown(wait=not interrupted, cancel_futures=True)
        if self._browser is not None:
            self._browser.close()
        remove_working_folder(self._work)

    def add(self, notebook: Path) -> None:
        """Start rendering an executed notebook (nbconvert only; Quarto waits for ``finish``)."""
        if self.formats and not quarto_path():
            self._submit(Path(notebook))

    def reuse(self, notebook: Path, files: dict[str, Path]) -> None:
        """Publish ``files`` (format -> a file rendered earlier) as ``notebook``'s reports."""
        rendered: Future[dict[str, Path]] = Future()
        rendered.set_result(files)
        self._made[Path(notebook)] = rendered

    def finish(self, notebooks: Sequence[Path]) -> list[Path]:
        """Publish every notebook's files; in notebook then format order."""
        if not self.formats:
            return []
        self.out_dir.mkdir(parents=True, exist_ok=True)
        pending = [notebook for notebook in map(Path, notebooks) if notebook not in self._made]
        if quarto_path():
            self._submit_quarto(pending)
        else:
            for notebook in pending:
                self._submit(notebook)
        made = [self._made[Path(notebook)].result() for notebook in notebooks]
        return [
            _publish(files[fmt], self.out_dir / f"{Path(notebook).stem}.{fmt}")
            for notebook, files in zip(notebooks, made, strict=True)
            for fmt in self.formats
        ]

    def _submit(self, notebook: Path) -> None:
        """The page's HTML on the worker thread, then its PDF on the printer thread: the next
        page's HTML is written (in this process) while Chromium prints this one."""
        html = self._worker.submit(_html_page, notebook, self._work)
        self._made[notebook] = self._printer.submit(self._render, html)

    def _submit_quarto(self, notebooks: list[Path]) -> None:
        for index, group in enumerate(share_out(notebooks, QUARTO_FOLDERS)):
            made: dict[Path, Future[dict[str, Path]]] = {notebook: Future() for notebook in group}
            self._made.update(made)
            folder = self._work / f"quarto-{index}"
            self._worker.submit(self._quarto_folder, folder, made)

    def _quarto_folder(self, folder: Path, made: dict[Path, Future[dict[str, Path]]]) -> None:
        """Render ``made``'s notebooks in ``folder`` and settle each one's future."""
        try:
            files, found = render_with_quarto(list(made), folder, self.formats)
        except BaseException as exc:  # handed to whoever waits on the reports
            for future in made.values():
                future.set_exception(exc)
            return
        self.warnings += found
        for notebook, future in made.items():
            future.set_result(files[notebook])

    def _render(self, page: Future[Path]) -> dict[str, Path]:
        html = page.result()
        return {"html": html} | ({"pdf": self._print(html)} if "pdf" in self.formats else {})

    def _print(self, html: Path) -> Path:
        """``html`` to PDF in the shared session; after a session failure, one Chromium per
        page (whose error names the report)."""
        pdf, chromium = html.with_suffix(".pdf"), str(chromium_path())
        if not self._per_page:
            try:
                if self._browser is None:
                    self._browser = _Browser(chromium, self._work / "profile")
                pdf.write_bytes(self._browser.print_page(html.as_uri()))
                return pdf
            except (OSError, ValueError, DevToolsError, subprocess.TimeoutExpired):
                self._per_page = True
        profile = self._work / f"profile-{html.stem}"
        _run(chromium_command(chromium, html, pdf, profile), html.parent, html.stem, PER_PAGE)
        return pdf


CLEANUP_ATTEMPTS = 25
"""Tries at removing the renderer's working folder, 0.2 s apart (``remove_working_folder``)."""


def remove_working_folder(folder: Path) -> None:
    """Remove the renderer's own working folder. Chromium's helper processes can still be
    writing its profile there a moment after the browser has exited ("Directory not empty"):
    try again for a few seconds, then leave what remains to the system's temporary-file cleaning
    rather than fail reports that are already written."""
    for _ in range(CLEANUP_ATTEMPTS):
        try:
            shutil.rmtree(folder)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.2)
    shutil.rmtree(folder, ignore_errors=True)


def quarto_command(quarto: str, formats: Sequence[str]) -> list[str]:
    """The Quarto command line that renders every notebook of the project folder it runs in to
    ``formats`` (``all``: the HTML and Typst formats of ``_quarto.yml``)."""
    to = "all" if set(formats) == {"html", "pdf"} else ("typst" if "pdf" in formats else "html")
    return [quarto, "render", "--to", to]


def share_out(notebooks: Sequence[Path], folders: int) -> list[list[Path]]:
    """``notebooks`` in at most ``folders`` groups of about equal rendering cost, each notebook
    weighing its size plus ``QUARTO_REPORT_BYTES`` (largest first into the lightest group); no
    group is empty."""
    cost = {notebook: notebook.stat().st_size + QUARTO_REPORT_BYTES for notebook in notebooks}
    groups: list[list[Path]] = [[] for _ in range(max(1, min(folders, len(notebooks))))]
    costs = [0] * len(groups)
    for notebook in sorted(notebooks, key=lambda path: -cost[path]):
        lightest = costs.index(min(costs))
        groups[lightest].append(notebook)
        costs[lightest] += cost[notebook]
    return [group for group in groups if group]


def render_with_quarto(
    notebooks: Sequence[Path], folder: Path, formats: Sequence[str]
) -> tuple[dict[Path, dict[str, Path]], list[tuple[str, str]]]:
    """Render ``notebooks`` (executed, distinct names) with one ``quarto render`` in ``folder``, a
    new copy of the project. Returns each notebook's files by format, and Quarto's warnings
    (report, line), which are also logged. Raises StepFailed naming the report that failed."""
    folder.mkdir(parents=True)
    for name in QUARTO_FILES:
        shutil.copy2(REPORTS_DIR / name, folder / name)
    for notebook in notebooks:
        book = read_notebook(notebook)
        write_notebook(quarto.for_quarto(book, _brand_color(book)), folder / notebook.name)
    stems = [notebook.stem for notebook in notebooks]
    command = quarto_command(str(quarto_path()), formats)
    try:
        done = subprocess.run(
            command,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS * len(notebooks),  # each report's own time limit
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StepFailed(f"rendering reports {', '.join(stems)} with Quarto failed: {exc}") from exc
    if done.returncode != 0:
        report = quarto.current_report(done.stderr, stems)
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise StepFailed(
            f"rendering report {report} with Quarto failed (exit {done.returncode}): {tail}"
        )
    found = quarto.warnings(done.stderr, stems)
    for report, line in found:
        log.warning("quarto, %s: %s", report, line)
    files = {
        notebook: {fmt: folder / f"{notebook.stem}.{fmt}" for fmt in formats}
        for notebook in notebooks
    }
    return files, found


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
    book = read_notebook(notebook)
    exporter = _html_exporter()
    resources: dict[str, Any] = {
        "report_title": _front_matter(book).get("pagetitle", notebook.stem),
        "brand_color": brand_color or _brand_color(book),
    }
    body, _ = exporter.from_notebook_node(book, resources=resources)
    return body


def _html_exporter() -> Any:
    """This thread's nbconvert exporter with the drawdown template. Building one finds, loads and
    compiles the templates (about 0.1 s), so each thread keeps its own for every page."""
    if not hasattr(_exporters, "html"):
        from drawdown.reports.html_page import ReportPageExporter

        _exporters.html = ReportPageExporter(
            template_name="drawdown",
            extra_template_basedirs=[str(REPORTS_DIR / "nbconvert")],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
    return _exporters.html


_exporters = threading.local()


def _html_page(notebook: Path, workdir: Path) -> Path:
    html = workdir / f"{notebook.stem}.html"
    try:
        html.write_text(notebook_html(notebook), encoding="utf-8")
    except Exception as exc:
        raise StepFailed(f"rendering report {notebook.stem} to HTML failed: {exc}") from exc
    return html


class DevToolsError(RuntimeError):
    """The browser session answered with an error, or ended."""


PRINT_OPTIONS = {"printBackground": True, "preferCSSPageSize": True}
"""Page.printToPDF: backgrounds kept, the page size of the stylesheet's ``@page`` (A4); no
header or footer (the protocol's default)."""


class _Browser:
    """One headless Chromium driven over the DevTools pipe: Chromium reads commands from fd 3
    and writes replies and events to fd 4, each a JSON message ended by NUL."""

    def __init__(self, chromium: str, profile: Path) -> None:
        commands_read, commands_write = os.pipe()
        replies_read, replies_write = os.pipe()
        command = [
            chromium,
            *[flag for flag in CHROMIUM_FLAGS if flag != "--no-pdf-header-footer"],
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(3, 4),
                preexec_fn=lambda: _as_fds_3_and_4(commands_read, replies_write),
            )
        finally:
            os.close(commands_read)
            os.close(replies_write)
        self._devtools = _DevTools(os.fdopen(commands_write, "wb"), os.fdopen(replies_read, "rb"))

    def print_page(self, url: str) -> bytes:
        """The page at ``url`` as PDF: open a target, attach, navigate, wait for the load
        event, ``Page.printToPDF``, close the target."""
        return self._devtools.print_page(url)

    def close(self) -> None:
        self._devtools.close()
        self._process.terminate()
        self._process.wait(timeout=TIMEOUT_SECONDS)


def _as_fds_3_and_4(commands: int, replies: int) -> None:
    """In the child before exec: ``commands`` becomes fd 3, ``replies`` fd 4 (via fds ≥ 10, so
    neither overwrites the other)."""
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands, replies)]
    for target, fd in zip((3, 4), high, strict=True):
        os.dup2(fd, target)


class _DevTools:
    """A minimal DevTools protocol client over Chromium's pipe."""

    def __init__(self, commands: Any, replies: Any) -> None:
        self._commands, self._replies = commands, replies
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._session: str | None = None

    def print_page(self, url: str) -> bytes:
        """Navigate the session's page to ``url``, wait for its load event, print it. One page
        (target) serves every report: opening a new one costs more than a navigation."""
        if self._session is None:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self.call(
                "Target.attachToTarget", {"targetId": target, "flatten": True}
            )["sessionId"]
            self.call("Page.enable", {}, self._session)
        self.call("Page.navigate", {"url": url}, self._session)
        self.wait_for("Page.loadEventFired", self._session)
        return base64.b64decode(self.call("Page.printToPDF", PRINT_OPTIONS, self._session)["data"])

    def call(self, method: str, params: dict[str, Any], session: str | None = None) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._commands.write(json.dumps(message).encode() + b"\0")
        self._commands.flush()
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise DevToolsError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_for(self, event: str, session: str) -> None:
        while True:
            for index, message in enumerate(self._events):
                if message.get("method") == event and message.get("sessionId") == session:
                    del self._events[: index + 1]
                    return
            self._events.append(self._read())

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if not select.select([self._replies], [], [], TIMEOUT_SECONDS)[0]:
                raise DevToolsError(f"the browser did not answer in {TIMEOUT_SECONDS} s")
            chunk = os.read(self._replies.fileno(), 1 << 20)
            if not chunk:
                raise DevToolsError("the browser closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        self._commands.close()
        self._replies.close()


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
