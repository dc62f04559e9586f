"""The data build: reproducible, reconciled, and faithful to seed 001's higher-need rule.

The build runs once per module into a temporary directory; every test reads that output, and
the first one checks that it is byte for byte the committed data/*.csv.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
TABLES = ("pcns", "higher_need", "priorities")
DLN = {"QJ2": 17, "QJM": 14, "QT1": 24}


def load_build_module():
    spec = importlib.util.spec_from_file_location("build_data", REPO / "scripts" / "build_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


RAW = load_build_module().DEFAULT_RAW
SEED_TABLES = RAW.parent / "seed_tables"

pytestmark = pytest.mark.skipif(
    not (RAW / "gp-reg-pat-prac-map_2025-10.csv").exists(),
    reason=f"raw NHS open data not found at {RAW}; the data build cannot run",
)


@pytest.fixture(scope="module")
def build():
    return load_build_module()


@pytest.fixture(scope="module")
def out_dir(build, tmp_path_factory):
    out = tmp_path_factory.mktemp("data_build")
    assert build.main(["--raw", str(RAW), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def pcns(out_dir):
    return pd.read_csv(out_dir / "pcns.csv", dtype={"pcn_code": str})


@pytest.fixture(scope="module")
def higher_need(out_dir, pcns):
    flags = pd.read_csv(out_dir / "higher_need.csv", dtype={"pcn_code": str}, keep_default_na=False)
    return flags.merge(pcns[["pcn_code", "icb_code"]], on="pcn_code", how="left")


@pytest.fixture(scope="module")
def seed(build):
    table = pd.read_csv(SEED_TABLES / build.F_SEED_DLN)
    return table.assign(pcn_code=table["pcn"].map(build.SEED_NAME_TO_PCN))


@pytest.mark.parametrize("table", TABLES)
def test_rebuild_reproduces_committed_tables_byte_for_byte(out_dir, table):
    committed = DATA / f"{table}.csv"
    assert committed.exists(), f"{committed} missing: run `make data`"
    assert (out_dir / f"{table}.csv").read_bytes() == committed.read_bytes(), (
        f"{table}.csv differs from a fresh build: run `make data` and review the diff"
    )


def test_england_population_reconciles_with_age_band_total(pcns):
    england = pd.read_csv(RAW / "gp_practice_age_bands_2025-04.csv")["TOTAL"].sum()
    assert england == 63_769_849
    assert abs(pcns["population"].sum() / england - 1) < 0.01


def test_one_row_per_pcn_and_no_unallocated(pcns):
    assert pcns["pcn_code"].is_unique
    assert "U" not in set(pcns["pcn_code"])
    assert len(pcns) == 1297


def test_age_bands_nest_and_sum(pcns):
    assert (
        pcns[["pop_0_19", "pop_20_39", "pop_40_64", "pop_65_plus"]].sum(axis=1)
        == pcns["population"]
    ).all()
    assert (pcns["pop_50_64"] <= pcns["pop_40_64"]).all()
    assert (pcns["pop_85_plus"] <= pcns["pop_75_plus"]).all()
    assert (pcns["pop_75_plus"] <= pcns["pop_65_plus"]).all()


def test_dln_has_55_pcns(pcns):
    counts = pcns[pcns["icb_code"].isin(DLN)].groupby("icb_code").size().to_dict()
    assert counts == DLN
    assert sum(counts.values()) == 55


def test_every_seed_name_maps_to_a_pcn_within_5_percent(build, seed, pcns):
    assert len(seed) == 38
    assert seed["pcn_code"].notna().all(), seed.loc[seed["pcn_code"].isna(), "pcn"].tolist()
    by_code = pcns.set_index("pcn_code")
    assert seed["pcn_code"].isin(by_code.index).all()
    icb = seed["icb"].map(build.SEED_ICB_NAME_TO_CODE)
    assert (seed["pcn_code"].map(by_code["icb_code"]) == icb).all()
    whole = seed[~seed["pcn"].isin(build.NEIGHBOURHOOD_NAMES)]
    assert whole["pcn_code"].is_unique
    ratio = whole["pcn_code"].map(by_code["population"]) / (whole["population_k"] * 1000)
    off = whole.loc[(ratio - 1).abs() > 0.05, "pcn"].tolist()
    assert not off, f"seed names more than 5% off their PCN's population: {off}"


def test_neighbourhoods_map_to_nottingham_west(build, seed, pcns, higher_need):
    hoods = seed[seed["pcn"].isin(["Beeston", "Eastwood/Kimberley"])]
    assert set(hoods["pcn_code"]) == {"U99463"}
    pcn = pcns.set_index("pcn_code").loc["U99463"]
    assert pcn["pcn_name"] == "NOTTINGHAM WEST PCN"
    # The two named neighbourhoods are about 80% of the PCN; Stapleford is the rest.
    stapleford = pd.read_csv(SEED_TABLES / build.F_SEED_NN_PROFILE).set_index("pcn")
    combined = hoods["population_k"].sum() * 1000
    assert 0.75 < combined / pcn["population"] < 0.85
    assert abs((combined + stapleford.at["Stapleford", "patients"]) / pcn["population"] - 1) < 0.05
    rows = higher_need[
        (higher_need["pcn_code"] == "U99463") & (higher_need["basis"] == "seed_001_table")
    ].set_index("priority_id")
    union = hoods.drop(
        columns=[
            "icb",
            "pcn",
            "pcn_code",
            "population_k",
            "imd_quintile",
            "community_type",
            "cyp_mental_health",
        ]
    ).max()
    for priority, flag in union.items():
        assert rows.at[priority, "higher_need"] == flag
        assert "Beeston" in rows.at[priority, "note"]


def test_dln_flags_come_from_the_seed_table(seed, higher_need):
    dln = higher_need[higher_need["icb_code"].isin(DLN)]
    seeded = dln[dln["priority_id"] != "cyp_mental_health"]
    assert (seeded["basis"] == "seed_001_table").all()
    expected = seed.groupby("pcn_code")[list(seeded["priority_id"].unique())].max()
    for row in seeded.itertuples():
        flag = expected.at[row.pcn_code, row.priority_id] if row.pcn_code in expected.index else 0
        assert row.higher_need == flag, (row.pcn_code, row.priority_id)
    # Unnamed PCNs are never flagged for a seeded priority.
    unnamed = seeded[~seeded["pcn_code"].isin(expected.index)]
    assert len(unnamed["pcn_code"].unique()) == 55 - 37
    assert (unnamed["higher_need"] == 0).all()


def test_dln_ps2_is_derived_by_the_rule(higher_need):
    ps2 = higher_need[
        higher_need["icb_code"].isin(DLN) & (higher_need["priority_id"] == "cyp_mental_health")
    ]
    assert (ps2["basis"] == "top_quarter_in_icb").all()
    assert ps2["note"].str.startswith("seed 001 publishes no PS2 flags").all()
    flagged = ps2.groupby("icb_code")["higher_need"].sum().to_dict()
    assert flagged == {"QJ2": 4, "QJM": 4, "QT1": 7}  # the seed's own 4/4/7 per priority
    assert (ps2["higher_need"] == (ps2["rank_in_icb"] <= ps2["icb_code"].map(flagged))).all()


def test_rounding_of_the_25_percent_rule(build):
    assert [build.n_flagged(n) for n in (14, 15, 16, 17)] == [4, 4, 4, 4]
    assert [build.n_flagged(n) for n in (26, 27, 28, 29)] == [7, 7, 7, 7]
    # round(0.25 x 24) is 6: the seed's 7 for QT1 is not what the rule gives for 24 PCNs.
    assert build.n_flagged(24) == 6


def test_outside_dln_the_top_quarter_in_each_icb_is_flagged(higher_need, pcns):
    rest = higher_need[~higher_need["icb_code"].isin(DLN)]
    assert (rest["basis"] == "top_quarter_in_icb").all()
    assert rest["icb_code"].nunique() == pcns["icb_code"].nunique() - 3
    for (icb, priority), group in rest.groupby(["icb_code", "priority_id"]):
        n = len(group)
        expected = math.floor(0.25 * n + 0.5)
        flagged = group[group["higher_need"] == 1]
        assert len(flagged) == expected, (icb, priority, n, len(flagged))
        others = group[group["higher_need"] == 0]
        assert flagged["need_score"].min() >= others["need_score"].max(), (icb, priority)
        assert sorted(group["rank_in_icb"]) == list(range(1, n + 1))
        assert set(flagged["rank_in_icb"]) == set(range(1, expected + 1))


def test_higher_need_covers_every_pcn_and_priority(higher_need, pcns, out_dir):
    priorities = pd.read_csv(out_dir / "priorities.csv")
    assert list(priorities["priority_id"]) == [
        "cyp_obesity",
        "cyp_mental_health",
        "multimorbidity",
        "frailty",
        "end_of_life",
        "vaccination_screening",
        "strong_general_practice",
        "outpatient_redesign",
    ]
    assert len(higher_need) == len(pcns) * 7
    assert not higher_need.duplicated(["pcn_code", "priority_id"]).any()
    assert set(higher_need["pcn_code"]) == set(pcns["pcn_code"])
    # CC3 has no higher-need set (seed 001 L696/L730): no flags, no need measure
    flagged = set(priorities["priority_id"]) - {"outpatient_redesign"}
    assert set(higher_need["priority_id"]) == flagged
    cc3 = priorities.set_index("priority_id").loc["outpatient_redesign"]
    assert cc3["code"] == "CC3" and pd.isna(cc3["higher_need_measure"])


def test_imd_quintiles_hold_a_fifth_of_the_population_each(pcns):
    share = pcns.groupby("imd_quintile")["population"].sum() / pcns["population"].sum()
    assert list(share.index) == [1, 2, 3, 4, 5]
    assert ((share - 0.2).abs() < 0.03).all(), share.to_dict()
    # 1 = most deprived.
    mean_score = pcns.groupby("imd_quintile")["imd_score"].mean()
    assert mean_score.is_monotonic_decreasing


def test_need_index_averages_one_over_england(pcns):
    mean = (pcns["need_overall_eng"] * pcns["population"]).sum() / pcns["population"].sum()
    assert abs(mean - 1) < 0.01


def test_workforce_reconciles_with_census_total(pcns):
    census = pd.read_csv(RAW / "pcn_workforce_fte_by_role_2025-11.csv")
    fte = pcns.filter(like="fte_").to_numpy().sum()
    assert abs(fte - census["FTE"].sum()) < 0.01 * len(pcns)  # six-decimal rounding only
    absent = pcns[pcns["workforce_in_census"] == False]  # noqa: E712
    assert (absent.filter(like="fte_").to_numpy() == 0).all()


def test_prevalences_are_fractions(pcns):
    prevalence = pcns.filter(like="prev_")
    assert len(prevalence.columns) == 6
    assert ((prevalence > 0) & (prevalence < 1)).all().all()


def test_every_column_is_documented_in_the_readme(out_dir):
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z0-9_]+)`", readme))
    for table in TABLES:
        columns = pd.read_csv(out_dir / f"{table}.csv", nrows=0).columns
        missing = [c for c in columns if c not in documented]
        assert not missing, f"{table}.csv columns not in data/README.md: {missing}"


# ---- issue 16: places, rurality, IMD by people, activity baselines ------------------------


@pytest.fixture(scope="module")
def practices():
    """October 2025 practices with April 2025 lists and G&A need per head (England = 1),
    recomputed here from the raw files, apart from the build."""
    oct_map = pd.read_csv(RAW / "gp-reg-pat-prac-map_2025-10.csv", dtype=str, keep_default_na=False)
    age = pd.read_csv(RAW / "gp_practice_age_bands_2025-04.csv", dtype={"PRACTICE_CODE": str})
    wp = pd.read_csv(
        RAW / "nhse_weighted_populations_2025_26.csv",
        encoding="utf-8-sig",
        dtype={"Practice_Code": str},
    )
    frame = oct_map.merge(age[["PRACTICE_CODE", "TOTAL"]], on="PRACTICE_CODE", how="inner")
    ga = (wp["G&A WP"] / wp["Population"]).groupby(wp["Practice_Code"]).first()
    frame["ga"] = frame["PRACTICE_CODE"].map(ga) / (wp["G&A WP"].sum() / wp["Population"].sum())
    assert frame["ga"].notna().all()
    frame["weight"] = frame["TOTAL"] * frame["ga"]
    return frame


def test_nottingham_and_nottinghamshire_has_its_four_place_based_partnerships(pcns):
    qt1 = pcns[pcns["icb_code"] == "QT1"]
    sizes = qt1.groupby("place_name").size().to_dict()
    assert sizes == {
        "Bassetlaw Place-Based Partnership": 3,
        "Mid-Nottinghamshire Place-Based Partnership": 6,
        "Nottingham City Place-Based Partnership": 9,
        "South Nottinghamshire Place-Based Partnership": 6,
    }
    assert (qt1["place_basis"] == "place_partnership").all()
    # Two sources agree: Bassetlaw's former CCG (02Q) is still a sub-ICB location of its own,
    # so the place from 2019/20 CCGs and the October 2025 sub-ICB hold the same PCNs.
    bassetlaw = qt1[qt1["place_name"].str.startswith("Bassetlaw")]
    assert set(bassetlaw["pcn_code"]) == set(qt1.loc[qt1["sub_icb_code"] == "02Q", "pcn_code"])
    assert set(bassetlaw["place_code"]) == {"02Q"}
    by_name = qt1.set_index("pcn_name")["place_code"]
    assert by_name["RUSHCLIFFE PCN"] == by_name["NOTTINGHAM WEST PCN"] == "04L_04M_04N"
    assert by_name["ASPIRE PCN"] == "04K"  # its practice opened in 2020 follows the others


def test_places_elsewhere_are_sub_icb_locations(pcns):
    rest = pcns[pcns["icb_code"] != "QT1"]
    assert (rest["place_basis"] == "sub_icb").all()
    assert (rest["place_code"] == rest["sub_icb_code"]).all()
    # A place code names one place in one ICB.
    assert (pcns.groupby("place_code")["icb_code"].nunique() == 1).all()
    assert (pcns.groupby("place_code")["place_name"].nunique() == 1).all()


def test_rural_share_is_the_share_of_classified_patients_in_rural_practices(pcns, practices):
    rurality = pd.read_csv(RAW / "practice_rurality_2022-23_heec.csv", dtype=str)
    frame = practices[practices["PCN_CODE"] != "U"].merge(
        rurality[["practice_code", "practice_rurality"]],
        left_on="PRACTICE_CODE",
        right_on="practice_code",
        how="inner",
    )
    rural = frame["TOTAL"].where(frame["practice_rurality"] == "Rural", 0)
    expected = rural.groupby(frame["PCN_CODE"]).sum() / frame.groupby("PCN_CODE")["TOTAL"].sum()
    got = pcns.set_index("pcn_code")["rural_share"]
    assert (got - expected.reindex(got.index)).abs().max() < 1e-6
    band = pd.cut(got, [-1, 0.26, 0.5, 2], right=False, labels=["urban", "mixed", "rural"])
    assert (pcns.set_index("pcn_code")["rurality_band"] == band.astype(str)).all()
    bands = pcns.set_index("pcn_name")["rurality_band"]
    assert bands["DERBYSHIRE DALES PCN"] == "rural" and bands["ASPIRE PCN"] == "urban"


def test_imd_shares_split_each_pcn_by_its_practices_national_quintiles(pcns, practices):
    shares = pcns.set_index("pcn_code")[[f"imd_q{q}_share" for q in range(1, 6)]]
    assert ((shares.sum(axis=1) - 1).abs() < 1e-5).all()
    # Practice quintiles recomputed: member practices ranked by IMD 2019 score (Blackwell, then
    # Fingertips 2019), each in the quintile holding the middle of its list.
    blackwell = pd.read_csv(
        RAW / "practice_imd2019_blackwellrd_2023-01.csv", dtype={"practice_code": str}
    ).set_index("practice_code")["imd_score"]
    members = practices[practices["PCN_CODE"] != "U"].copy()
    members["imd"] = members["PRACTICE_CODE"].map(blackwell)
    scored = members.dropna(subset=["imd"]).sort_values(
        ["imd", "PRACTICE_CODE"], ascending=[False, True]
    )
    middle = scored["TOTAL"].cumsum() - scored["TOTAL"] / 2
    scored["q"] = (5 * middle // scored["TOTAL"].sum()).astype(int).clip(0, 4) + 1
    people = scored.pivot_table(
        index="PCN_CODE", columns="q", values="TOTAL", aggfunc="sum", fill_value=0
    )
    expected = people.div(people.sum(axis=1), axis=0)
    assert (shares.to_numpy() - expected.reindex(shares.index).to_numpy()).max() < 1e-6
    # Nationally each quintile holds a fifth of the people, as it does by whole PCN.
    split = shares.mul(pcns.set_index("pcn_code")["population"], axis=0).sum()
    assert ((split / split.sum() - 0.2).abs() < 0.001).all()


def test_dln_population_in_the_most_deprived_fifth_beside_the_seed(pcns, out_dir):
    dln = pcns[pcns["icb_code"].isin(DLN)]
    q1_split = (dln["population"] * dln["imd_q1_share"]).sum()
    q1_whole = dln.loc[dln["imd_quintile"] == 1, "population"].sum()
    assert round(q1_split) == 581_301  # 18.0% of 3,225,840
    assert q1_whole == 517_265  # 16.0%: each PCN counted in one quintile
    # The seed (L362) counts about 720,000 (22%) by LSOA of residence; the report sets the
    # practice split beside it.
    report = (out_dir / "build_report.md").read_text(encoding="utf-8")
    assert "**581,301 (18.0%)** from the practice split" in report
    assert "720,000" in report and "517,265" in report


def test_activity_baselines_add_up_to_the_totals_they_were_apportioned_from(pcns, practices):
    hes = pd.read_csv(RAW / "icb_hes_apc_2024-25.csv").set_index("icb_code")
    ae = pd.read_csv(RAW / "icb_ae_monthly_2022-2025_healthyr.csv", dtype={"month": str})
    year = ae[(ae["month"] >= "2024-04") & (ae["month"] <= "2025-03")]
    assert year["month"].nunique() == 12
    sitrep = year.groupby("icb_code")[["total_attendances", "total_emergency_admissions"]].sum()
    nel = hes["emergency_admissions"].drop("ENG")
    ed = sitrep["total_attendances"] * nel / sitrep["total_emergency_admissions"]
    op = 113_225_153 - 6_942_301 - 13_591_904  # LICENCE-NOTES section 17, Nursing and AHP out
    assert op == 92_690_948

    # Within an ICB, each practice's share is its weight over the ICB's (unallocated included);
    # the PCNs get the rest of the ICB's total after the unallocated practices' share.
    icb_weight = practices.groupby("ICB_CODE")["weight"].sum()
    member = practices[practices["PCN_CODE"] != "U"]
    member_share = member.groupby("ICB_CODE")["weight"].sum() / icb_weight
    pcn_icb = pcns.set_index("pcn_code")["icb_code"]
    whole = [c for c in nel.index if c not in ("QJK", "QT6")]  # U41591 spans QJK and QT6
    for column, totals in (("baseline_nel", nel), ("baseline_ed", ed)):
        by_icb = pcns.groupby("icb_code")[column].sum()
        expected = totals * member_share
        assert (by_icb[whole] / expected[whole] - 1).abs().max() < 1e-9, column
        assert pcns[column].sum() == pytest.approx(expected.sum(), rel=1e-9)
        assert pcns[column].sum() < totals.sum()  # unallocated practices keep their share
    assert pcns["baseline_op"].sum() == pytest.approx(
        op * member["weight"].sum() / practices["weight"].sum(), rel=1e-9
    )
    assert (pcn_icb.loc[pcns["pcn_code"]].to_numpy() == pcns["icb_code"].to_numpy()).all()
    # Bed days: each PCN's emergency admissions x England's mean length of stay (4.69 days).
    assert hes.at["ENG", "mean_length_of_stay_days"] == 4.69
    assert ((pcns["baseline_bed_days"] - 4.69 * pcns["baseline_nel"]).abs() < 1e-5).all()
    # Within an ICB, admissions per head follow the G&A need index (to within the practice-
    # level weighting): the needier PCN gets more per head.
    qt1 = pcns[pcns["icb_code"] == "QT1"].set_index("pcn_name")
    per_head = qt1["baseline_nel"] / qt1["population"]
    assert per_head[qt1["need_ga_eng"].idxmax()] > 1.5 * per_head[qt1["need_ga_eng"].idxmin()]
    assert (per_head / qt1["need_ga_eng"]).std() / (per_head / qt1["need_ga_eng"]).mean() < 0.01
