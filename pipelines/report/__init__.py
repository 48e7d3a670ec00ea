"""The leaders' report: a self-contained HTML page (funnel, trends, SLA, revenue by campaign, cycle lengths,
data quality, with charts) and a Markdown summary, read from the warehouse's closed-loop views."""

from pipelines.report.markdown import data_quality, headline
from pipelines.report.publish import Published, publish, write

__all__ = ["Published", "data_quality", "headline", "publish", "write"]
