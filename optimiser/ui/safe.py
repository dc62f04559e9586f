"""Text typed by people (scenario names, descriptions, names at sign-in, file names) shown as
text: never as markdown, links, images or HTML.

Streamlit renders markdown in st.markdown, st.caption, st.success/info/warning/error and in
widget labels, so a scenario called `[minutes](https://x.example) ![](https://x.example/t.png)`
would otherwise show a link and fetch a remote image on every screen that names it. `md(text)`
escapes every ASCII punctuation character with a backslash, which CommonMark defines as that
character shown literally (so a link, an image, emphasis, a heading, a colour directive
`:red[...]` or inline maths `$...$` cannot form), and folds line breaks to spaces. Escapes do
not stop GitHub-style autolinks (a bare https://..., www.... or name@host becomes a live link
even with its punctuation escaped, as the browser test showed), so an invisible WORD JOINER
goes into each `://`, `www.` and `@`. Raw HTML is already shown as text by Streamlit unless a
call opts in (this app never does for user text).

Names in an uploaded workbook reach Plotly charts too, where `<a href=...>` is live: those are
refused when the workbook is checked (upload.py, `markup_problems`).
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
JOINER = "\u2060"  # WORD JOINER: invisible, and no part of a web or e-mail address
_AUTOLINK = re.compile(r":\\/\\/|[wW]{3}\\\.|\\@", re.ASCII)  # escaped ://, www. and @
MARKUP = re.compile(r"[<>\[\]`]|://|\bwww\.", re.IGNORECASE)  # what a name in data may not hold


def md(text: object) -> str:
    """`text` escaped for any Streamlit call that renders markdown (labels included)."""
    text = _PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))
    return _AUTOLINK.sub(lambda m: JOINER + m.group(0) if m.group(0) == "\\@"
                         else m.group(0)[0] + JOINER + m.group(0)[1:], text)


def markup(text: object) -> str:
    """The first piece of markup in `text` ("" when none): a bracket, angle bracket, backtick or
    web address."""
    found = MARKUP.search(str(text))
    return found.group(0) if found else ""
