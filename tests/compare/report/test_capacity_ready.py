"""New capacity on AWS in the report: a sum of parts, each shown with its own kind — EC2's time to
serve is not a "published measurement" because its first 26 s are."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.projection import section
from compare.report.verdict import build_verdict
from tests.compare.sample import full_sample_results


def test_the_verdict_and_the_projection_name_each_parts_kind() -> None:
    results = full_sample_results()
    cold = next(c.text for c in build_verdict(results).differences if "scaling out" in c.text)
    assert (
        "EC2 adds capacity off the request path, serving about 121 s after scaling out on AWS "
        "(26 s launch → SSH (published measurement) + 75 s user data install (assumption) "
        "+ 20 s ALB health checks (assumption))"
    ) in cold
    text = str(section(results, Charts()))
    for row in ("'launch → SSH', '26', 'published measurement'", "'user data install', '75', 'assumption'"):
        assert row in text
