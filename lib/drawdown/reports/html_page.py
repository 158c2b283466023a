"""nbconvert's HTML exporter, trimmed of work a report page does not need.

Imported only when a page is rendered: nbconvert takes a moment to import, and most commands
render nothing.
"""

from __future__ import annotations

from typing import Any

from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat import NotebookNode


class ReportPageExporter(HTMLExporter):
    """``HTMLExporter`` without its last step and with one validation of the notebook.

    nbconvert ends every page with a pass through BeautifulSoup that gives an ``<img>`` without
    ``alt`` a placeholder one and makes the input and output areas inside ``.jp-Notebook``
    focusable. drawdown's template has no ``.jp-Notebook`` and every image it writes (the logo)
    has its ``alt``, so the pass only parsed and re-serialized the page: in pure Python, over
    inline SVG charts, about 40% of a page's time. It also validates the notebook once at the
    end rather than after each preprocessor (``optimistic_validation``)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(optimistic_validation=True, **options)

    def from_notebook_node(  # type: ignore[override]
        self, nb: NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        """The page, as ``HTMLExporter.from_notebook_node`` renders it before its final pass."""
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name"))
        self.register_filter(
            "highlight_code",
            self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)),
        )
        resources = self._init_resources(resources)
        self.register_filter(
            "filter_data_type",
            WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            ),
        )
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)
