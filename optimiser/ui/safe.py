"""Text typed by people (scenario names, descriptions, names at sign-in, file names) shown as
text: never as markdown, links, images or HTML.

Streamlit renders markdown in st.markdown, st.caption, st.success/info/warning/error and in
widget labels, so a scenario called `[minutes](https://x.example) ![](https://x.example/t.png)`
would otherwise show a link and fetch a remote image on every screen that names it. `md(text)`
escapes every ASCII punctuation character with a backslash, which CommonMark defines as that
character shown literally (so a link, an image, emphasis, a heading, a colour directive
`:red[...]` or inline maths `$...$` cannot form), and folds line breaks to spaces. Raw HTML is
already shown as text by Streamlit unless a call opts in (this app never does for user text).

Names in an uploaded workbook reach Plotly charts too, where `<a href=...>` is live: those are
refused when the workbook is checked (upload.py, `markup_problems`).
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
MARKUP = re.compile(r"[<>\[\]`]|://")  # what a name in data may not hold (links, HTML, code)


def md(text: object) -> str:
    """`text` escaped for any Streamlit call that renders markdown (labels included)."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))


def markup(text: object) -> str:
    """The first piece of markup in `text` ("" when none): a bracket, angle bracket, backtick or
    web address."""
    found = MARKUP.search(str(text))
    return found.group(0) if found else ""
