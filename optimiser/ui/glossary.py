"""Plain-English meanings of the terms a board member may not know: the app's tooltips."""

from __future__ import annotations

from ..schemas import priority_short

GLOSSARY: dict[str, str] = {
    "PCN": "Primary Care Network: a group of GP practices, typically serving 30,000 to "
           "50,000 people, that share staff and services. The tool allocates money and staff "
           "to PCNs.",
    "ICB": "Integrated Care Board: the NHS body that plans and pays for health services "
           "for an area (here Derby and Derbyshire, Lincolnshire, and Nottingham and "
           "Nottinghamshire).",
    "IMD quintile": "Index of Multiple Deprivation 2019, in national fifths of the "
                    "population: 1 is the most deprived fifth of England, 5 the least "
                    "deprived.",
    "WTE": "Whole-time equivalent: one full-time post (37.5 hours a week). Two people "
           "working half-time are 1 WTE.",
    "shadow price": "What one more unit of a limit (£1m of budget, one WTE of staff) would "
                    "add to the weighted outcome, everything else unchanged. Zero when the "
                    "limit is not holding the plan back.",
    "QALY": "Quality-adjusted life year: one year lived in full health. NICE values a QALY "
            "at £20,000 to £30,000.",
    "weighted outcome": "The £ value of everything the plan achieves over the five years: "
                        "QALYs and avoided hospital activity at the values set in the "
                        "sidebar, times the priority and deprivation weights, discounted at "
                        "3.5% a year to 2026/27 prices.",
    "proportionate universalism": "Something for everyone, more for those with more need: a "
                                  "universal core offer in every PCN plus enhanced support "
                                  "where need is higher (Marmot, Fair Society, Healthy Lives, "
                                  "2010).",
    "universal floor": "The universal core offer: every PCN reaches at least this share of "
                       "the people eligible for each core intervention, every year.",
    "enhanced uplift": "Higher-need PCNs spend at least this much more per eligible person "
                       "on a priority than the other PCNs of their ICB.",
    "need gradient": "The equity dial: each PCN receives at least this fraction of its "
                     "need-weighted fair share of spend (population x need index). 0 leaves "
                     "money where it does most good; 1 follows need fully.",
    "equity weights": "Extra weight on outcomes for people in more deprived areas, by IMD "
                      "quintile: 1.5 means a QALY in that quintile counts one and a half "
                      "times.",
    "Q1:Q5 ratio": "Spend per head in the most deprived fifth (IMD quintile 1) divided by "
                   "spend per head in the least deprived fifth (quintile 5). Above 1 means "
                   "more per head where deprivation is greatest.",
    "higher-need PCN": "A PCN flagged (from the DLN strategy's 25% rule) as having higher "
                       "need for a priority; it receives enhanced support.",
    "ring-fence": "A share of each year's budget kept for (minimum) or capped for "
                  "(maximum) one priority.",
    "lock": "Spend on one priority in one PCN held at a set level because it is already "
            "committed; the optimiser plans everything else around it.",
    "binding constraint": "A rule or limit the plan is pressed up against: relaxing it would "
                          "change the answer.",
    "frontier": "The best weighted outcome reachable at each setting of the equity dial: "
                "how much outcome each step towards need costs.",
    "eligible person": "Someone in the cohort an intervention is for (for example people "
                       "with moderate frailty), up to the most the service could reach.",
}


def short_priority(priority_id: str) -> str:
    """A priority's name short enough for a chart axis (CYP: children and young people)."""
    return priority_short(priority_id)


def term(name: str) -> str:
    """The tooltip for a term."""
    return GLOSSARY[name]
