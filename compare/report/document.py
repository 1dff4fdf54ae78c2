"""A small document model written once as Markdown, and that Markdown rendered to one
self-contained HTML page by a CommonMark parser (markdown-it-py, tables on).

Building the report as sections of paragraphs, lists, tables and images keeps report.md and
report.html in step: the HTML is the Markdown rendered, never a second hand-made conversion. The
page stands alone (every PNG inlined as a data URI, no external URL), reads on a phone (viewport,
tables that scroll sideways, images that shrink) and prints (its own print rules).
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict


@dataclass(frozen=True)
class Para:
    """A paragraph of Markdown (inline: **bold**, *italic*, `code`, [links](#anchor))."""

    text: str


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    caption: str = ""


@dataclass(frozen=True)
class Image:
    """A chart: `alt` says what it shows in words, `caption` is printed under it (Markdown)."""

    path: Path
    caption: str
    alt: str = ""


Block = Para | Bullets | Table | Image


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]<>|#])")


def literal(text: str) -> str:
    """Text shown as it is (a command line, a footer): Markdown's punctuation escaped."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def anchor(title: str) -> str:
    """The heading's id, as GitHub makes it (so report.md's links work there too)."""
    slug = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return slug.replace(" ", "-")


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _image_src(path: Path, base: Path | None) -> str:
    if base is not None and path.parent.resolve() == base.resolve():
        return path.name
    return path.as_posix()


def to_markdown(title: str, sections: Sequence[Section], base: Path | None = None) -> str:
    """The report as Markdown; images are linked relative to `base` (the report's directory)."""
    lines = [f"# {title}", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Para):
                lines += [block.text, ""]
            elif isinstance(block, Bullets):
                lines += [f"- {item}" for item in block.items] + [""]
            elif isinstance(block, Table):
                if block.caption:
                    lines += [f"*{block.caption}*", ""]
                lines.append("| " + " | ".join(_md_cell(h) or " " for h in block.headers) + " |")
                lines.append("|" + "---|" * len(block.headers))
                lines += ["| " + " | ".join(_md_cell(str(c)) for c in row) + " |" for row in block.rows]
                lines.append("")
            else:
                alt = (block.alt or block.caption).replace("[", "(").replace("]", ")").replace("\n", " ")
                lines += [f"![{alt}]({_image_src(block.path, base)})", "", f"*{block.caption}*", ""]
    return "\n".join(lines)


STYLE = """
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:1.5em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.5em 0 1.5em}
table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
img{max-width:100%;height:auto}
code{background:#f5f5f5;padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}
#verdict{background:#f6f9fc;border-left:4px solid #0072B2;padding:.2em 1em .6em}
@media (max-width:600px){body{margin:.5em auto;font-size:15px}td,th{padding:.2em .35em}}
@media print{body{max-width:none;margin:0;font-size:10pt;color:#000}
a{color:#000;text-decoration:none}h2{break-after:avoid}
img,table,figure{break-inside:avoid}.table-wrap{overflow:visible}#verdict{border-left-color:#000}}
"""


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _parser(base: Path | None) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

    def heading_ids(state: Any) -> None:
        tokens: list[Token] = state.tokens
        for i, token in enumerate(tokens):
            if token.type == "heading_open" and i + 1 < len(tokens):
                token.attrSet("id", anchor(tokens[i + 1].content))

    md.core.ruler.push("heading_ids", heading_ids)

    def image(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        src = Path(str(token.attrGet("src") or ""))
        path = src if src.is_absolute() or base is None else base / src
        alt = html.escape(self.renderInlineAsText(token.children or [], options, env))
        if not path.is_file():  # nothing fetched from elsewhere: say what is missing instead
            return f"<em>[chart missing: {html.escape(src.name)}] {alt}</em>"
        return f'<img src="{_data_uri(path)}" alt="{alt}">'

    def table_open(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return '<div class="table-wrap"><table>\n'

    def table_close(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "</table></div>\n"

    md.add_render_rule("image", image)
    md.add_render_rule("table_open", table_open)
    md.add_render_rule("table_close", table_close)
    return md


def render_html(title: str, markdown: str, base: Path | None = None) -> str:
    """The Markdown as one self-contained page (images read from `base` and inlined)."""
    body = _parser(base).render(markdown)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def to_html(title: str, sections: Sequence[Section], base: Path | None = None) -> str:
    return render_html(title, to_markdown(title, sections, base), base)
