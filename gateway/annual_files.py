"""The annual report as files: one CSV per table, and one PDF with every table and its chart.

The PDF is written here, with PDF's own standard fonts (Helvetica, WinAnsi encoding: Dutch and English text fit)
and no library: the report is text, rules and bars, and a dependency with system libraries for that was not worth
its weight. Its streams are not compressed, so the figures can be read back from the file as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from gateway.annual_report import AnnualReport, ReportTable
from gateway.annual_suppression import HIDDEN, SMALL

# A4 landscape, in points.
PAGE_WIDTH, PAGE_HEIGHT = 842.0, 595.0
MARGIN = 40.0
LINE = 14.0


def csv_of(report: AnnualReport, table: ReportTable) -> str:
    """One table: a header of column labels, a row per library or partner, then the rule that hid what is hidden.
    Hidden values are written as the page shows them ("<5", "*"); money in euros with a decimal point."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["key", "name", *(column.key for column in table.columns)])
    writer.writerow(["", "", *(column.label for column in table.columns)])
    for row in table.rows:
        writer.writerow([row.key, row.label, *(_plain(row.values.get(c.key), c.kind) for c in table.columns)])
    writer.writerow([])
    writer.writerow(["note", f"{table.title}, {report.year}", report.suppression])
    return out.getvalue()


def _plain(value: object, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if kind == "money" and isinstance(value, int):
        return f"{value / 100:.2f}"
    return str(value)


@dataclass(frozen=True)
class PdfChart:
    """Bars for one table: per row (the total row left out), the shown values of `keys` stacked."""

    table: str
    title: str
    keys: list[tuple[str, str]]  # (column, label)


class _Canvas:
    """Pages of drawing operators; text in WinAnsi (cp1252)."""

    def __init__(self) -> None:
        self.pages: list[list[str]] = []
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        self.pages.append([])
        self.y = PAGE_HEIGHT - MARGIN

    def need(self, height: float) -> None:
        if self.y - height < MARGIN:
            self.new_page()

    def text(self, x: float, y: float, value: str, *, size: float = 9, bold: bool = False) -> None:
        font = "F2" if bold else "F1"
        self.pages[-1].append(f"BT /{font} {size:g} Tf {x:.1f} {y:.1f} Td ({_escape(value)}) Tj ET")

    def rect(self, x: float, y: float, w: float, h: float, grey: float) -> None:
        self.pages[-1].append(f"{grey:.2f} g {x:.1f} {y:.1f} {w:.1f} {h:.1f} re f 0 g")

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.pages[-1].append(f"0.5 w {x1:.1f} {y1:.1f} m {x2:.1f} {y2:.1f} l S")

    def paragraph(self, value: str, *, size: float = 9, width: float = PAGE_WIDTH - 2 * MARGIN) -> None:
        per_line = max(20, int(width / (size * 0.5)))
        words, line = value.split(), ""
        for word in words:
            if len(line) + len(word) + 1 > per_line:
                self.need(LINE)
                self.text(MARGIN, self.y, line, size=size)
                self.y -= LINE
                line = word
            else:
                line = f"{line} {word}".strip()
        if line:
            self.need(LINE)
            self.text(MARGIN, self.y, line, size=size)
            self.y -= LINE


def _escape(value: str) -> str:
    encoded = value.encode("cp1252", errors="replace").decode("latin-1")
    return encoded.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _fit(value: str, width: float, size: float) -> str:
    most = max(4, int(width / (size * 0.52)))
    return value if len(value) <= most else value[: most - 1] + "…"


def pdf_of(
    report: AnnualReport,
    *,
    title: str,
    subtitle: str,
    show: Callable[[object, str], str],
    charts: list[PdfChart],
) -> bytes:
    """`show(value, kind)` writes a value as the reader's language does."""
    canvas = _Canvas()
    canvas.text(MARGIN, canvas.y, title, size=16, bold=True)
    canvas.y -= 22
    canvas.text(MARGIN, canvas.y, subtitle, size=10)
    canvas.y -= 18
    canvas.paragraph(report.suppression)
    canvas.y -= 6
    by_id = {table.id: table for table in report.tables}
    for table in report.tables:
        _table(canvas, table, show)
        for chart in charts:
            if chart.table == table.id:
                _chart(canvas, chart, by_id[chart.table], show)
    return _document(canvas.pages)


def _table(canvas: _Canvas, table: ReportTable, show: Callable[[object, str], str]) -> None:
    size = 8.0
    first = 170.0
    width = (PAGE_WIDTH - 2 * MARGIN - first) / max(1, len(table.columns))
    canvas.need(LINE * 4)
    canvas.y -= 6
    canvas.text(MARGIN, canvas.y, table.title, size=11, bold=True)
    canvas.y -= LINE + 2

    def header() -> None:
        for index, column in enumerate(table.columns):
            canvas.text(
                MARGIN + first + index * width, canvas.y, _fit(column.label, width - 4, size), size=size, bold=True
            )
        canvas.line(MARGIN, canvas.y - 4, PAGE_WIDTH - MARGIN, canvas.y - 4)
        canvas.y -= LINE

    header()
    for row in table.rows:
        if canvas.y - LINE < MARGIN:
            canvas.new_page()
            header()
        bold = row.key == "total"
        canvas.text(MARGIN, canvas.y, _fit(row.label, first - 6, size), size=size, bold=bold)
        for index, column in enumerate(table.columns):
            text = show(row.values.get(column.key), column.kind)
            canvas.text(MARGIN + first + index * width, canvas.y, text, size=size, bold=bold)
        canvas.y -= LINE
    if not table.rows:
        canvas.text(MARGIN, canvas.y, "–", size=size)
        canvas.y -= LINE


GREYS = (0.25, 0.55, 0.75, 0.4, 0.65, 0.85)


def _chart(canvas: _Canvas, chart: PdfChart, table: ReportTable, show: Callable[[object, str], str]) -> None:
    rows = [row for row in table.rows if row.key != "total"]
    values = [[_number(row.values.get(key)) for key, _ in chart.keys] for row in rows]
    largest = max((sum(v) for v in values), default=0)
    if not rows or largest <= 0:
        return
    bar, gap, label_width = 10.0, 4.0, 170.0
    plot = PAGE_WIDTH - 2 * MARGIN - label_width - 80
    canvas.need(LINE * 2 + len(rows) * (bar + gap))
    canvas.y -= 4
    canvas.text(MARGIN, canvas.y, chart.title, size=9, bold=True)
    x = MARGIN + label_width
    for index, (_, label) in enumerate(chart.keys):
        canvas.rect(x, canvas.y - 1, 8, 8, GREYS[index % len(GREYS)])
        canvas.text(x + 11, canvas.y, label, size=7)
        x += 14 + len(label) * 3.8
    canvas.y -= LINE
    for row, numbers in zip(rows, values, strict=True):
        canvas.text(MARGIN, canvas.y, _fit(row.label, label_width - 6, 8), size=8)
        x = MARGIN + label_width
        for index, number in enumerate(numbers):
            width = plot * number / largest
            if width > 0:
                canvas.rect(x, canvas.y - 2, width, bar, GREYS[index % len(GREYS)])
            x += width
        canvas.text(x + 4, canvas.y, " / ".join(show(row.values.get(k), "people") for k, _ in chart.keys), size=7)
        canvas.y -= bar + gap
    canvas.y -= 4


def _number(value: object) -> float:
    """A bar shows what the table shows: a hidden value draws nothing."""
    if value in (SMALL, HIDDEN) or not isinstance(value, int | float):
        return 0.0
    return float(value)


def _document(pages: list[list[str]]) -> bytes:
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the pages are numbered
    pages_id = add(b"")
    regular = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids = []
    for number, operators in enumerate(pages, start=1):
        footer = f"BT /F1 7 Tf {PAGE_WIDTH - MARGIN - 30:.1f} 20 Td ({number}/{len(pages)}) Tj ET"
        stream = "\n".join([*operators, footer]).encode("latin-1")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                (
                    f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {PAGE_WIDTH:g} {PAGE_HEIGHT:g}] "
                    f"/Resources << /Font << /F1 {regular} 0 R /F2 {bold} 0 R >> >> /Contents {content} 0 R >>"
                ).encode()
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()
    objects[pages_id - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{kid} 0 R' for kid in kids)}] /Count {len(kids)} >>".encode()
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref))
    return out.getvalue()
