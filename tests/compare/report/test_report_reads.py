"""The report read as an architect reads it: a verdict first, charts with footers and alt text, an
HTML page that renders its own Markdown and stands alone — from a stored results file, with the
later fields filled and with them missing."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from compare.chartstyle import read_footer
from compare.report.console import print_summary
from compare.report.contents import TITLES
from compare.report.verdict import CAPACITY as CAPACITY_TITLE
from compare.report.verdict import COLD, COST, DAY, LATENCY, PROJECTED, PROJECTION, build_verdict
from compare.results import AWS_LABEL, RunResults, from_json, read_results, write_results
from tests.compare.sample import full_sample_results, render_sample, sample_json, sample_results


class Page(HTMLParser):
    """The page's text outside code, its images, links, headings and the tags it loads from."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.hrefs: list[str] = []
        self.sources: list[str] = []
        self.ids: list[str] = []
        self.metas: list[dict[str, str | None]] = []
        self.strong: list[str] = []
        self._code = 0
        self._strong = 0
        self._style = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("code", "pre"):
            self._code += 1
        if tag == "strong":
            self._strong += 1
            self.strong.append("")
        if tag == "style":
            self._style += 1
        if tag == "img":
            self.images.append(found)
        if tag == "meta":
            self.metas.append(found)
        if "id" in found:
            self.ids.append(str(found["id"]))
        if found.get("href") is not None:
            self.hrefs.append(str(found["href"]))
        if tag in ("script", "link", "iframe", "img") and found.get("src") is not None:
            self.sources.append(str(found["src"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "pre"):
            self._code -= 1
        if tag == "strong":
            self._strong -= 1
        if tag == "style":
            self._style -= 1

    def handle_data(self, data: str) -> None:
        if self._strong:
            self.strong[-1] += data
        if not self._code and not self._style:
            self.text.append(data)


def _page(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def priced(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResults, dict[str, Path]]:
    """The full sample's report, priced once (the break-even solve takes seconds)."""
    return render_sample(tmp_path_factory.mktemp("full"))


@pytest.fixture(scope="module")
def full(priced: tuple[RunResults, dict[str, Path]]) -> tuple[Path, str, str]:
    _, files = priced
    return files["html"].parent, files["markdown"].read_text(), files["html"].read_text()


def _variant(
    priced: tuple[RunResults, dict[str, Path]], out: Path, **kwargs: bool
) -> tuple[RunResults, dict[str, Path]]:
    """A variant that changes no figure the cost model reads: rendered with the priced cost."""
    return render_sample(out, full_sample_results(**kwargs), priced[0].cost)


def test_the_report_is_rendered_from_a_stored_results_file(tmp_path: Path) -> None:
    stored = read_results(write_results(full_sample_results(), tmp_path / "run"))
    _, files = render_sample(tmp_path / "report", stored)
    assert files["html"].read_text().count("<h2") == len(TITLES)


def test_the_verdict_comes_first_and_names_a_runtime(full: tuple[Path, str, str]) -> None:
    _, markdown, html = full
    first = markdown.split("\n## ")[1]
    assert first.startswith("Verdict")
    assert re.search(r"\*\*(Lambda|Fargate|EC2) with (push|polling)\.\*\*", first)  # runtime and mode
    verdict = build_verdict(full_sample_results())
    assert verdict.runtime in ("lambda", "fargate", "ec2") and verdict.basis == PROJECTED
    assert '<h2 id="verdict">Verdict</h2>' in html


def test_every_verdict_claim_is_tagged_and_links_to_a_section_that_exists(
    full: tuple[Path, str, str],
) -> None:
    _, markdown, html = full
    verdict_md = markdown.split("\n## ")[1]
    claims = re.findall(r"\*\(([^;)]+)(?:; see \[[^]]+\]\(#([^)]+)\))?\)\*", verdict_md)
    assert len(claims) >= 5
    tags = {tag for tag, _ in claims}
    assert {"projected", "modeled", "measured here"} <= tags
    ids = set(_page(html).ids)
    for _, target in claims:
        assert target in ids, target
    for title in (COST, PROJECTION, LATENCY, CAPACITY_TITLE, COLD, DAY):
        assert title in TITLES


def test_the_verdict_rests_on_the_projection_and_says_what_would_change_it(
    priced: tuple[RunResults, dict[str, Path]],
) -> None:
    results, _ = priced
    verdict = build_verdict(results)
    latency = [c for c in verdict.claims if "p99" in c.text and "AWS" in c.text]
    assert latency and latency[0].tag == PROJECTED and "95.0 ms" in latency[0].text
    changes = " ".join(c.text for c in verdict.changes)
    assert "orders a month" in changes and "SLO tighter than 95.0 ms" in changes
    volumes = [float(v.replace(",", "")) for v in re.findall(r"Traffic above about ([\d,]+) orders", changes)]
    assert len(volumes) >= 2 and volumes == sorted(volumes)  # the nearest change of answer first
    # the pick meets the SLO in steady state; the simulated day (cold starts included) does not
    assert "day p99 240 ms" in changes
    assert not any("not an AWS figure" in w for w in verdict.warnings)


def test_the_recommendation_uses_the_projection_and_names_its_inputs(
    priced: tuple[RunResults, dict[str, Path]],
) -> None:
    results, _ = priced
    assert results.cost is not None and results.cost.estimate is not None
    rec = results.cost.estimate["recommendation"]
    projected = {n: e.projection.p99_ms for n, e in results.runtimes.items() if e.projection}
    assert {i["runtime"]: i["p99_ms"] for i in rec["inputs"]} == projected
    assert all(i["source"].startswith("projected") for i in rec["inputs"])
    assert "latency inputs: projected" in rec["reason"]


def test_without_a_projection_the_verdict_rests_on_local_figures_and_says_so(tmp_path: Path) -> None:
    results, files = render_sample(tmp_path, sample_results())
    verdict = build_verdict(results)
    assert verdict.runtime in results.runtimes and verdict.basis == "measured here"
    assert any("Local latency is not an AWS figure" in w for w in verdict.warnings)
    markdown = files["markdown"].read_text()
    assert "No AWS projection in this run" in markdown
    assert "No envelope is recorded for lambda, ec2" in markdown
    assert "No simulated day in this run" in markdown
    assert "No generator record in this run" in markdown
    rec = results.cost.estimate["recommendation"] if results.cost and results.cost.estimate else {}
    assert "measured here, not on AWS" in rec["reason"]


def test_every_chart_has_a_provenance_footer_and_alt_text(full: tuple[Path, str, str]) -> None:
    out, markdown, html = full
    charts = sorted(out.glob("*.png"))
    names = {p.name for p in charts}
    assert {"latency_percentiles.png", "throughput_vs_offered.png", "cold_starts.png"} <= names
    assert {"day.png", "breakeven.png"} <= names
    for chart in charts:
        footer = read_footer(chart)
        assert footer is not None, chart.name
        assert re.match(r"(measured here|measured on AWS|modeled)", footer), (chart.name, footer)
        assert " · reproduce: " in footer
    images = _page(html).images
    assert len(images) == len(charts)
    for image in images:
        assert len(image.get("alt") or "") > 60
    for chart in charts:  # the caption under each chart repeats its footer in words
        assert chart.name in markdown


def test_the_html_has_no_unrendered_markdown(full: tuple[Path, str, str]) -> None:
    _, _, html = full
    text = "".join(_page(html).text)
    for leftover in ("**", "*", "`", "|---", "](#", "\\"):
        assert leftover not in text, leftover
    assert "<em>measured here (local emulation)</em>" in html


def test_the_html_stands_alone_reads_on_a_phone_and_prints(full: tuple[Path, str, str]) -> None:
    _, _, html = full
    page = _page(html)
    assert page.sources and all(s.startswith("data:image/png;base64,") for s in page.sources)
    assert all(h.startswith("#") for h in page.hrefs)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "<script" not in html and "<link" not in html
    assert any(
        m.get("name") == "viewport" and "width=device-width" in (m.get("content") or "") for m in page.metas
    )
    assert '<div class="table-wrap"><table>' in html and "overflow-x:auto" in html
    assert "img{max-width:100%" in html and "@media print" in html


def test_runtimes_that_ran_uncapped_are_said_in_bold_at_the_top(
    priced: tuple[RunResults, dict[str, Path]], tmp_path: Path
) -> None:
    results, files = _variant(priced, tmp_path, enforced=False)
    page = _page(files["html"].read_text())
    verdict_text = "".join(page.text).split("What was measured, and where")[0]
    assert "The runtimes ran uncapped" in verdict_text
    assert any(s.startswith("The runtimes ran uncapped") for s in page.strong)
    console = _summary(results, tmp_path)
    assert console.index("The runtimes ran uncapped") < console.index("Café Compute latency")


def test_figures_affected_by_a_generator_that_fell_behind_are_flagged(
    priced: tuple[RunResults, dict[str, Path]], tmp_path: Path
) -> None:
    results, files = _variant(priced, tmp_path, kept_up=False)
    markdown = files["markdown"].read_text()
    assert "The load generator did not keep up" in markdown.split("\n## ")[1]
    overview = markdown.split("\n## Summary")[1].split("\n## ")[0]
    rows = {line.split("|")[1].strip(): line for line in overview.splitlines() if line.startswith("| ")}
    assert "800 ⚠" in rows["ec2"] and "400 ⚠" in rows["fargate"] and "⚠" not in rows["lambda"]
    console = _summary(results, tmp_path)
    assert "did not keep up" in console and "800 ⚠" in console and "400 ⚠" in console


def test_a_generator_that_kept_up_flags_nothing(full: tuple[Path, str, str]) -> None:
    _, markdown, _ = full
    assert "⚠" not in markdown


def _summary(results: RunResults, out: Path) -> str:
    buffer = io.StringIO()
    print_summary(results, out, Console(file=buffer, width=200, color_system=None))
    return buffer.getvalue()


def test_the_printed_summary_starts_with_the_verdict(
    priced: tuple[RunResults, dict[str, Path]], tmp_path: Path
) -> None:
    text = _summary(priced[0], tmp_path)
    assert text.lstrip().startswith("Verdict: Lambda with push (latency projected)")
    assert "(projected)" in text and "(modeled" in text


def test_a_remote_run_on_aws_rests_on_its_aws_figures_without_the_local_warning() -> None:
    data = sample_json()
    data["mode"], data["source"] = "remote", AWS_LABEL
    for entry in data["runtimes"].values():
        entry["source"] = AWS_LABEL
    verdict = build_verdict(from_json(RunResults, data))
    assert verdict.basis == AWS_LABEL and verdict.runtime in ("lambda", "ec2")
    assert not any("not an AWS figure" in w for w in verdict.warnings)
    assert any(c.tag == AWS_LABEL and "measured on AWS" in c.text for c in verdict.claims)


def test_the_verdict_says_the_picks_notice_delay_as_this_run_measured_it() -> None:
    from dataclasses import replace

    from compare.report.modes import TITLE as MODES
    from compare.report.verdict import _measured_notice_claim
    from compare.results import NoticeMode, Percentiles

    def pct(p50: float, p99: float) -> Percentiles:
        return Percentiles(p50=p50, p90=p99, p99=p99, p99_9=p99, max=p99, mean=p50)

    results = sample_results()
    push = NoticeMode("push", "websocket", pct(115, 594), 32, 32, 0, 0.0, 1000, 27.9, 84.1, pct(278, 552))
    polling = NoticeMode("polling", "poll", pct(1467, 2486), 32, 32, 0, 9.8)
    lam = replace(results.runtimes["lambda"], push=push, polling=polling)
    measured = replace(results, runtimes={**results.runtimes, "lambda": lam})
    claim = _measured_notice_claim(measured, "lambda", "push")
    assert claim is not None and claim.section == MODES and claim.tag == "measured here"
    assert "by websocket" in claim.text and "115 ms at the median and 594 ms at p99" in claim.text
    assert "(278 / 552 ms with 1,000 subscribers held)" in claim.text
    by_polling = _measured_notice_claim(measured, "lambda", "polling")
    assert by_polling is not None and "by poll" in by_polling.text and "1467" in by_polling.text
    assert _measured_notice_claim(results, "lambda", "push") is None  # not measured: nothing said
