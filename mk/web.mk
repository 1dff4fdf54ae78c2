# Web pages (shared/cafe/web/static/): plain HTML/CSS/ES modules, no build step; every runtime
# serves the same files. The browser tests need Debian's chromium (+ fonts-noto-cjk for Korean).
CHROMIUM ?= /usr/bin/chromium

.PHONY: test-web  ## drive the pages in headless Chromium (writes test-artifacts/screenshots/)
test-web: $(STAMP)
	@test -x $(CHROMIUM) || { echo "no $(CHROMIUM): apt-get install -y chromium fonts-noto-cjk" >&2; exit 1; }
	CAFE_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q tests/browser
