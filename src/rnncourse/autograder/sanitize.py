"""Nothing a student hands in runs in the instructor's (or the student's) browser.

A submission's markdown and outputs can hold HTML and script: ``<script>``, ``<img onerror=...>``,
``javascript:`` links, SVG with handlers, JavaScript outputs. The instructor opens what the grader
writes: ``autograded/`` notebooks (in nbgrader's formgrader, which renders markdown unsanitized, or
in JupyterLab) and ``feedback/`` pages. Both are cleaned here with bleach (the sanitiser nbconvert
itself uses), with an allow-list of tags that markdown produces:

* ``clean_html(text)``: HTML with only those tags and harmless attributes; every other tag is
  escaped (so the instructor sees what was planted, as text), comments are dropped, links keep only
  ``http``, ``https`` and ``mailto`` URLs, and images only embedded PNG, JPEG or GIF data: a page
  requests nothing when it is opened.
* ``sanitize_notebook(nb, trusted)``: a notebook whose markdown and raw cells (except those whose
  source is one of ``trusted``, the course's own released cells) are cleaned (a markdown image that
  is not an attachment is shown as text), and whose outputs
  keep only inert data: text, PNG/JPEG/GIF images, JSON; HTML and markdown outputs are cleaned;
  JavaScript, SVG, widget views and every other kind are removed (a note in text says so). A
  grading worker runs it on every executed submission before its copy goes to ``autograded/``.
* ``clean_filter``: the same cleaning as a Jinja filter, for pages rendered with nbconvert's
  ``sanitize_html`` (feedback): markdown is rendered first, then cleaned.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import bleach
import nbformat

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div",
    "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p",
    "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul", "var"})
_ALLOWED = {"*": {"class", "title"}, "a": {"href"}, "img": {"src", "alt", "width", "height"},
            "td": {"align", "colspan", "rowspan"}, "th": {"align", "colspan", "rowspan"},
            "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"}, "ol": {"start"}}
# an image only from the page itself (an embedded PNG, JPEG or GIF): opening a page requests nothing
INLINE_IMAGE = re.compile(r"\s*data:image/(png|jpeg|gif);base64,", re.I)
PROTOCOLS = frozenset({"http", "https", "mailto", "data"})


def _attribute(tag: str, name: str, value: str) -> bool:
    if name not in _ALLOWED["*"] | _ALLOWED.get(tag, set()):
        return False
    if tag == "img" and name == "src":
        return bool(INLINE_IMAGE.match(value))
    if tag == "a" and name == "href":
        return not value.strip().lower().startswith("data:")
    return True


ATTRIBUTES = _attribute
# "<" before a space, digit or "=" opens no tag (a tag name starts with a letter, "/", "!" or "?")
PLAIN_LT = re.compile(r"&lt;(?=[\s\d=])")
# a markdown image that is not one of the cell's attachments would be fetched when the cell is shown
MARKDOWN_IMAGE = re.compile(r"!\[(?![^\]\n]*\]\(\s*attachment:)")
# output mimetypes shown as they are: none of them can carry markup the browser runs
INERT = frozenset({"text/plain", "image/png", "image/jpeg", "image/gif", "application/json"})
CLEANED = frozenset({"text/html", "text/markdown"})
ATTACHMENTS = frozenset({"image/png", "image/jpeg", "image/gif"})


_LOCAL = threading.local()


def clean_html(text) -> str:
    """``text`` with every tag outside the allow-list escaped, unsafe attributes and URLs removed."""
    text = text.decode() if isinstance(text, bytes) else str(text)
    cleaner = getattr(_LOCAL, "cleaner", None)
    if cleaner is None:   # one cleaner per thread (a bleach Cleaner is not thread-safe), built once
        cleaner = _LOCAL.cleaner = bleach.Cleaner(tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS,
                                                  strip=False, strip_comments=True)
    return cleaner.clean(text)


def clean_filter(text) -> str:
    """``clean_html`` as nbconvert's ``clean_html`` Jinja filter (``HTMLExporter(sanitize_html=True)``)."""
    return clean_html(text)


def _source(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def sanitize_outputs(outputs: list) -> list:
    """Outputs with only inert data: HTML and markdown cleaned, script-capable kinds removed."""
    for output in outputs:
        if output.get("output_type") not in ("display_data", "execute_result"):
            continue   # stream and error outputs are text, escaped wherever they are shown
        data = output.get("data", {})
        removed = []
        for key in list(data):
            if key in INERT:
                continue
            if key in CLEANED:
                data[key] = clean_html(_source(data[key]))
            else:
                removed.append(key)
                del data[key]
        if removed and "text/plain" not in data:
            data["text/plain"] = f"[output removed by the grader: {', '.join(sorted(removed))}]"
        output.get("metadata", {}).pop("filenames", None)
    return outputs


def sanitize_markdown(source: str) -> str:
    """A student's markdown, cleaned (``clean_html``) and with images other than attachments shown as text.

    Cleaning it twice changes nothing more: the feedback cleans what ``autograded/`` already holds.
    Characters that cannot open a tag are given back as typed (``>``, and ``<`` before a space, digit
    or ``=``), so that math such as ``$s > \\sqrt 2$`` or ``$a < b$`` still reads right."""
    cleaned = clean_html(source).replace("&gt;", ">")
    cleaned = PLAIN_LT.sub("<", cleaned)
    return MARKDOWN_IMAGE.sub(r"!\\[", cleaned)


def sanitize_notebook(nb, trusted: set[str] | frozenset = frozenset()):
    """Clean ``nb`` in place (and return it): see the module's docstring. ``trusted``: sources left as they are."""
    for cell in nb.cells:
        if cell.cell_type in ("markdown", "raw"):
            if _source(cell.source) not in trusted:
                cell.source = sanitize_markdown(_source(cell.source))
            if "attachments" in cell:
                cell.attachments = {name: {k: v for k, v in bundle.items() if k in ATTACHMENTS}
                                    for name, bundle in cell.attachments.items()}
        elif cell.cell_type == "code":
            sanitize_outputs(cell.get("outputs", []))
    nb.metadata.pop("widgets", None)   # saved widget state is rendered by JupyterLab
    return nb


def released_sources(release_dir: Path, notebook: str) -> set[str]:
    """Sources of the markdown and raw cells of the released notebook (the course's own text)."""
    path = Path(release_dir) / f"{notebook}.ipynb"
    if not path.is_file():
        return set()
    release = nbformat.read(path, as_version=4)
    return {c.source for c in release.cells if c.cell_type in ("markdown", "raw")}

