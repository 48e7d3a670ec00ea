"""The leaders' report as one self-contained HTML page: inline CSS, charts as inline SVG, no script, no font,
image or style sheet fetched from anywhere, so it opens offline and in a mail client that shows HTML.

Every table cell carries the exact value it shows (``data-value``) and the view column it comes from
(``data-column``); every table names its source view (``data-source``): the numbers can be read back and
compared with the warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pipelines.report.charts import svg
from pipelines.report.model import Block, Chart, Section, Table
from pipelines.report.numbers import raw, shown

STYLE = """
body{font-family:Helvetica,Arial,sans-serif;color:#1a1a1a;max-width:960px;margin:0 auto;padding:16px 24px;
line-height:1.4;background:#fff}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:19px;margin:32px 0 4px;border-bottom:2px solid #08306b;
padding-bottom:2px}
.meta{color:#444;font-size:13px;margin:0 0 8px}nav{font-size:13px}nav a{margin-right:12px;color:#08306b}
.definition{font-style:italic;color:#333;margin:4px 0 12px}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}
caption{text-align:left;font-weight:bold;padding:4px 0;font-size:14px}
th,td{border-bottom:1px solid #d9d9d9;padding:3px 8px;vertical-align:top}th{background:#f0f0f0;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{max-width:420px;overflow-wrap:break-word}
.wide{overflow-x:auto}
table.cards{border-collapse:separate;border-spacing:8px 0}
table.cards th{background:none;border:none;font-weight:normal;color:#444;font-size:12px;vertical-align:bottom}
table.cards td{border:1px solid #bdbdbd;border-radius:4px;font-size:22px;font-weight:bold;text-align:left;
padding:6px 10px}
figure{margin:12px 0 4px}figcaption{font-weight:bold;font-size:14px;margin-bottom:4px}
figure svg{max-width:100%;height:auto}
.note{background:#f5f5f5;border-left:4px solid #6b6b6b;padding:6px 10px;font-size:13px}
a{color:#08306b}
@media print{h2{page-break-after:avoid}figure,table{page-break-inside:avoid}}
"""


def _table(table: Table) -> str:
    cls = ' class="cards"' if table.cards else ""
    head = "".join(
        f'<th data-column="{escape(c.name)}" data-kind="{c.kind}">{escape(c.label)}</th>' for c in table.columns
    )
    body = []
    for i, row in enumerate(table.rows):
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            kind = "t" if column.kind == "text" else "n"
            text = escape(shown(value, column.kind))
            if table.row_links and column is table.columns[0]:
                text = f'<a href="#{escape(table.row_links[i])}">{text}</a>'
            cells.append(
                f'<td class="{kind}" data-column="{escape(column.name)}" data-value="{escape(raw(value))}">{text}</td>'
            )
        row_id = f' id="{escape(table.row_ids[i])}"' if table.row_ids else ""
        body.append(f"<tr{row_id}>{''.join(cells)}</tr>")
    if not table.rows:
        body.append(f'<tr><td colspan="{len(table.columns)}">(none)</td></tr>')
    return (
        f'<div class="wide"><table{cls} id="table-{escape(table.key)}" data-table="{escape(table.key)}" '
        f'data-source="{escape(table.source)}"><caption>{escape(table.caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _chart(chart: Chart) -> str:
    return (
        f'<figure class="chart" data-chart="{escape(chart.key)}" data-table="{escape(chart.table.key)}">'
        f"<figcaption>{escape(chart.title)} "
        f'<a href="#table-{escape(chart.table.key)}">(numbers)</a></figcaption>{svg(chart)}</figure>'
    )


def _block(block: Block) -> str:
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Chart):
        return _chart(block)
    return f'<p class="note">{escape(block.text)}</p>'


def render(title: str, meta: Sequence[str], sections: Sequence[Section]) -> str:
    nav = "".join(f'<a href="#{s.key}">{escape(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{s.key}"><h2>{n}. {escape(s.title)}</h2><p class="definition">{escape(s.definition)}</p>'
        + "".join(_block(b) for b in s.blocks)
        + "</section>"
        for n, s in enumerate(sections, start=1)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><p class="meta">{" · ".join(escape(m) for m in meta)}</p>'
        f"<nav>{nav}</nav></header>{body}</body></html>\n"
    )
