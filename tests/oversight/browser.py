"""Rendering a page in a real browser: Debian's Chromium driven by Playwright (never a browser
Playwright downloads). Without Chromium the caller's test is skipped, except under CI=true,
where it fails: CI installs Chromium (.ci/run)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from tests.browser import ARGS, CHROMIUM, browser_or_skip

# Draws the screenshot on a canvas and counts the pixels that are not (near) white.
COUNT_INK = """async (data) => {
  const image = new Image();
  image.src = "data:image/png;base64," + data;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  let ink = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i] < 200 || pixels[i + 1] < 200 || pixels[i + 2] < 200) ink++;
  }
  return ink;
}"""


@dataclass(frozen=True)
class Rendered:
    png_bytes: int
    ink_pixels: int
    pdf_bytes: int
    text: str
    charts: int
    requests: list[str]


def render(html: str, screenshot: Path) -> Rendered:
    """Loads ``html`` with every network request refused (and recorded), takes a full-page
    screenshot and a print to PDF (A4), and reads back what the page shows."""
    browser_or_skip()
    from playwright.sync_api import Route, sync_playwright  # noqa: PLC0415 - imported only once known present

    requests: list[str] = []

    def refuse(route: Route) -> None:
        requests.append(route.request.url)
        route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.route("**/*", refuse)
            page.set_content(html, wait_until="load")
            png = page.screenshot(path=str(screenshot), full_page=True)
            ink = page.evaluate(COUNT_INK, base64.b64encode(png).decode())
            pdf = page.pdf(format="A4", print_background=True)
            text = page.inner_text("body")
            charts = page.locator("svg rect").count() and page.locator("svg").count()
        finally:
            browser.close()
    return Rendered(len(png), int(ink), len(pdf), text, charts, requests)
