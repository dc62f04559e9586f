"""What the board sees first: the page's style, status, headline tiles, the PCN table and
shadow prices.

Each function draws one view from an `Allocation` (and the year in view) and returns nothing;
the charts are in charts.py, the figures and their words in optimiser/board.py (shared with
the board pack). The page's style covers three uses: the screen, presenter mode for a 1280x720
projector (present.py) and print (a tab on one landscape page, without the sidebar).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import board, formats
from ..explain import FAMILY_WORDS
from ..results import Allocation
from . import background, history, present, state
from .controls import View
from .glossary import GLOSSARY, term
from .safe import md
from .tables import pcn_frame

CSS = """
<style>
[class*="st-key-tile_"] [data-testid="stMetricValue"] {
  font-size: 2.6rem; font-weight: 700; color: #003087; }
[class*="st-key-tile_"] [data-testid="stMetricLabel"] p { font-size: 1.05rem; }
[class*="st-key-tile_"] [data-testid="stMetricDelta"] { font-size: 1.05rem; }
/* a tile's label wraps onto a second line rather than being cut short */
[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] {
  white-space: normal; overflow: visible; text-overflow: clip; }
[data-testid="stMetricLabel"] { height: auto; align-items: flex-start; }
[class*="st-key-tile_"] [data-testid="stMetricLabel"] { min-height: 3.4rem; }
.block-container { padding-top: 2.5rem; }
/* a plan that is not the current settings' plan: greyed, so it cannot be taken for it */
.st-key-stale_plan [data-testid="stMetric"] { opacity: 0.45; filter: grayscale(1);
  background: repeating-linear-gradient(135deg, #f0f0f0 0 8px, #fafafa 8px 16px); }
.st-key-stale_banner [data-testid="stAlert"] { border-left: 6px solid #8a6d00; }
h1 { color: #005EB8; }
.stTabs [data-baseweb="tab"] p { font-size: 1.1rem; }
@media print {
  @page { size: A4 landscape; margin: 8mm; }
  body { zoom: var(--print-zoom, 0.6); }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
%PRINT%}
%FITTING%
</style>
"""
# The page as printed: no sidebar, no page furniture, the open tab only, at a fixed width (so
# its height, and the zoom that fits it to one page, do not depend on the screen). The script
# below measures it under the same rules (on html.fitting-print) just before printing.
PRINT_WIDTH = 1200  # px: the page's width as laid out for print, before it is scaled
PRINT_RULES = (
    (('[data-testid="stSidebar"]', '[data-testid="stHeader"]', '[data-testid="stToolbar"]',
      '[data-testid="stSidebarCollapsedControl"]', '[data-testid="stExpandSidebarButton"]',
      '[data-testid="stDecoration"]', '[data-testid="stStatusWidget"]', ".st-key-present",
      ".st-key-glossary", '.stTabs [role="tab"]:not([aria-selected="true"])',
      '[data-testid="stElementToolbar"]', ".modebar-container",
      'details:not([open]) [data-testid="stExpanderDetails"]'),  # Chrome prints it otherwise
     "display: none !important;"),
    (("", "body", ".stApp", '[data-testid="stAppViewContainer"]', '[data-testid="stMain"]',
      '[data-testid="stMainBlockContainer"]'),
     "overflow: visible !important; height: auto !important; position: static !important;"),
    ((".block-container",),
     f"padding: 0 !important; max-width: none !important; width: {PRINT_WIDTH}px !important;"),
    (('[data-testid="stHorizontalBlock"]',),  # columns side by side, as on screen
     "display: flex !important; flex-wrap: nowrap !important; flex-direction: row !important;"),
    (('[data-testid="stColumn"]',), "flex: 1 1 0% !important; min-width: 0 !important;"),
)


def _print_rules(root: str) -> str:
    """The print rules under `root` ("html" in print; "html.fitting-print" when measuring)."""
    return "\n".join(", ".join(f"{root} {s}".strip() for s in selectors) + f" {{ {rules} }}"
                      for selectors, rules in PRINT_RULES)


CSS = CSS.replace("%PRINT%", _print_rules("html")).replace(
    "%FITTING%", _print_rules("html.fitting-print"))
PRESENTER_CSS = """
<style>
html { font-size: 18px; }
.block-container { padding-top: 2.6rem; padding-bottom: 1rem; padding-left: 2rem;
  padding-right: 2rem; }
/* the header bar (only the arrow that opens the settings) would cover the heading's top */
[data-testid="stHeader"] { background: transparent; }
[class*="st-key-tile_"] [data-testid="stMetricValue"] { font-size: 1.9rem; }
[class*="st-key-tile_"] [data-testid="stMetricLabel"] p { font-size: 0.85rem; }
[class*="st-key-tile_"] [data-testid="stMetricLabel"] { min-height: 0; }
[class*="st-key-tile_"] [data-testid="stMetric"] { padding: 0.45rem 0.6rem; }
[class*="st-key-tile_"] [data-testid="stMetric"] > div { padding-left: 0; padding-right: 0; }
.st-key-heading p { font-size: 1.05rem; margin-bottom: 0; }
.st-key-heading [data-testid="stCaptionContainer"] p { font-size: 0.8rem; }
.stTabs [data-baseweb="tab"] p { font-size: 1rem; }
.stMain [data-testid="stVerticalBlock"] { gap: 0.55rem; }
.st-key-ambitions [data-testid="stExpander"] summary { padding: 0.3rem 1rem; }
</style>
"""
# Our own script, no user input: the (?) help icons leave the Tab order (a keyboard user reached
# the equity dial after 8 of them; their meanings are all in the "What the terms mean" panel),
# and a print scales the open tab to fit one landscape page.
SCRIPT = """
<script>
(function () {
  if (window.__allocationPage) return;
  window.__allocationPage = true;
  const quiet = () => document.querySelectorAll(
      '[data-testid="stTooltipHoverTarget"] button:not([tabindex="-1"])')
    .forEach(b => b.setAttribute('tabindex', '-1'));
  quiet();
  new MutationObserver(quiet).observe(document.body, {subtree: true, childList: true});
  const fit = () => {  // measured under the print rules (html.fitting-print), at full size
    const root = document.documentElement;
    const main = document.querySelector('.block-container');
    if (!main) return;
    root.classList.add('fitting-print');
    const height = main.scrollHeight;
    root.classList.remove('fitting-print');
    const page = {width: 1060, height: 700};  // A4 landscape less margins, CSS pixels
    const scale = Math.min(1, page.width / %WIDTH%, page.height / Math.max(height, 1));
    root.style.setProperty('--print-zoom', scale.toFixed(3));
  };
  window.addEventListener('beforeprint', fit);
})();
</script>
"""


SCRIPT = SCRIPT.replace("%WIDTH%", str(PRINT_WIDTH))


def page_style() -> None:
    presenting = present.presenting()
    st.set_page_config(page_title="Proportionate universalism: allocation", page_icon="⚖️",
                       layout="wide",
                       initial_sidebar_state="collapsed" if presenting else "expanded")
    st.html(CSS + (PRESENTER_CSS if presenting else ""))
    st.html(SCRIPT, unsafe_allow_javascript=True)


def title(app: state.App, base) -> None:
    if present.presenting():
        return  # the heading (scenario and settings) is drawn with the plan: `heading`
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    left.title("Where the money goes, and what equity costs")
    with right:
        present.toggle()
    pcns = base.pcns
    st.caption(f"{base.policy.name}. {len(pcns)} PCNs in {pcns['icb_code'].nunique()} ICB(s), "
               f"{base.years[0]} to {base.years[-1]}, on {app.data_label}. All money is £ at "
               "2024/25 prices.")
    with st.expander("What the terms mean", key="glossary"):
        st.markdown("\n".join(f"- **{name}**: {meaning}" for name, meaning in GLOSSARY.items()))


def heading(app: state.App, allocation: Allocation | None, view: View) -> None:
    """Presenter mode's first lines: the scenario and the settings it changed, the period the
    tiles cover, and the toggle."""
    if not present.presenting():
        return
    left, right = st.columns([4, 1], vertical_alignment="center")
    with left, st.container(key="heading"):
        st.markdown(f"**{md(present.heading(app, allocation))}**")
        if allocation is not None:
            st.caption(board.period(allocation.inputs.years, view.year))
    with right:
        present.toggle()


def flashes() -> None:
    for kind, text in state.take_flashes():
        getattr(st, kind)(text)


# ---- status: errors, infeasible settings -----------------------------------------------------


def status(result: state.Result, base) -> Allocation | None:
    """Say what stops a plan, offer the fix; return the allocation to show (maybe the last)."""
    if result.pending is not None:  # solving in the background: progress, Cancel, last plan
        background.progress("solve")
        if result.previous is not None:
            st.caption("Showing the last plan, for the settings before this change, until the "
                       "new one is ready. Every control can still be used.")
        return result.previous
    if result.error is not None:
        problems = "\n".join(f"- {p}" for p in result.error.problems)
        st.error(f"**These settings cannot be used:**\n\n{problems}")
        if result.previous is not None:
            st.caption("Showing the last plan that worked.")
        return result.previous
    allocation = result.allocation
    relaxed(allocation)
    if allocation.status == "optimal":
        if not allocation.rules_met:  # the rules bent in the model's order: say where
            with st.container(key="shortfalls"):
                lines = "\n".join(f"- {line}" for line in allocation.shortfall_words)
                st.warning("**The rules cannot all be met: this is the best plan when they "
                           "bend in the model's order.** It falls short here (amounts rounded "
                           f"up):\n\n{lines}")
                st.button("Relax by the smallest amount that meets every rule", key="relax",
                          on_click=state.relax, args=(None,),
                          help="Finds the least change to the budget, the workforce or the "
                               "rules' levels that gives a plan meeting every rule, says it "
                               "number by number, and applies it. Undo puts it back.")
        if allocation.commissioning is not None:  # the commissionable plan: its price, its gap
            st.caption(" ".join(w for w in allocation.commissioning["words"] if w.startswith(
                ("Price of commissionability", "The plan is proven", "Contracts running"))))
        return allocation
    explanation = allocation.explanation
    with st.container(key="infeasible"):
        if explanation is None:
            st.error(state.no_plan_words(result))
            if result.explain_later:
                state.explain_later(result)
        else:
            lines = "\n".join(f"- {line}" for line in explanation.lines)
            st.error(f"**{explanation.summary}**\n\n{lines}")
            if explanation.changes and explanation.relaxed_inputs is not None:
                words = ", ".join(FAMILY_WORDS.get(r, r) for r in explanation.relaxed_rules)
                st.button(f"Relax {words} by the smallest amount that works", key="relax",
                          type="primary", on_click=state.relax, args=(explanation,))
    if result.previous is not None:
        st.caption("Showing the last plan that worked.")
    return result.previous


def relaxed(allocation) -> None:
    """What the last relaxation changed, number by number, with one click to undo it (shown
    while its plan is on screen)."""
    done = st.session_state.get("relaxed")
    if not done or allocation is None or done["digest"] != allocation.inputs.digest:
        return
    with st.container(key="relaxed"):
        lines = "; ".join(done["lines"]) or "no setting needed to change"
        head = ("Relaxed by the smallest amount that works" if done["met"] else
                "Relaxed, but the settings still cannot all be met")
        st.success(f"**{head}:** {md(lines)}.")
        st.button("Undo the relaxation", key="undo_relax", on_click=history.undo,
                  help="Back to the settings before the relaxation (the Undo button in the "
                       "sidebar does the same).")


def not_current(app: state.App, result: state.Result, allocation: Allocation) -> bool:
    """Is the plan on screen not the current settings' plan (kept while a new one is solved,
    or because the new settings have none)? Then say so, and which settings it belongs to."""
    if result.optimal and allocation is result.allocation:
        return False
    lines = present.changed(app, allocation)
    settings = "; ".join(lines) if lines else "the model file's own settings"
    if result.pending is not None:
        why = "A plan for the current settings is being solved."
    elif result.error is not None:
        why = "The current settings cannot be used (see above)."
    else:
        why = "The current settings have no plan (see above)."
    with st.container(key="stale_banner"):
        st.warning(f"**Not the plan for the current settings.** {why} The greyed figures "
                   f"below are the last plan, for: {md(settings)}.")
    return True


def solve_note(result: state.Result) -> None:
    """The last line of the page: which solve this is (a browser test waits for it)."""
    with st.container(key="solve_info"):
        if result.pending is not None:
            st.caption(f"Solving in the background: solve {result.solve_number + 1} of this "
                       "session.")
            return
        if result.allocation is None:
            st.caption(f"Solve {result.solve_number}: not run (settings invalid).")
            return
        st.caption(f"Solve {result.solve_number}: {result.allocation.status}, "
                   f"{result.how} in {result.seconds:.2f} s.")


# ---- headline tiles ----------------------------------------------------------------------------


def tile_values(allocation: Allocation, year: str | None) -> dict[str, float]:
    """The headline figures for the year in view (None: all years), kept for reruns."""
    cache = st.session_state.setdefault("tile_cache", {})
    key = (id(allocation), allocation.inputs.digest, year)
    if key not in cache:
        if len(cache) > 16:
            cache.clear()
        cache[key] = board.figures(allocation, year)
    return cache[key]


TILE_HELP = {
    "objective": term("weighted outcome"),
    "spend": "Money allocated to PCNs.",
    "ratio": term("Q1:Q5 ratio"),
    "qaly": term("QALY"),
    "nel": "Emergency hospital admissions the plan avoids.",
    "wte": term("WTE") + " Staff time the plan uses, all staff groups.",
}


def headline(result: state.Result, allocation: Allocation, view: View,
             stale: bool = False) -> None:
    """Six tiles: two rows of three, or one row of six short ones when presenting; greyed
    (in the keyed container `stale_plan`) when the plan is not the current settings'."""
    with st.container(key="stale_plan" if stale else "current_plan"):
        _headline(result, allocation, view, stale)


def _headline(result: state.Result, allocation: Allocation, view: View, stale: bool) -> None:
    years = allocation.inputs.years
    now = tile_values(allocation, view.year)
    before = None
    if not stale and result.previous is not None and result.previous is not allocation:
        before = tile_values(result.previous, view.year)
    tiles = board.tiles(now, years, view.year)
    presenting = present.presenting()
    rows = [tiles] if presenting else [tiles[:3], tiles[3:]]
    for row in rows:
        for column, tile in zip(st.columns(len(row)), row, strict=True):
            delta, falling = None, False
            if before is not None and np.isfinite(tile.value) and np.isfinite(before[tile.name]):
                change = tile.value - before[tile.name]
                if abs(change) > 1e-9 * max(1.0, abs(before[tile.name])):
                    delta, falling = board.signed(tile, change), change < 0
            # Streamlit reads the sign from the text, and a true minus sign (−) is not one to
            # it: a fall showed a green arrow pointing up. The arrow and colour are set here.
            colour = "off" if tile.name == "ratio" else "inverse" if falling else "normal"
            with column, st.container(key=f"tile_{tile.name}"):
                st.metric(tile.short if presenting else tile.label, tile.text, delta=delta,
                          delta_color=colour, delta_arrow="down" if falling else "up",
                          help=None if presenting else  # no hovering on a projector
                          TILE_HELP[tile.name] + " The small figure is the change from the "
                                                 "last solve.", border=True)
    if np.isfinite(now["ratio"]) and now["ratio"] < 1:
        st.caption(board.below_one_sentence(allocation.inputs, now["ratio"]))
    ambitions(allocation)


def ambitions(allocation: Allocation) -> None:
    """One line per target and aim of the model: how far the plan goes (ambitions.progress)."""
    progress = allocation.progress
    if progress.empty:
        return
    lines = []
    for r in progress.itertuples(index=False):
        source = r.source.split(":")[0]
        if not np.isfinite(r.share_of_way):
            way = "not measured"
        else:
            way = f"{r.share_of_way:.0%} of the way"
            if np.isfinite(r.ceiling) and not r.reachable and r.needed > 0:
                way += f" (the library could go {r.ceiling / r.needed:.0%} of it at most)"
        lines.append(f"{r.ambition} by {r.year}" + (f" ({source})" if source else "")
                     + f": {way}")
    with st.container(key="ambitions"):
        if present.presenting():  # folded on a projector, so the chart stays above the fold
            with st.expander(f"Against the strategy's ambitions ({len(lines)})"):
                st.caption("; ".join(lines) + ".")
        else:
            st.caption("**Against the strategy's ambitions:** " + "; ".join(lines) + ".")


# ---- tabs ---------------------------------------------------------------------------------


def pcn_table(allocation: Allocation, view: View) -> None:
    frame = pcn_frame(allocation, view.year).sort_values("spend_per_head_gbp", ascending=False)
    frame["spend_gbp"] = frame["spend_gbp"].round(0)
    frame["icb"] = frame["icb_name"].map(formats.short_icb)
    columns = ["pcn_name", "icb", "imd_quintile", "population", "spend_gbp",
               "spend_per_head_gbp", "spend_per_eligible_gbp", "higher_need_count",
               "higher_need_priorities", "qaly", "nel_avoided", "place_name"]
    which = view.year or "a typical year (the average of the five)"
    st.caption(f"Allocation by PCN in {which}, highest spend per head first. Click a column "
               "heading to sort by it.")
    number = st.column_config.NumberColumn
    st.dataframe(
        frame[columns], hide_index=True, height=600 if not present.presenting() else 420,
        key="pcn_table",
        column_config={
            "pcn_name": st.column_config.TextColumn("PCN", help=term("PCN"), pinned=True,
                                                    width=250),
            "icb": st.column_config.TextColumn("ICB", help=term("ICB"), width=200),
            "imd_quintile": number("IMD quintile", help=term("IMD quintile")),
            "population": number("Population", format="%,d"),
            "spend_gbp": number("Spend a year" if view.year is None else "Spend", format="£%,d"),
            "spend_per_head_gbp": number("£ per head", format="£%,.2f"),
            "spend_per_eligible_gbp": number("£ per eligible person", format="£%,.2f",
                                             help=term("eligible person")),
            "higher_need_count": number("Higher-need flags", help=term("higher-need PCN")),
            "higher_need_priorities": st.column_config.TextColumn(
                "Higher need for", help="The priorities this PCN has higher need for (CYP: "
                                        "children and young people)."),
            "qaly": number("QALYs", format="%,.1f", help=term("QALY")),
            "nel_avoided": number("Admissions avoided", format="%,.0f",
                                  help="Emergency admissions avoided."),
            "place_name": st.column_config.TextColumn("Place"),
        })


def shadow_prices(allocation: Allocation) -> None:
    st.markdown(term("shadow price"))
    budget, workforce, families = board.shadow_prices(allocation)
    st.subheader("Money", anchor=False)
    if budget:
        st.markdown("\n".join(f"- {line}" for line in budget))
    else:
        st.info("The budget is not holding the plan back: more money would buy nothing more.")
    st.subheader("Staff", help=term("WTE"), anchor=False)
    if len(workforce):
        top = workforce.iloc[0]
        st.markdown(f"One more WTE of **{top['staff'].lower()}** in **{top['where']}** in "
                    f"{top['year']} buys **{formats.money(top['gbp_per_wte'])}** of weighted "
                    "outcome: the most valuable extra post. The binding workforce limits:")
        st.dataframe(workforce, hide_index=True, key="workforce_prices", column_config={
            "staff": "Staff group", "where": "Where", "year": "Year",
            "gbp_per_wte": st.column_config.NumberColumn(
                "One more WTE buys (weighted outcome)", format="£%,d")})
    else:
        st.info("No workforce limit is holding the plan back.")
    st.subheader("Binding rules", help=term("binding constraint"), anchor=False)
    st.caption("How many of each rule's places (a PCN, service or year each) the plan is "
               "pressed against: loosening one there would change the plan.")
    st.dataframe(families, hide_index=True, key="binding_table", column_config={
        "rule": "Rule",
        "binding": st.column_config.NumberColumn("Places binding", format="%,d"),
        "of": st.column_config.NumberColumn("Places in all", format="%,d")})


def cannot_start(err) -> None:
    problems = "\n".join(f"- {p}" for p in err.problems)
    st.error(f"**The model or its data cannot be used:**\n\n{problems}")
