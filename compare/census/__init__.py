"""The traffic census: every request the café's own pages make, counted in a real browser.

``make census`` (``python -m compare.census``) drives the customer page, the barista page and the
pickup board in headless Chromium (Playwright) against the EC2 runtime's app served on this
machine, through scripted scenarios on Playwright's fake clock, twice: with push unavailable (its
WSGI side: ``GET /live`` answers none and the pages poll) and with push working (its ASGI side in
uvicorn: the pages follow a server-sent event stream). It writes ``compare/cost/census.json``:
requests per order, per minute of waiting (tab visible or hidden) and per hour a screen is open,
by method and route template, with their statuses, in both modes; and for push the streams each
page holds and the messages they carry. The cost model reads that file; ``tests/census`` fails
when the pages' request pattern drifts from it.

Rooms: ``routes`` (URL → route template), ``server`` (the local café and its request log),
``tab`` (one browser tab on the page clock), ``scenarios`` (what a customer, a barista and a board
do), ``tally`` (counts → the census document), ``pagejs`` (the pages' intervals and API calls read
from their source, for the drift test), ``provenance``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CENSUS_PATH = ROOT / "compare" / "cost" / "census.json"
CENSUS_VERSION = 2
