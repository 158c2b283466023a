"""Security (docs/reliability.md): data text is inert in every output (reports, CRM CSV, digest,
XLSX), account ids never leave the run folder as file names, and secrets never reach notebooks,
reports, logs, manifests or messages."""

from __future__ import annotations

import csv
import html
import os
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import papermill as pm
import polars as pl
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from typer.testing import CliRunner

from _folders import with_rows, write_folder
from _report_run import write_run
from drawdown.cli import app
from drawdown.params import Params
from drawdown.reports import inert, render
from drawdown.run import pipeline, steps

runner = CliRunner()

INJECTED = {
    "account_name": '=HYPERLINK("https://evil.example/?x","open") <script>alert("name")</script> '
    "[click](https://evil.example/a) **bold** @here \u202eRTL\u202c",
    "csm_owner": "+<img src=x onerror=alert(2)> https://evil.example/b _it_ <!channel>",
    "owner_first_conversation": "+<img src=x onerror=alert(2)> https://evil.example/b _it_ <!channel>",
    "ae_owner": "-<b onmouseover=alert(3)>AE</b> www.evil.example `code` &lt;b&gt;x&lt;/b&gt;",
    "owner_expansion": "-<b onmouseover=alert(3)>AE</b> www.evil.example `code` &lt;b&gt;x&lt;/b&gt;",
    "meter": "@C:\\dir\\file <svg onload=alert(4)> ~~gone~~ \u2066iso\u2069",
    "segment": "\t<iframe src=javascript:alert(5)> ceo@evil.example # not a heading",
}
"""Payload families planted in every text column of the artifacts that outputs show: markup,
spreadsheet formulas (each column starts with one of = + - @ tab), links (Markdown, bare URL,
www, e-mail), Markdown emphasis and code, chat mentions, HTML entities, backslashes and
bidirectional controls."""
TAGS = ("<script", "<img src=x", "<b onmouseover", "<svg onload", "<iframe")
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
BACKSLASHED = "C:\\dir\\file"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SECRET = "S3cretPlanted"
PLANTED_URI = f"postgresql://user:{SECRET}@127.0.0.1:1/db"


# -- inert data text -----------------------------------------------------------------------------


def _inject(run_dir: Path) -> None:
    """Rewrite every artifact with the INJECTED text in each text column it has (segment ``All``,
    the portfolio row, is kept)."""
    for path in (run_dir / "artifacts").rglob("*.parquet"):
        frame = pl.read_parquet(path)
        frame.with_columns(
            pl.when(pl.col(column).is_not_null() & (pl.col(column) != "All"))
            .then(pl.lit(text))
            .otherwise(pl.col(column))
            .alias(column)
            for column, text in INJECTED.items()
            if column in frame.columns
        ).write_parquet(path)


@pytest.fixture(scope="module")
def injected_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny report run with INJECTED text in every text column, and its exports."""
    run_dir = write_run(tmp_path_factory.mktemp("injected") / "run")
    _inject(run_dir)
    steps.export(run_dir, Params(as_of="2026-04-30"))
    return run_dir


@pytest.fixture(scope="module")
def pages(injected_run: Path) -> dict[str, str]:
    """Executive review, usage clinic and account review of A2 on the injected tiny run, as HTML."""
    root = injected_run.parent
    params = Params.model_validate({"reset": {"start_date": "2026-03-09"}}).to_notebook()
    executed = []
    for stem, extra in (
        ("executive_review", {}),
        ("usage_clinic", {}),
        ("account_review", {"account_id": "A2"}),
        ("account_prep", {"account_id": "A2"}),
    ):
        target = root / "notebooks" / f"{stem}.ipynb"
        target.parent.mkdir(exist_ok=True)
        pm.execute_notebook(
            render.REPORTS_DIR / f"{stem}.ipynb",
            target,
            parameters={"run_dir": str(injected_run), "params": params, **extra},
            kernel_name="drawdown",
            progress_bar=False,
        )
        executed.append(target)
    written = render.render_reports(executed, root / "out", ["html"])
    return {path.stem: path.read_text(encoding="utf-8") for path in written}


def _visible(page: str) -> str:
    """The text a reader sees outside the charts (SVG drawings), whitespace collapsed."""

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.hidden = 0

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.hidden += tag in ("svg", "style", "script", "title")

        def handle_endtag(self, tag: str) -> None:
            self.hidden -= tag in ("svg", "style", "script", "title")

        def handle_data(self, data: str) -> None:
            if not self.hidden:
                self.parts.append(data)

    parser = Text()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


REPORTS = ["executive_review", "usage_clinic", "account_review", "account_prep"]


@pytest.mark.slow
@pytest.mark.parametrize("stem", REPORTS)
def test_no_injected_tag_survives_in_a_report(pages: dict[str, str], stem: str):
    found = [tag for tag in TAGS if tag in pages[stem].lower()]
    assert found == []


@pytest.mark.slow
@pytest.mark.parametrize("stem", REPORTS)
def test_injected_names_are_shown_as_exactly_their_text(pages: dict[str, str], stem: str):
    assert inert.one_line(INJECTED["account_name"]) in _visible(pages[stem])


@pytest.mark.slow
@pytest.mark.parametrize("stem", REPORTS)
def test_no_data_text_becomes_a_link_or_markup_in_a_report(pages: dict[str, str], stem: str):
    page = pages[stem]
    assert re.findall(r"<a\b[^>]*href=\"(?!#)[^\"]*evil", page) == []  # heading anchors stay
    # \b: <s> (strikethrough) is markup, <span> (a renderer's wrapper) is not
    assert (
        re.findall(r"<(strong|em|code|del|s|h\d)\b[^>]*>\s*(bold|it|code|gone|not a)", page) == []
    )


@pytest.mark.slow
@pytest.mark.parametrize("stem", REPORTS)
def test_no_bidirectional_control_and_no_stray_backslash_in_a_report(
    pages: dict[str, str], stem: str
):
    assert not set(pages[stem]) & BIDI
    assert "\\" not in _visible(pages[stem]).replace(BACKSLASHED, "")


@pytest.mark.slow
def test_every_injected_column_is_shown_as_exactly_its_text_somewhere(pages: dict[str, str]):
    text = " ".join(_visible(page) for page in pages.values())
    shown = {column for column, value in INJECTED.items() if inert.one_line(value) in text}
    assert shown == set(INJECTED)


def _spreadsheet_text_cells(path: Path) -> list[str]:
    """Every text cell of a CSV file, or of every sheet of an XLSX file (which must hold no
    formula at all)."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return [cell for row in csv.reader(handle) for cell in row]
    with zipfile.ZipFile(path) as book:
        parts = [
            name for name in book.namelist() if name.startswith("xl/") and name.endswith(".xml")
        ]
        xml = {name: book.read(name).decode("utf-8") for name in parts}
    assert not any(re.search(r"<(\w+:)?f[ >]", text) for text in xml.values()), "a formula"
    return [
        html.unescape(cell)
        for text in xml.values()
        for cell in re.findall(r"<(?:\w+:)?t(?: [^>]*)?>([^<]*)</(?:\w+:)?t>", text)
    ]


def test_exports_are_spreadsheets_with_no_formula(injected_run: Path):
    sheets = [p for p in (injected_run / "exports").iterdir() if p.suffix in (".csv", ".xlsx")]
    assert {p.name for p in sheets} >= {"overconsumption_cases.csv", "accounts.xlsx"}
    for sheet in sheets:
        cells = _spreadsheet_text_cells(sheet)
        formulas = [cell for cell in cells if cell.startswith(FORMULA_START)]
        assert [cell for cell in formulas if inert.spreadsheet_cell(cell) != cell] == [], sheet
        assert not any(cell.startswith(FORMULA_START) for cell in cells if not _number(cell))
        assert not set("".join(cells)) & BIDI


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_the_crm_file_keeps_the_text_behind_a_quote(injected_run: Path):
    crm = pl.read_csv(injected_run / "exports" / "overconsumption_cases.csv")
    assert crm["account_name"][0] == "'" + inert.plain_text(INJECTED["account_name"])
    assert crm["value_past_line"].dtype == pl.Float64


def test_the_workbook_keeps_every_injected_text_behind_a_quote(injected_run: Path):
    cells = set(_spreadsheet_text_cells(injected_run / "exports" / "accounts.xlsx"))
    for column in ("account_name", "csm_owner", "ae_owner", "meter", "segment"):
        text = inert.plain_text(INJECTED[column])
        assert inert.spreadsheet_cell(text) in cells, column


def test_the_digest_has_no_mention_link_markup_or_entity_from_the_data(injected_run: Path):
    digest = (injected_run / "exports" / "alert_digest.md").read_text(encoding="utf-8")
    data_lines = "\n".join(line for line in digest.splitlines() if "evil" in line or "AE" in line)
    assert data_lines
    for forbidden in ("@here", "<!channel>", "://", "www.", "evil.example", "<script", "<img"):
        assert forbidden not in data_lines, forbidden
    assert "**bold**" not in data_lines and "&lt;b&gt;" not in data_lines
    assert not set(digest) & BIDI
    rendered = markdown2html_mistune(digest)
    assert re.findall(r"<a\b[^>]*evil", rendered) == []
    assert "<strong>bold</strong>" not in rendered and "<em>it</em>" not in rendered


# -- file names ----------------------------------------------------------------------------------

HOSTILE_IDS = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "",
    "a\x00b",
    "a\\..\\b",
    "x" * 5000,
    "Ünïcødé/名前",
    "con",
    " -rf ",
    "a\nb",
]


@pytest.mark.parametrize("account_id", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
def test_safe_filename_is_one_plain_name_inside_the_folder(account_id: str, tmp_path: Path):
    name = render.safe_filename(account_id)
    assert name not in ("", ".", "..")
    assert not set(name) & {"/", "\\", "\x00", "\n"}
    assert len(name.encode("utf-8")) <= 64
    path = tmp_path / f"account_review_{name}.html"
    path.write_text("ok", encoding="utf-8")
    assert path.resolve().parent == tmp_path.resolve()


def test_safe_filename_keeps_distinct_ids_distinct():
    ids = ["a/b", "a-b", "a b", "a\\b", "A/B", "x" * 5000, "x" * 5001]
    assert len({render.safe_filename(account_id) for account_id in ids}) == len(ids)


def test_pipeline_report_paths_stay_inside_the_run_folder(tmp_path: Path):
    stage = tmp_path / "stage"
    for step in pipeline.report_steps(stage, Params(), HOSTILE_IDS):
        assert step.output.resolve().is_relative_to((stage / "notebooks" / "reports").resolve())
    names = [step.output.name for step in pipeline.report_steps(stage, Params(), HOSTILE_IDS)]
    assert len(set(names)) == len(names)


# -- secrets -------------------------------------------------------------------------------------


def _files_holding(root: Path, secret: str) -> list[Path]:
    return [
        path for path in root.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()
    ]


@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_password_in_an_unreachable_uri_is_never_shown_or_written(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    extra = ["--out", str(tmp_path / "runs" / "r"), "--format", "none"] * (command == "run")
    result = runner.invoke(app, [command, "--data", PLANTED_URI, *extra])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert SECRET not in result.output
    assert "127.0.0.1" in result.output
    assert _files_holding(tmp_path, SECRET) == []


RAW_PASSWORDS = ["pa#ss", "pa?ss", "pa/ss", "p@ss", "a#b?c/d@e", "1234#5"]
"""Passwords typed raw into a URI, with the characters a URL parser cuts at."""


@pytest.mark.parametrize("password", RAW_PASSWORDS)
def test_a_raw_password_with_reserved_characters_is_moved_out_whole(password: str):
    from drawdown.inputs.database import redact, strip_password

    uri = f"postgresql://analyst:{password}@127.0.0.1:9/usage"
    assert strip_password(uri) == ("postgresql://analyst@127.0.0.1:9/usage", password)
    assert redact(uri) == "postgresql://analyst:***@127.0.0.1:9/usage"


@pytest.mark.parametrize("password", [*RAW_PASSWORDS, "pw%40x"])
@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_raw_password_is_never_shown_or_written(
    command: str, password: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    uri = f"postgresql://analyst:{password}Zq9@127.0.0.1:9/usage"
    extra = ["--out", str(tmp_path / "runs" / "r"), "--format", "none"] * (command == "run")
    result = runner.invoke(app, [command, "--data", uri, *extra])
    assert result.exit_code == 2, result.output
    for fragment in {
        password + "Zq9",
        *password.replace("@", "#").replace("?", "#").replace("/", "#").split("#"),
    } - {""}:
        if len(fragment) >= 3:
            assert fragment not in result.output, result.output
    assert _files_holding(tmp_path, password + "Zq9") == []


@pytest.mark.parametrize(
    "source",
    [
        "host=127.0.0.1 port=9 user=analyst password=S3cretKV dbname=usage",
        "host=127.0.0.1 password='S3cretKV with spaces' dbname=usage",
    ],
)
def test_a_libpq_key_value_password_is_never_shown(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "--data", source])
    assert result.exit_code == 2, result.output
    assert "S3cretKV" not in result.output and "password=***" in result.output


def test_a_password_is_never_quoted_by_a_params_error():
    from drawdown.errors import ParamsError
    from drawdown.params import load_params

    with pytest.raises(ParamsError) as caught:
        load_params(overrides={"source": {"uri": "postgresql://u:S3cret#x@h/db", "tables": 5}})
    with pytest.raises(ParamsError) as too_long:
        load_params(overrides={"source": {"uri": "postgresql://u:S3cret@h/" + "d" * 5000}})
    assert "S3cret" not in str(caught.value) + str(too_long.value)


def test_no_database_password_reaches_a_kernel_or_a_browser(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PGPASSWORD", "S3cret")
    monkeypatch.setenv("MY_DB_PASSWORD", "S3cret2")
    params = Params().with_overrides({"source": {"password_env": "MY_DB_PASSWORD"}})
    with pipeline.secrets_withheld(params):
        assert "PGPASSWORD" not in os.environ and "MY_DB_PASSWORD" not in os.environ
    assert os.environ["PGPASSWORD"] == "S3cret" and os.environ["MY_DB_PASSWORD"] == "S3cret2"


@pytest.fixture(scope="module")
def file_run(small_book: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full run (HTML reports, one account review) with a planted secret in the environment."""
    runs = tmp_path_factory.mktemp("secret") / "runs"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DRAWDOWN_PLANTED_TOKEN", SECRET)
        result = runner.invoke(
            app,
            [
                "run",
                *("--data", str(small_book), "--out", str(runs / "r")),
                *("--format", "html", "--top", "1"),
            ],
        )
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    return runs


@pytest.mark.slow
def test_no_file_of_a_run_holds_a_secret_from_the_environment(file_run: Path):
    assert _files_holding(file_run, SECRET) == []


@pytest.mark.slow
def test_executed_notebooks_carry_no_environment_dump(file_run: Path):
    notebooks = list((file_run / "r" / "notebooks").rglob("*.ipynb"))
    assert len(notebooks) >= 7
    for path in notebooks:
        text = path.read_text(encoding="utf-8")
        assert os.environ["PATH"] not in text, path
        assert not any(f"{name}=" in text for name in ("PATH", "HOME", "PGPASSWORD")), path


def test_rejected_rows_are_written_with_no_formula(tmp_path: Path):
    book = write_folder(
        tmp_path / "book",
        accounts=with_rows("accounts", 'A3,=HYPERLINK("https://evil.example"),,,,,'),
    )
    rejects = tmp_path / "rejects"
    result = runner.invoke(app, ["validate", "--data", str(book), "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    stage = tmp_path / "stage"
    steps.write_snapshot(steps.validate_source(Params(source=str(book))), stage)
    for written in (rejects / "accounts.csv", stage / "artifacts" / "rejects" / "accounts.csv"):
        names = pl.read_csv(written, infer_schema=False)["account_name"].to_list()
        assert names == ['\'=HYPERLINK("https://evil.example")'], written
