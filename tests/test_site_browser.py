"""The built website, opened page by page in a real browser (headless Chromium) with no network.

One browser visits every page of the site from a local HTTP server on 127.0.0.1; every request
to any other host is aborted and recorded. The tests then check what a reader would see: no
JavaScript error, no failed request, every equation typeset, every image loaded, every internal
link and anchor resolving, search finding chapters, and launch buttons pointing at the configured
repository. A screenshot of each chapter page goes to ``_build/screenshots/`` for a person to
look at, with ``report.json`` (load time of every page).
"""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
import yaml
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "_build" / "screenshots"
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # Debian's chromium, never a download

pytestmark = pytest.mark.slow

# Runs in the page once it has loaded: waits for MathJax, then reports what the reader sees.
INSPECT = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml, .highlight')
      .forEach(e => e.remove());
  const math = [...document.querySelectorAll('.math')];
  return {
    text: body.textContent,
    math: math.length,
    typeset: math.filter(e => e.querySelector('mjx-container')).length,
    rendered: document.querySelectorAll('mjx-container').length,
    mathErrors: [...document.querySelectorAll('mjx-merror, mjx-container [data-mjx-error]')]
        .map(e => e.textContent).concat(
        [...document.querySelectorAll('mjx-container')].map(e => e.textContent).filter(t => t.includes('\\\\'))),
    images: [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0,
                                             width: i.naturalWidth, height: i.naturalHeight})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id)
        .concat([...document.querySelectorAll('a[name]')].map(e => e.name)),
  };
}"""


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def html_pages(site: Path) -> list[str]:
    """Every HTML page of the site, as paths relative to its root (static assets and sources left out)."""
    skip = ("_static/", "_sources/", "_images/")
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not p.relative_to(site).as_posix().startswith(skip))


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.is_file(), "headless Chromium is missing: `make browser` installs Debian's chromium"

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def crawl(site, server, browser):
    """Visit every page once; return what each showed, the requests that left or failed, and timings."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    external, failed = [], []

    def route(route_):
        url = route_.request.url
        if url.startswith(server) or url.startswith("data:") or url.startswith("blob:"):
            route_.continue_()
        else:
            external.append(url)
            route_.abort()

    context.route("**/*", route)
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    results = {}
    cpu_before = browser_cpu_seconds()
    started = time.perf_counter()
    for name in html_pages(site):
        page = context.new_page()
        errors = []
        page.on("console", lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc, errors=errors: errors.append(f"uncaught: {exc}"))
        page.on("requestfailed", lambda req, name=name: failed.append((name, req.url, req.failure)))
        page.on("response", lambda res, name=name: failed.append((name, res.url, res.status))
                if res.status >= 400 else None)
        t0 = time.perf_counter()
        page.goto(server + name, wait_until="load")
        seen = inspect(page)
        seen["url"] = page.url
        seen["load_s"] = time.perf_counter() - t0
        seen["errors"] = errors
        if name.startswith("book/ch"):
            shot = SCREENSHOTS / (Path(name).stem + ".png")
            page.screenshot(path=str(shot))
            seen["screenshot"] = str(shot)
        results[name] = seen
        page.close()
    total = time.perf_counter() - started
    cpu = browser_cpu_seconds()
    context.close()
    report = {"pages": len(results), "total_s": round(total, 2), "browser_cpu_s": round(cpu - cpu_before, 2),
              "load_s": {name: round(r["load_s"], 3) for name, r in results.items()},
              "external_requests": external, "failed_requests": [list(map(str, f)) for f in failed]}
    (SCREENSHOTS / "report.json").write_text(json.dumps(report, indent=1))
    return {"pages": results, "external": external, "failed": failed, "total_s": total, "cpu_s": cpu - cpu_before}


def inspect(page) -> dict:
    """What ``page`` shows once loaded, following a redirect (index.html sends readers to the landing page)."""
    for _ in range(50):
        try:
            page.wait_for_load_state("load")
            if not page.locator('meta[http-equiv="refresh"]').count():
                return page.evaluate(INSPECT)
        except PlaywrightError:  # navigating away while we looked
            pass
        page.wait_for_timeout(100)
    raise AssertionError(f"{page.url} never settled")


def browser_cpu_seconds() -> float:
    """CPU seconds used so far by the browser and its driver (every process this one started, and theirs)."""
    import psutil

    total = 0.0
    for process in psutil.Process().children(recursive=True):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def local_path(site: Path, server: str, url: str) -> tuple[Path, str]:
    """(file of the site that ``url`` names, its fragment)."""
    url, fragment = urldefrag(url)
    path = site / unquote(urlsplit(url).path).lstrip("/")
    if path.is_dir():
        path = path / "index.html"
    return path, fragment


def test_every_page_is_visited(site, crawl):
    names = crawl["pages"].keys()
    for chapter in sorted((site / "book").glob("ch*.html")):
        assert f"book/{chapter.name}" in names
    assert {"index.html", "book/intro.html", "search.html"} <= set(names)
    assert len(names) >= 20
    assert crawl["pages"]["index.html"]["url"].endswith("/book/intro.html")  # the home page opens the course
    # Load times are measured, not asserted: they go to _build/screenshots/report.json.


def test_no_console_error_on_any_page(crawl):
    errors = {name: r["errors"] for name, r in crawl["pages"].items() if r["errors"]}
    assert not errors, errors


def test_no_request_leaves_the_site_or_fails(crawl):
    assert not crawl["external"], f"requests to other hosts: {sorted(set(crawl['external']))}"
    assert not crawl["failed"], f"failed requests: {crawl['failed']}"


def test_no_external_script_stylesheet_or_font_in_the_html(site):
    """The built pages themselves name no other host for what they load (the browser aborted any such request)."""
    pattern = re.compile(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"')
    for name in html_pages(site):
        text = (site / name).read_text()
        loads = pattern.findall(text)
        assert not loads, f"{name} loads {loads}"


def test_every_equation_is_typeset(site, crawl):
    raw = re.compile(r"\\\(|\\\[|\$\$")
    for name, r in crawl["pages"].items():
        match = raw.search(r["text"])
        assert match is None, f"{name} shows raw TeX: ...{r['text'][max(0, match.start() - 80):match.end() + 80]}..."
        assert r["typeset"] == r["math"], f"{name}: {r['math'] - r['typeset']} of {r['math']} equations not typeset"
        assert not r["mathErrors"], f"{name}: MathJax errors {r['mathErrors'][:5]}"
    for chapter in sorted((site / "book").glob("ch*.html")):
        r = crawl["pages"][f"book/{chapter.name}"]
        assert r["rendered"] >= 5, f"{chapter.name}: only {r['rendered']} typeset equations"


def test_every_image_loads(crawl):
    shown = 0
    for name, r in crawl["pages"].items():
        broken = [i["src"] for i in r["images"] if not i["ok"]]
        assert not broken, f"{name}: images not shown {broken}"
        shown += len(r["images"])
    assert shown >= 8  # at least the figures of the chapters
    assert crawl["pages"]["book/intro.html"]["images"], "the landing page shows no course map"


def test_every_internal_link_and_anchor_resolves(site, server, crawl):
    checked = 0
    for name, r in crawl["pages"].items():
        for url in r["links"]:
            if not url.startswith(server):
                continue
            path, fragment = local_path(site, server, url)
            assert path.is_file(), f"{name} links to a missing {url}"
            target = path.relative_to(site).as_posix()
            if fragment and target in crawl["pages"]:
                assert unquote(fragment) in crawl["pages"][target]["ids"], f"{name}: no anchor for {url}"
            checked += 1
    assert checked > 100


def unique_words(site: Path) -> dict[str, str]:
    """For each chapter page, a word (8+ letters) that no other page of the site uses, the chapter's most frequent one."""
    texts = {}
    for name in html_pages(site):
        if name in ("genindex.html", "search.html") or name.startswith("_"):
            continue
        text = re.sub(r"<[^>]+>", " ", (site / name).read_text())
        texts[name] = re.findall(r"\b[a-z]{8,}\b", text.lower())
    chosen = {}
    for name, words in texts.items():
        if not name.startswith("book/ch"):
            continue
        elsewhere = set().union(*(set(w) for other, w in texts.items() if other != name))
        own = [w for w in words if w not in elsewhere]
        if own:
            chosen[name] = max(sorted(set(own)), key=own.count)
    return chosen


def test_search_finds_a_chapter_by_a_word_only_it_uses(site, server, browser):
    words = unique_words(site)
    assert len(words) >= 6, words
    page = browser.new_page()
    try:
        for chapter, word in words.items():
            page.goto(f"{server}search.html?q={word}", wait_until="load")
            page.wait_for_selector("#search-results ul.search li a, #search-results p", timeout=15000)
            page.wait_for_function("() => !document.querySelector('#search-progress')"
                                   " || document.querySelector('#search-progress').textContent === ''"
                                   " || document.querySelector('#search-results ul.search li')", timeout=15000)
            hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(a => a.href)")
            pages = {urlsplit(h).path.lstrip("/") for h in hits}
            assert chapter in pages, f"searching {word!r} finds {sorted(pages)}, not {chapter}"
    finally:
        page.close()


def test_launch_and_download_buttons_name_the_configured_repository_and_notebook(site, crawl):
    cfg = config()
    url, branch = cfg["repository"]["url"], cfg["repository"]["branch"]
    owner_name = url.removeprefix("https://github.com/")
    checked = 0
    for name, r in crawl["pages"].items():
        if not name.startswith(("book/ch", "notebooks/")):
            continue
        source = name.removesuffix(".html")
        links = set(r["links"])
        colab = f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/{source}.ipynb"
        binder = f"https://mybinder.org/v2/gh/{owner_name}/{branch}?urlpath=lab/tree/{source}.ipynb"
        assert colab in links, f"{name}: no Colab button for {source}.ipynb in {sorted(l for l in links if 'colab' in l)}"
        assert binder in links, f"{name}: no Binder button for {source}.ipynb"
        assert url in links, f"{name}: the repository button does not point at {url}"
        foreign = [l for l in links if "github.com/" in l and owner_name not in l and "colab" not in l]
        assert not foreign, f"{name}: links to another repository {foreign}"
        github_links = [l for l in links if re.match(r"https://github\.com/[^/]+/[^/?#]+", l)]
        assert all(l.startswith(url) for l in github_links), f"{name}: {github_links}"
        downloads = [l for l in r["links"] if "/_sources/" in l]
        suffix = ".ipynb" if name.startswith("notebooks/") else ".md"
        assert any(l.endswith(f"_sources/{source}{suffix}") for l in downloads), f"{name}: no download of {source}{suffix}"
        if name.startswith("notebooks/"):
            student = json.loads((site / "_sources" / f"{source}.ipynb").read_text())
            text = json.dumps(student)
            assert "NotImplementedError" in text and url in text  # the student version, installing from the repository
        checked += 1
    assert checked == 2 * len(list(ROOT.glob("solutions/ch*/")))   # a page and a notebook per chapter


def test_a_screenshot_of_every_chapter_page(site, crawl):
    chapters = sorted((site / "book").glob("ch*.html"))
    for chapter in chapters:
        shot = SCREENSHOTS / f"{chapter.stem}.png"
        assert shot.is_file() and shot.stat().st_size > 20_000, f"no screenshot of {chapter.name}"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
