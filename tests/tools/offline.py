"""Debian's Chromium driven by Playwright, with nothing allowed off the machine.

One launcher for everything that opens the book in a browser: the browser tests, the
PDF printer and the JupyterLab test. Requests to anything but local files (and data or
blob URLs) are aborted and recorded, so a test can assert that none was made.
"""

from __future__ import annotations

import shutil
from urllib.parse import urlparse

#: Headless flags: no sandbox (containers), no GPU, no background traffic to Google.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCAL = ("file", "data", "blob")


def chromium() -> str | None:
    """Path of Debian's Chromium, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch(playwright, executable: str | None = None):
    """A headless Chromium browser (Debian's, not a Playwright download)."""
    return playwright.chromium.launch(executable_path=executable or chromium(), args=ARGS)


def block_outside(context, allow: tuple[str, ...] = ()) -> list[str]:
    """Abort every request of `context` that leaves the machine; return the list they go to.

    `allow` names further URL prefixes to let through (e.g. a local server's
    ``http://127.0.0.1:PORT/``).
    """
    blocked: list[str] = []

    def route(r):
        url = r.request.url
        if urlparse(url).scheme in LOCAL or url.startswith(allow):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    return blocked
