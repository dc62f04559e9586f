"""The policy a model file sets: budget, workforce, weights, equity rules and switches.

`read_policy` turns the model file's TOML (base plus a named scenario's overrides) into a
frozen `Policy`, reporting every unknown key, misspelt name and out-of-range value at once.
Figures that need the data (budget per head, workforce from the census) are resolved later,
in `inputs.py`.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field

from .errors import Problems, did_you_mean
from .schemas import MANAGEMENT_KINDS, OUTCOME_LABELS, OUTCOMES, TIERS

CONSTRAINTS = (
    "budget_limit",
    "workforce_limit",
    "universal_core_offer",
    "enhanced_support_uplift",
    "need_gradient",
    "mobilisation",
    "continuity",
    "invest_to_save",
    "ring_fences",
    "activity_targets",
    "enhanced_where_flagged",
)
# Rules a model file must switch on by name: absent, they are off (every other rule is on
# unless switched off), so a model written before the rule existed solves as it did.
OFF_UNLESS_SET = frozenset({"enhanced_where_flagged"})

# The rules that may bend when they cannot all be met ([rules] in a model file), each "hard"
# or a rank: rank 1 is kept first (its least shortfall is found and fixed before rank 2's is
# sought), and so on; the weighted outcome is maximised last.
# Mobilisation and continuity are always hard: they are how fast a service can grow or
# shrink, not a demand, and with every rule below allowed to fall short a plan always exists.
RANKABLE = (
    "budget_limit",
    "workforce_limit",
    "locks",
    "universal_core_offer",
    "enhanced_support_uplift",
    "need_gradient",
    "q1_q5_spend_ratio",
    "ring_fences",
    "activity_targets",
)
HARD = "hard"
# The order a model file gets when its [rules] section does not state one (the DLN base model
# states and argues the same): money and staff are hard, commitments already made come first,
# then the universal offer "for everyone", then the proportionate part, then the board's
# targets. Rules at one rank share it: their shortfalls are summed in £.
DEFAULT_RANKS = {
    "budget_limit": HARD,
    "workforce_limit": HARD,
    "locks": 1,
    "universal_core_offer": 2,
    "enhanced_support_uplift": 3,
    "need_gradient": 4,
    "q1_q5_spend_ratio": 4,
    "ring_fences": 5,
    "activity_targets": 5,
}

NUMBER = "number"
TEXT = "text"
BOOL = "bool"
NUMBERS = "list of numbers"
TEXTS = "list of text"
TEXTS_OR_ALL = "list of text or 'all'"
TABLE = "table"
TABLE_OF_NUMBERS = "table of numbers"
KIND_WORDS = {  # what a value of each kind looks like, for the message when it is not
    NUMBER: "a number, e.g. 0.25",
    TEXT: 'text in quotes, e.g. "QJ2"',
    BOOL: "true or false",
    NUMBERS: "a list of numbers, e.g. [1.0, 2.0]",
    TEXTS: 'a list of text in quotes, e.g. ["first", "second"]',
    TEXTS_OR_ALL: 'a list of codes in quotes, e.g. ["QJ2"], or "all"',
    TABLE: "a table of named values",
    TABLE_OF_NUMBERS: "a table of name = number",
}
MAX_BUDGET_GBP = 1e12  # £1,000bn a year: over five times what the NHS in England spends
MAX_GBP_PER_HEAD = 1e5
MAX_WEIGHT = 1e6  # priority and equity weights
MAX_GBP_PER_UNIT = 1e7  # £ value of one QALY or one unit of avoided activity
MAX_ACTIVITY = 1e12  # an activity target, in units of the activity
MAX_TIME_LIMIT_SECONDS = 7 * 24 * 3600.0  # a week

# Every key a model file may hold. Nested dicts are tables; a list [spec] is an array of tables.
MODEL_KEYS: dict = {
    "model": {
        "name": TEXT,
        "description": TEXT,
        "icbs": TEXTS_OR_ALL,
        "years": TEXTS,
        "data": TEXT,
        "discount_rate": NUMBER,
        "note": TEXT,
    },
    "budget": {"budget_gbp": NUMBERS, "gbp_per_head": NUMBERS, "note": TEXT, "source": TEXT},
    "workforce": {
        "scope": TEXT,
        "deployable_share": NUMBER,
        "annual_growth": NUMBER,
        "limited_groups": TEXTS,
        "available_wte": TABLE,
        "note": TEXT,
    },
    "outcome_weights": {
        "qaly_gbp": NUMBER,
        "cash_releasing_share": NUMBER,
        **{f"{o}_gbp": NUMBER for o in OUTCOMES if o != "qaly"},
        "note": TEXT,
    },
    # priority id = weight: the ids come from the data (priorities table), checked there
    "priority_weights": TABLE_OF_NUMBERS,
    "equity": {
        "universal_floor": NUMBER,
        "enhanced_uplift": NUMBER,
        "need_gradient": NUMBER,
        "need_measure": TEXT,
        "quintile_weights": NUMBERS,
        "q1_q5_spend_ratio": NUMBER,
        "note": TEXT,
    },
    "response": {"tranche_shares": NUMBERS, "marginal_effect": NUMBERS, "note": TEXT},
    "risk": {**{o: TEXT for o in OUTCOMES}, "note": TEXT},
    "dynamics": {
        "mobilisation_max_growth": NUMBER,
        "continuity_max_fall": NUMBER,
        "invest_to_save_share": NUMBER,
        "note": TEXT,
    },
    "constraints": {c: BOOL for c in CONSTRAINTS},
    "rules": {"bend": BOOL, "spread": BOOL, **{r: "rank" for r in RANKABLE}, "note": TEXT},
    "ring_fences": [
        {"priority": TEXT, "tier": TEXT, "icb": TEXT, "min_share": NUMBER, "max_share": NUMBER,
         "rank": "rank", "note": TEXT}
    ],
    "activity_targets": [
        {"outcome": TEXT, "year": TEXT, "minimum": NUMBER, "change_from_baseline": NUMBER,
         "icb": TEXT, "place": TEXT, "rank": "rank", "source": TEXT, "note": TEXT}
    ],
    # ambitions reported against, never imposed: activity (as targets) or a managed share
    "aims": [
        {"outcome": TEXT, "year": TEXT, "minimum": NUMBER, "change_from_baseline": NUMBER,
         "icb": TEXT, "place": TEXT, "managed": TEXT, "share_of_population": NUMBER,
         "source": TEXT, "note": TEXT}
    ],
    "locks": [{"pcn": TEXT, "priority": TEXT, "spend_gbp": NUMBER, "years": TEXTS,
               "rank": "rank", "note": TEXT}],
    "solver": {"time_limit": NUMBER, "note": TEXT},
    # plans a contract manager can let (optimiser/commissioning.py): off unless switched on
    "commissioning": {
        "on": BOOL,
        "min_contract_gbp": NUMBER,
        "wte_increment": TABLE_OF_NUMBERS,
        "merge": BOOL,
        "setup_not_charged": TEXTS,
        "mip_rel_gap": NUMBER,
        "note": TEXT,
    },
    "scenarios": "table of scenarios",
}


@dataclass(frozen=True)
class RingFence:
    """A pot: spend on a priority (and/or tier, in an ICB) between shares of the year's budget."""

    priority: str | None = None
    tier: str | None = None
    icb: str | None = None
    min_share: float | None = None
    max_share: float | None = None
    rank: int | str | None = None  # "hard", a rank, or None: the [rules] rank of ring_fences

    def label(self) -> str:
        parts = [self.priority or "all priorities"]
        if self.tier:
            parts.append(f"{self.tier} tier")
        if self.icb:
            parts.append(self.icb)
        return ", ".join(parts)


@dataclass(frozen=True)
class ActivityTarget:
    """Activity avoided in a year, across the model or in one ICB or place: at least `minimum`
    a year, or, with `change_from_baseline` (e.g. -0.35 for "admissions down 35%"), at least
    that share of the scope's modelled baseline (`ModelInputs.target_minimum`). As a rule
    ([[activity_targets]]) it binds the plan; as an aim ([[aims]]) it is only reported."""

    outcome: str
    year: str
    minimum: float | None = None
    icb: str | None = None
    rank: int | str | None = None  # "hard", a rank, or None: the [rules] rank of the family
    place: str | None = None
    change_from_baseline: float | None = None
    source: str = ""  # where the figure comes from, e.g. "seed 001 L639"

    @property
    def scope(self) -> str:
        return self.place or self.icb or "all"

    def label(self) -> str:
        """The ambition in words: "emergency admissions −35%" or "... avoided: at least 1,000"."""
        if self.change_from_baseline is not None:
            what = OUTCOME_LABELS[self.outcome].removesuffix(" avoided")
            return f"{what} " + f"{self.change_from_baseline:+.0%}".replace("-", "\u2212")
        return f"{OUTCOME_LABELS[self.outcome]}: at least {self.minimum:,.0f} a year"


@dataclass(frozen=True)
class ManagedShareAim:
    """An aim (reported, never imposed): a share of the population reached in a year by
    interventions of a kind of management, e.g. 5% of people case-managed (seed 001 L639)."""

    managed: str  # "case" or "condition"
    share: float
    year: str
    source: str = ""

    def label(self) -> str:
        return f"population {self.managed}-managed {self.share:.0%}"


@dataclass(frozen=True)
class Lock:
    """Spend on one priority in one PCN held at a set level ("we have already committed this")."""

    pcn: str
    priority: str
    spend_gbp: float
    years: tuple[str, ...] = ()  # empty: every year
    rank: int | str | None = None  # "hard", a rank, or None: the [rules] rank of locks


@dataclass(frozen=True)
class Commissioning:
    """[commissioning]: plan contracts a commissioner can let (a mixed-integer plan).

    Off by default: the plan is then the LP's. On, each service is one contract per PCN,
    place or ICB (the intervention table's delivery_level) that runs or not in each year; a
    contract that runs is at least its minimum size (the table's min_size, and at least
    `min_contract_gbp` a year) and pays its set-up cost in the year it starts.
    """

    on: bool = False
    min_contract_gbp: float = 0.0  # every contract that runs is worth at least this a year
    # staff group -> the WTE a contract hires that group in (e.g. 0.1): integer variables
    wte_increment: dict = field(default_factory=dict)
    # PCN contracts may merge into one for their place or ICB, place ones into the ICB's
    merge: bool = True
    # interventions whose set-up cost is paid by someone else (e.g. trained nationally)
    setup_not_charged: tuple[str, ...] = ()
    mip_rel_gap: float = 0.001  # the proven gap at which HiGHS stops: 0.1%


@dataclass(frozen=True)
class Policy:
    """Everything a model file decides. Never mutated: `dataclasses.replace` makes a new one."""

    name: str
    description: str
    icbs: tuple[str, ...]  # ("all",) for England
    years: tuple[str, ...]
    data: str
    discount_rate: float
    budget_gbp: tuple[float, ...] | None
    gbp_per_head: tuple[float, ...] | None
    workforce_scope: str
    deployable_share: float
    annual_growth: float
    limited_groups: tuple[str, ...] | None
    available_wte: dict = field(default_factory=dict)  # {group: {scope_code: value or list}}
    qaly_gbp: float = 20_000.0
    cash_releasing_share: float = 1.0
    activity_gbp: dict = field(default_factory=dict)  # explicit £ per unit overrides
    priority_weight: dict = field(default_factory=dict)
    quintile_weight: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)
    universal_floor: float = 0.0
    enhanced_uplift: float = 0.0
    need_gradient: float = 0.0
    need_measure: str = "need_overall_eng"
    tranche_shares: tuple[float, ...] = (1.0,)
    marginal_effect: tuple[float, ...] = (1.0,)
    risk_columns: dict = field(default_factory=dict)
    mobilisation_max_growth: float = 1.0
    continuity_max_fall: float = 1.0
    invest_to_save_share: float = 0.0
    constraints: dict = field(default_factory=dict)
    ring_fences: tuple[RingFence, ...] = ()
    activity_targets: tuple[ActivityTarget, ...] = ()
    locks: tuple[Lock, ...] = ()
    scenario: str = "base"
    # spend per head in IMD quintile 1 >= this x spend per head in quintile 5 (None: no rule)
    q1_q5_spend_ratio: float | None = None
    # [rules]: bend (False: every rule hard, as a plan that cannot meet them all is explained,
    # not made) and each rankable rule's rank or "hard" (`RANKABLE`, `DEFAULT_RANKS`)
    rules_bend: bool = True
    rule_ranks: dict = field(default_factory=lambda: dict(DEFAULT_RANKS))
    # [rules] spread: a rank's least £ shortfall shared out so that no row of it falls
    # further short, as a share of what it asks, than it must (False: wherever £1 buys least)
    rules_spread: bool = True
    time_limit: float | None = None  # seconds a solve may take; None: SolveOptions' default
    aims: tuple[ActivityTarget | ManagedShareAim, ...] = ()  # reported, never imposed
    commissioning: Commissioning = field(default_factory=Commissioning)

    def on(self, constraint: str) -> bool:
        return bool(self.constraints.get(constraint, constraint not in OFF_UNLESS_SET))

    def rank(self, rule: str, item: RingFence | ActivityTarget | Lock | None = None) -> int | None:
        """The rank a rule (or one ring fence, target or lock) bends at; None when it is hard
        (every rule is hard when the rules do not bend)."""
        if not self.rules_bend:
            return None
        own = getattr(item, "rank", None)
        value = own if own is not None else self.rule_ranks.get(rule, DEFAULT_RANKS[rule])
        return None if value == HARD else int(value)


def scenario_names(raw: dict) -> list[str]:
    return list((raw.get("scenarios") or {}).keys())


def merge_scenario(raw: dict, scenario: str | None, where: str, problems: Problems) -> dict:
    """The base model with a named scenario's overrides laid over it."""
    base = {k: copy.deepcopy(v) for k, v in raw.items() if k != "scenarios"}
    if not scenario or scenario == "base":
        return base
    scenarios = raw.get("scenarios") or {}
    if scenario not in scenarios:
        hint = did_you_mean(scenario, scenarios)
        known = ", ".join(["base", *scenarios]) or "none"
        problems.add(where, f"there is no scenario called '{scenario}'",
                     hint or f"The scenarios in this file are: {known}")
        return base
    overrides = copy.deepcopy(scenarios[scenario])
    if not isinstance(overrides, dict):  # reported by check_keys
        return base
    description = overrides.pop("description", None)
    _deep_merge(base, overrides)
    if description:
        base.setdefault("model", {})["description"] = description
    return base


def _deep_merge(into: dict, over: dict) -> None:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def check_keys(raw: dict, where: str, problems: Problems) -> None:
    """Report every key the tool does not know, with a suggestion, at every level."""
    _check_level(raw, MODEL_KEYS, "", where, problems)
    scenarios = raw.get("scenarios") or {}
    if not isinstance(scenarios, dict):
        problems.add(where, "'scenarios' must be a table", "Write [scenarios.NAME] sections")
        return
    for name, body in scenarios.items():
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "description"}
            _check_level(body, MODEL_KEYS, f"scenarios.{name}.", where, problems)
        else:
            problems.add(where, f"scenario '{name}' must be a table of overrides",
                         f"Write it as [scenarios.{name}]", value=body)


def _check_level(raw: dict, spec: dict, prefix: str, where: str, problems: Problems) -> None:
    for key, value in raw.items():
        if prefix == "" and key == "scenarios":
            continue
        if key not in spec:
            hint = did_you_mean(key, spec)
            problems.add(where, f"the key '{prefix}{key}' is not one the tool knows",
                         hint or f"Allowed here: {', '.join(spec)}")
            continue
        sub = spec[key]
        if isinstance(sub, dict):
            if not isinstance(value, dict):
                problems.add(where, f"'{prefix}{key}' must be a table", f"Write it as [{key}]",
                             value=value)
            else:
                _check_level(value, sub, f"{prefix}{key}.", where, problems)
        elif isinstance(sub, list):
            if not isinstance(value, list):
                problems.add(where, f"'{prefix}{key}' must be a list of tables",
                             f"Write each as [[{key}]]", value=value)
                continue
            for i, item in enumerate(value, 1):
                if isinstance(item, dict):
                    _check_level(item, sub[0], f"{prefix}{key}[{i}].", where, problems)
                else:
                    problems.add(where, f"'{prefix}{key}[{i}]' must be a table of settings",
                                 f"Write each as [[{key}]] with its settings below it",
                                 value=item)
        else:
            _check_value(f"{prefix}{key}", sub, value, where, problems)


def is_number(value) -> bool:
    """A TOML number (not a boolean, which Python counts as one)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_number(value) -> bool:
    """A number that is an amount: not inf, not nan, and (a TOML integer has no limit) within
    what a float holds."""
    try:
        return is_number(value) and math.isfinite(value)
    except OverflowError:
        return False


def _check_value(name: str, kind: str, value, where: str, problems: Problems) -> None:
    """A setting's value has the kind its key takes, and every number in it is finite."""
    numbers: list = []
    if kind == NUMBER:
        ok = is_number(value)
        numbers = [value]
    elif kind == NUMBERS:
        ok = isinstance(value, list) and all(is_number(v) for v in value)
        numbers = value if ok else []
    elif kind == TEXT:
        ok = isinstance(value, str)
    elif kind == BOOL:
        ok = isinstance(value, bool)
    elif kind == TEXTS:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif kind == TEXTS_OR_ALL:
        ok = value == "all" or (isinstance(value, list) and all(isinstance(v, str)
                                                                 for v in value))
    elif kind == TABLE:
        ok = isinstance(value, dict)
    elif kind == TABLE_OF_NUMBERS:
        ok = isinstance(value, dict)
        if ok:
            for key, v in value.items():
                if key != "note":
                    _check_value(f"{name}.{key}", NUMBER, v, where, problems)
    else:
        ok = True
    if not ok:
        problems.add(where, f"'{name}' must be {KIND_WORDS[kind]}", value=value)
    elif not all(is_finite_number(v) for v in numbers):
        problems.add(where, f"'{name}' must be a finite number",
                     "inf and nan are not amounts: enter the figure itself", value=value)


class _Reader:
    """Typed getters over the merged model dict that record problems instead of raising.

    `check_keys` has already reported every value of the wrong kind and every number that
    is not finite; a getter gives the default for those (so nothing downstream sees them) and
    reports a number outside its range once.
    """

    def __init__(self, raw: dict, where: str, problems: Problems):
        self.raw, self.where, self.problems = raw, where, problems

    def get(self, section: str, key: str, default=None):
        body = self.raw.get(section)
        return body.get(key, default) if isinstance(body, dict) else default

    def number(self, section, key, default, low=None, high=None, fix="") -> float:
        value = self.get(section, key, default)
        if not is_finite_number(value):
            return float(default)
        return self._range(f"{section}.{key}", float(value), low, high, fix)

    def _range(self, name, value, low, high, fix) -> float:
        if low is not None and value < low:
            self.problems.add(self.where, f"'{name}' is below {low:g}", fix, value=value)
        elif high is not None and value > high:
            self.problems.add(self.where, f"'{name}' is above {high:g}", fix, value=value)
        return value

    def numbers(self, section, key, default, low=None, high=None, fix="") -> tuple | None:
        value = self.get(section, key, default)
        if value is None:
            return None
        if not isinstance(value, list | tuple) or not all(is_finite_number(v) for v in value):
            return tuple(default) if default else None
        return tuple(self._range(f"{section}.{key}", float(v), low, high, fix) for v in value)

    def text(self, section, key, default, choices=None) -> str:
        value = self.get(section, key, default)
        if not isinstance(value, str):
            return default
        if choices and value not in choices:
            hint = did_you_mean(value, choices)
            self.problems.add(self.where, f"'{section}.{key}' must be one of {', '.join(choices)}",
                              hint, value=value)
            return default
        return value


def read_policy(raw: dict, scenario: str, where: str, problems: Problems) -> Policy:
    """Build the Policy from a merged model dict; every bad value is recorded as a problem.

    Run `check_keys` on the file first: it reports unknown keys, values of the wrong kind and
    numbers that are not finite, which this reads as their defaults.
    """
    r = _Reader(raw, where, problems)
    years = r.get("model", "years", None)
    years_ok = isinstance(years, list) and bool(years) and all(
        isinstance(y, str) and y.strip() for y in years)
    if not years_ok:
        problems.add(where, "'model.years' must list the years, e.g. [\"2026/27\", \"2027/28\"]",
                     value=years)
        years = ["2026/27"]
    repeated = sorted({y for y in years if years.count(y) > 1})
    if repeated:
        problems.add(where, f"'model.years' lists {', '.join(repeated)} more than once",
                     "List each year once, in order", value=years)
        years, years_ok = list(dict.fromkeys(years)), False
    icbs = r.get("model", "icbs", "all")
    if icbs == "all":
        icbs = ["all"]
    if not isinstance(icbs, list) or not icbs or not all(isinstance(i, str) for i in icbs):
        if isinstance(icbs, list) and not icbs:
            problems.add(where, "'model.icbs' is empty", 'List ICB codes, or write "all"')
        icbs = ["all"]

    budget_section = r.get("budget", "budget_gbp", None), r.get("budget", "gbp_per_head", None)
    budget = r.numbers("budget", "budget_gbp", None, low=0, high=MAX_BUDGET_GBP,
                       fix="Enter £ per year, from 0 to £1,000bn")
    per_head = r.numbers("budget", "gbp_per_head", None, low=0, high=MAX_GBP_PER_HEAD,
                         fix="A budget per head cannot be negative (or above £100,000)")
    if (budget_section[0] is None) == (budget_section[1] is None):
        problems.add(where, "the model must set exactly one of 'budget.budget_gbp' or "
                     "'budget.gbp_per_head'", "Give the budget for each year in £, or £ per head")
    for name, series in (("budget_gbp", budget), ("gbp_per_head", per_head)):
        if series is not None and len(series) != len(years) and years_ok:
            problems.add(where, f"'budget.{name}' has {len(series)} values for {len(years)} years",
                         "Give one value per year in model.years")

    weights = r.raw.get("priority_weights")
    priority_weight = {str(p): r.number("priority_weights", p, 1.0, low=0, high=MAX_WEIGHT,
                                        fix="Priority weights are from 0 to 1,000,000")
                       for p in (weights if isinstance(weights, dict) else {}) if p != "note"}

    activity_gbp = {}
    section = r.raw.get("outcome_weights")
    for o in OUTCOMES[1:]:
        if isinstance(section, dict) and f"{o}_gbp" in section:
            activity_gbp[o] = r.number("outcome_weights", f"{o}_gbp", 0.0, low=0,
                                       high=MAX_GBP_PER_UNIT)

    quintiles = r.numbers("equity", "quintile_weights", (1.0,) * 5, low=0, high=MAX_WEIGHT,
                          fix="Equity weights are from 0 to 1,000,000") or (1.0,) * 5
    if len(quintiles) != 5:
        problems.add(where, "'equity.quintile_weights' needs 5 values (IMD quintile 1 to 5)",
                     value=list(quintiles))
        quintiles = (1.0,) * 5

    shares = r.numbers("response", "tranche_shares", (1.0,), low=0, high=1) or (1.0,)
    marginal = r.numbers("response", "marginal_effect", (1.0,) * len(shares), low=0, high=1)
    marginal = marginal or (1.0,) * len(shares)
    if abs(sum(shares) - 1.0) > 1e-9:
        problems.add(where, "'response.tranche_shares' must add up to 1", value=list(shares))
    if len(marginal) != len(shares):
        problems.add(where, "'response.marginal_effect' needs one value per tranche")
    elif any(b > a for a, b in zip(marginal, marginal[1:], strict=False)):
        problems.add(where, "'response.marginal_effect' must not rise from one tranche to the "
                     "next (diminishing returns keep the model concave)", value=list(marginal))

    risk_raw = r.raw.get("risk") if isinstance(r.raw.get("risk"), dict) else {}
    risk_columns = {o: risk_raw[o] if isinstance(risk_raw.get(o), str) else "" for o in OUTCOMES}

    constraints_raw = r.raw.get("constraints") if isinstance(r.raw.get("constraints"),
                                                             dict) else {}
    constraints = {}
    for c in CONSTRAINTS:
        default = c not in OFF_UNLESS_SET
        value = constraints_raw.get(c, default)
        constraints[c] = value if isinstance(value, bool) else default  # check_keys says so

    limited = r.get("workforce", "limited_groups", None)
    available = r.get("workforce", "available_wte", {}) or {}
    bend, spread, ranks = _rules(r, where, problems)
    ratio = r.get("equity", "q1_q5_spend_ratio", None)
    if ratio is not None:
        ratio = r.number("equity", "q1_q5_spend_ratio", 1.0, 0, 100,
                         "The ratio of spend per head in the most deprived quintile to the "
                         "least deprived, e.g. 1.5")
    time_limit = r.get("solver", "time_limit", None)
    if time_limit is not None:
        time_limit = r.number("solver", "time_limit", 600.0, low=0.001,
                              high=MAX_TIME_LIMIT_SECONDS,
                              fix="Give the seconds a solve may take, e.g. 600")

    policy = Policy(
        name=r.text("model", "name", "model"),
        description=r.text("model", "description", ""),
        icbs=tuple(icbs),
        years=tuple(years),
        data=r.text("model", "data", "../data"),
        discount_rate=r.number("model", "discount_rate", 0.035, 0, 0.2,
                               "Use a rate such as 0.035 (3.5%)"),
        budget_gbp=budget,
        gbp_per_head=per_head,
        workforce_scope=r.text("workforce", "scope", "icb", choices=("icb", "place")),
        deployable_share=r.number("workforce", "deployable_share", 1.0, 0, 1),
        annual_growth=r.number("workforce", "annual_growth", 0.0, -0.5, 1.0),
        limited_groups=tuple(limited) if isinstance(limited, list) else None,
        available_wte=available if isinstance(available, dict) else {},
        qaly_gbp=r.number("outcome_weights", "qaly_gbp", 20_000, 0, MAX_GBP_PER_UNIT),
        cash_releasing_share=r.number("outcome_weights", "cash_releasing_share", 1.0, 0, 1),
        activity_gbp=activity_gbp,
        priority_weight=priority_weight,
        quintile_weight=tuple(quintiles),
        universal_floor=r.number("equity", "universal_floor", 0.0, 0, 1,
                                 "The floor is a share of the eligible cohort, from 0 to 1"),
        enhanced_uplift=r.number("equity", "enhanced_uplift", 0.0, -1, 100,
                                 "The uplift is a share above the others' average: -1 or more"),
        need_gradient=r.number("equity", "need_gradient", 0.0, 0, 1,
                               "The equity dial runs from 0 to 1"),
        need_measure=r.text("equity", "need_measure", "need_overall_eng"),
        tranche_shares=shares,
        marginal_effect=marginal,
        risk_columns=risk_columns,
        mobilisation_max_growth=r.number("dynamics", "mobilisation_max_growth", 1.0, 0, 1),
        continuity_max_fall=r.number("dynamics", "continuity_max_fall", 1.0, 0, 1),
        invest_to_save_share=r.number("dynamics", "invest_to_save_share", 0.0, 0, 1),
        constraints=constraints,
        ring_fences=_ring_fences(r, where, problems),
        activity_targets=_targets(r, years, where, problems),
        locks=_locks(r, years, where, problems),
        scenario=scenario or "base",
        q1_q5_spend_ratio=ratio,
        rules_bend=bend,
        rules_spread=spread,
        rule_ranks=ranks,
        time_limit=time_limit,
        aims=_aims(r, years, where, problems),
        commissioning=_commissioning(r, where, problems),
    )
    return policy


MAX_CONTRACT_GBP = 1e9  # £1bn a year: above any single contract an ICB lets


def _commissioning(r: _Reader, where: str, problems: Problems) -> Commissioning:
    """[commissioning], each key checked (`check_keys` has reported unknown keys and values of
    the wrong kind, read here as their defaults)."""
    section = r.raw.get("commissioning")
    if not isinstance(section, dict):
        return Commissioning()
    on = section.get("on", False)
    merge = section.get("merge", True)
    increments = {}
    table = section.get("wte_increment")
    for group, value in (table.items() if isinstance(table, dict) else []):
        if group == "note" or not is_finite_number(value):
            continue
        if not 0 < value <= 10:
            problems.add(where, f"'commissioning.wte_increment.{group}' must be more than 0 "
                         "and at most 10 WTE", "The WTE a post is hired in, e.g. 0.1 (half a "
                         "day a week) or 1 (a whole post)", value=value)
            continue
        increments[str(group)] = float(value)
    skipped = section.get("setup_not_charged", [])
    return Commissioning(
        on=on if isinstance(on, bool) else False,
        min_contract_gbp=r.number("commissioning", "min_contract_gbp", 0.0, 0,
                                  MAX_CONTRACT_GBP, "The smallest contract worth letting, in £ "
                                  "a year, e.g. 10000 (0: no minimum)"),
        wte_increment=increments,
        merge=merge if isinstance(merge, bool) else True,
        setup_not_charged=tuple(skipped) if isinstance(skipped, list) else (),
        mip_rel_gap=r.number("commissioning", "mip_rel_gap", 0.001, 0, 0.5,
                             "The gap between the plan and the best possible at which the "
                             "solver stops, e.g. 0.001 (0.1%)"),
    )


def rank_value(value, what: str, where: str, problems: Problems) -> int | str | None:
    """A rank as a model file writes it: a whole number from 1, or "hard"."""
    if value is None or value == HARD:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    problems.add(where, f"{what} must be \"hard\" or a rank: a whole number from 1 (kept "
                 "first) upwards", "e.g. universal_core_offer = 2, or budget_limit = \"hard\"",
                 value=value)
    return None


def _rules(r: _Reader, where: str, problems: Problems) -> tuple[bool, bool, dict]:
    """[rules]: whether the rules bend and their shortfalls spread, and each rankable rule's
    rank or "hard"."""
    section = r.raw.get("rules") or {}
    bend = section.get("bend", True)
    if not isinstance(bend, bool):
        problems.add(where, "'rules.bend' must be true or false", "true: the rules bend in "
                     "their stated order when they cannot all be met; false: every rule is hard",
                     value=bend)
        bend = True
    spread = section.get("spread", True)
    if not isinstance(spread, bool):
        problems.add(where, "'rules.spread' must be true or false", "true: a rank's shortfall "
                     "is shared out evenly; false: it falls where £1 buys least", value=spread)
        spread = True
    ranks = dict(DEFAULT_RANKS)
    for rule in RANKABLE:
        if rule in section:
            value = rank_value(section[rule], f"'rules.{rule}'", where, problems)
            if value is not None:
                ranks[rule] = value
    return bend, spread, ranks


def _tables(r: _Reader, key: str) -> list[tuple[int, dict]]:
    """The [[key]] tables of the model file, numbered from 1 (`check_keys` reported the rest)."""
    items = r.raw.get(key)
    if not isinstance(items, list):
        return []
    return [(i, item) for i, item in enumerate(items, 1) if isinstance(item, dict)]


def _ring_fences(r: _Reader, where: str, problems: Problems) -> tuple[RingFence, ...]:
    fences = []
    for i, item in _tables(r, "ring_fences"):
        priority, tier, icb = (v if isinstance(v, str) else None
                               for v in (item.get("priority"), item.get("tier"), item.get("icb")))
        if tier is not None and tier not in TIERS:
            problems.add(where, f"ring fence {i}: tier must be core or enhanced", value=tier)
        lo, hi = (v if is_finite_number(v) else None
                  for v in (item.get("min_share"), item.get("max_share")))
        for name, v in (("min_share", lo), ("max_share", hi)):
            if v is not None and not 0 <= v <= 1:
                problems.add(where, f"ring fence {i}: {name} must be a share from 0 to 1",
                             value=v)
        if item.get("min_share") is None and item.get("max_share") is None:
            problems.add(where, f"ring fence {i} sets neither min_share nor max_share")
        if lo is not None and hi is not None and lo > hi:
            problems.add(where, f"ring fence {i}: min_share ({lo:g}) is above max_share "
                         f"({hi:g}), so no spend can meet it", "Make min_share ≤ max_share")
        fences.append(RingFence(priority, tier, icb, lo, hi, rank_value(
            item.get("rank"), f"ring fence {i}: 'rank'", where, problems)))
    return tuple(fences)


def _targets(r: _Reader, years, where: str, problems: Problems) -> tuple[ActivityTarget, ...]:
    targets = []
    for i, item in _tables(r, "activity_targets"):
        target = _activity_target(item, f"activity target {i}", years, where, problems)
        if target is not None:
            targets.append(dataclasses.replace(target, rank=rank_value(
                item.get("rank"), f"activity target {i}: 'rank'", where, problems)))
    return tuple(targets)


def _activity_target(item: dict, name: str, years, where: str,
                     problems: Problems) -> ActivityTarget | None:
    """One activity target or aim: an outcome, a year, and a minimum or a change from the
    baseline (a fall, from 0 to -1), in the whole model or one ICB or place."""
    outcome, year = item.get("outcome"), item.get("year", years[-1])
    minimum, change = item.get("minimum"), item.get("change_from_baseline")
    if outcome not in OUTCOMES:
        problems.add(where, f"{name}: unknown outcome '{outcome}'",
                     did_you_mean(str(outcome), OUTCOMES) or f"Use one of {', '.join(OUTCOMES)}")
        return None
    if outcome == "qaly" and change is not None:
        problems.add(where, f"{name}: QALYs have no baseline to change from",
                     "Give a 'minimum' (QALYs gained a year) instead")
        return None
    if year not in years:
        problems.add(where, f"{name}: the year '{year}' is not in model.years",
                     f"Use one of {', '.join(years)}")
        return None
    if (minimum is None) == (change is None):
        problems.add(where, f"{name}: give either 'minimum' (activity avoided a year) or "
                     "'change_from_baseline' (e.g. -0.35 for 35% fewer), not both or neither")
        return None
    if not all(is_finite_number(v) for v in (minimum, change) if v is not None):
        return None  # reported by check_keys
    if minimum is not None and not 0 <= minimum <= MAX_ACTIVITY:
        problems.add(where, f"{name}: minimum must be from 0 to {MAX_ACTIVITY:,.0f}",
                     value=minimum)
        return None
    if change is not None and not -1 <= change <= 0:
        problems.add(where, f"{name}: change_from_baseline must be a fall from 0 to -1 "
                     "(e.g. -0.35 for 35% fewer)", value=change)
        return None
    icb, place = item.get("icb"), item.get("place")
    if icb is not None and place is not None:
        problems.add(where, f"{name}: give an 'icb' or a 'place', not both")
        return None
    return ActivityTarget(outcome, year, None if minimum is None else float(minimum),
                          icb if isinstance(icb, str) else None,
                          place=place if isinstance(place, str) else None,
                          change_from_baseline=None if change is None else float(change),
                          source=_text(item, "source"))


def _aims(r: _Reader, years, where: str, problems: Problems) -> tuple:
    """[[aims]]: activity ambitions (as activity targets) or managed shares, reported only."""
    aims: list[ActivityTarget | ManagedShareAim] = []
    for i, item in _tables(r, "aims"):
        name = f"aim {i}"
        if "managed" not in item:
            aim = _activity_target(item, name, years, where, problems)
            if aim is not None:
                aims.append(aim)
            continue
        managed, share = item.get("managed"), item.get("share_of_population")
        year = item.get("year", years[-1])
        if managed not in MANAGEMENT_KINDS:
            problems.add(where, f"{name}: 'managed' must be one of {', '.join(MANAGEMENT_KINDS)}",
                         did_you_mean(str(managed), MANAGEMENT_KINDS), value=managed)
        elif not is_finite_number(share) or not 0 < share <= 1:
            problems.add(where, f"{name}: share_of_population must be a share above 0, up to 1",
                         "e.g. 0.05 for 5% of the population", value=share)
        elif year not in years:
            problems.add(where, f"{name}: year '{year}' is not in model.years")
        else:
            aims.append(ManagedShareAim(managed, float(share), year, _text(item, "source")))
    return tuple(aims)


def _text(item: dict, key: str) -> str:
    value = item.get(key, "")
    return value if isinstance(value, str) else ""  # check_keys reports a wrong kind


def _locks(r: _Reader, years, where: str, problems: Problems) -> tuple[Lock, ...]:
    locks = []
    for i, item in _tables(r, "locks"):
        pcn, priority, spend = item.get("pcn"), item.get("priority"), item.get("spend_gbp")
        lock_years = item.get("years") or []
        if not isinstance(pcn, str):
            problems.add(where, f"lock {i}: 'pcn' must name a PCN code", value=pcn)
            continue
        if not isinstance(priority, str):
            problems.add(where, f"lock {i}: 'priority' must name a priority", value=priority)
            continue
        if spend is None:
            problems.add(where, f"lock {i} has no spend_gbp", "Add spend_gbp = £ a year")
            continue
        if not is_finite_number(spend) or not isinstance(lock_years, list):
            continue  # reported by check_keys
        if spend < 0:
            problems.add(where, f"lock {i}: spend_gbp must be £0 or more", value=spend)
            continue
        bad = [y for y in lock_years if y not in years]
        if bad:
            problems.add(where, f"lock {i}: the years {', '.join(map(str, bad))} are not in "
                         "model.years", f"Use years among {', '.join(years)}")
            continue
        locks.append(Lock(pcn, priority, float(spend), tuple(lock_years), rank_value(
            item.get("rank"), f"lock {i}: 'rank'", where, problems)))
    return tuple(locks)
