"""Screenshot pages of a running Kefu as a given user, to look at what people see.

    .venv/bin/python scripts/screenshots.py --user supervisor /monitoring/ /agents/
    .venv/bin/python scripts/screenshots.py --lang zh-hans --user agent1 /workbench/

PNGs land in var/screenshots/. Uses Debian's Chromium (make browsers).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.live_server import CHROMIUM, CHROMIUM_ARGS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default=None)
    parser.add_argument("--password", default="kefu-demo")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--width", type=int, default=1366)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()
    out = Path("var/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(
            viewport={"width": args.width, "height": args.height}, locale=args.lang
        )
        page.set_extra_http_headers({"Accept-Language": args.lang})
        if args.user:
            page.goto(args.base + "/accounts/login/")
            page.fill("input[name=username]", args.user)
            page.fill("input[name=password]", args.password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
        for path in args.paths:
            page.goto(args.base + path)
            page.wait_for_load_state("networkidle")
            name = re.sub(r"[^a-z0-9]+", "_", f"{args.user or 'anon'}_{args.lang}{path}").strip("_")
            target = out / f"{name}.png"
            page.screenshot(path=str(target), full_page=True)
            print(target)
        browser.close()


if __name__ == "__main__":
    main()
