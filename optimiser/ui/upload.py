"""Upload your own data: an Excel workbook following the template, checked before it is used.

`check_workbook` (no Streamlit) reads the workbook with `optimiser.inputs.read_tables` and
cross-checks it with `build_inputs` under the model's policy, returning every problem in
words; nothing in a bad file can crash the app. `upload_section` draws the uploader, lists
the problems with `st.error`, and switches the session to the new data on request.

Streamlit refuses files above `server.maxUploadSize` (.streamlit/config.toml) on its own;
the size is checked here too, so the limit is explained in words a finance lead understands.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from ..errors import InputError, Problems
from ..inputs import build_inputs, read_tables
from ..policy import Policy
from . import state
from .safe import markup, md

DEFAULT_LIMIT_MB = 10


@dataclass
class Checked:
    """What a workbook check found."""

    name: str
    problems: list[str] = field(default_factory=list)
    tables: dict | None = field(default=None, repr=False)
    icbs: tuple[str, ...] = ()
    summary: str = ""
    key: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and self.tables is not None


def limit_mb() -> float:
    """The upload limit in MB, as set in .streamlit/config.toml."""
    try:
        return float(st.get_option("server.maxUploadSize"))
    except Exception:  # noqa: BLE001 - outside a Streamlit server the default applies
        return float(DEFAULT_LIMIT_MB)


def too_big(size_bytes: int, limit: float) -> str:
    """The refusal in words, or "" when the file is small enough."""
    if size_bytes <= limit * 1024 * 1024:
        return ""
    return (f"The file is {size_bytes / 1024 / 1024:,.1f} MB; the largest file the app accepts "
            f"is {limit:g} MB. Remove the rows for ICBs you do not need (the pcns and "
            "higher_need sheets), or ask whoever runs the app to raise server.maxUploadSize in "
            ".streamlit/config.toml.")


def check_workbook(data: bytes, name: str, policy: Policy,
                   limit: float = DEFAULT_LIMIT_MB) -> Checked:
    """Read and cross-check an uploaded workbook; every problem is returned, none raised."""
    checked = Checked(name, key=hashlib.sha256(data).hexdigest()[:16])
    refusal = too_big(len(data), limit)
    if refusal:
        checked.problems.append(refusal)
        return checked
    if not name.lower().endswith((".xlsx", ".xlsm")):
        checked.problems.append(f"{name}: the file is not an Excel workbook (.xlsx). Start from "
                                "the template and save it as 'Excel Workbook (*.xlsx)'.")
        return checked
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.xlsx"
        path.write_bytes(data)
        problems = Problems()
        try:
            tables = read_tables(path, problems)
            if problems:
                raise InputError(problems.items)
            shown = markup_problems(tables, name)
            if shown:
                raise InputError(shown)
            icbs_in_data = sorted(set(tables["pcns"]["icb_code"]))
            icbs = [i for i in policy.icbs if i in icbs_in_data] or icbs_in_data[:1]
            inputs = build_inputs(dataclasses.replace(policy, icbs=tuple(icbs)), path,
                                  Problems(), tables=tables)
        except InputError as err:
            checked.problems = [str(p).replace("upload.xlsx", name) for p in err.problems]
            return checked
        except Exception as err:  # noqa: BLE001 - a file we cannot read must not crash the app
            checked.problems = [f"{name}: the workbook could not be read ({type(err).__name__}). "
                                "Start from the template and keep its sheet and column names."]
            return checked
    checked.tables, checked.icbs = tables, tuple(icbs)
    checked.summary = (f"{name}: {len(tables['pcns']):,} PCNs in {len(icbs_in_data)} ICB(s), "
                       f"{len(tables['interventions'])} interventions. It will open on "
                       f"{', '.join(icbs)} ({len(inputs.pcns)} PCNs).")
    return checked


def shown_columns(table) -> list[str]:
    """The columns of a table whose values the app shows as names: codes and names."""
    return [c for c in table.columns
            if c == "name" or c == "staff_group" or str(c).endswith(("_name", "_code", "_id"))]


def markup_problems(tables: dict, file_name: str) -> list[str]:
    """Names that could carry a link, an image or HTML onto the screen (safe.py): each is
    listed, up to five per column, with what to change."""
    problems = []
    for sheet, table in tables.items():
        for column in shown_columns(table):
            values = table[column].astype(str).tolist()
            found = [(row, v) for row, v in enumerate(values) if markup(v)]
            for row, value in found[:5]:
                problems.append(
                    f"{file_name}, sheet '{sheet}', row {row + 2}, column '{column}': "
                    f"'{value[:60]}' holds '{markup(value)}'. Names may not contain square or "
                    "angle brackets, backticks or web addresses, because they are shown on "
                    "screen and in charts: remove it.")
            if len(found) > 5:
                problems.append(f"{file_name}, sheet '{sheet}', column '{column}': "
                                f"{len(found) - 5} more names like these.")
    return problems


def _use(checked: Checked) -> None:
    ss = st.session_state
    ss["data"] = {"name": checked.name, "tables": checked.tables, "key": checked.key}
    ss["icbs"] = list(checked.icbs)
    changes = {k: v for k, v in ss["changes"].items() if k not in state.AREA_FIELDS}
    state.set_changes(changes)
    state.flash("success", f"Now using {md(checked.name)}.")


def _shipped() -> None:
    ss = st.session_state
    ss.pop("data", None)
    ss["icbs"] = list(ss.get("default_icbs", ss["icbs"]))
    state.set_changes({k: v for k, v in ss["changes"].items() if k not in state.AREA_FIELDS})
    state.flash("info", "Back to the shipped data.")


def upload_section(app: state.App) -> None:
    ss = st.session_state
    limit = limit_mb()
    st.subheader("Use your own data", anchor=False)
    template = app.app_dir / "data" / "template.xlsx"
    st.download_button("Download the template (Excel)", data=template.read_bytes,
                       file_name="template.xlsx", key="download_template",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       help="The shipped tables as one workbook, a sheet per table. Change "
                            "the figures for your area and upload it here.")
    upload = st.file_uploader(f"Upload a workbook (.xlsx, up to {limit:g} MB)", type=["xlsx"],
                              key="upload", help="A workbook following the template.")
    st.caption(f"Files larger than {limit:g} MB are refused.")
    if ss.get("data"):
        st.info(f"Using {md(ss['data']['name'])}.")
        st.button("Back to the shipped data", key="use_shipped", on_click=_shipped)
    if upload is None:
        return
    refusal = too_big(upload.size, limit)
    if refusal:
        st.error(refusal)
        return
    cache = ss.get("upload_checked")
    if cache is None or cache[0] != upload.file_id:
        with st.spinner(f"Checking {md(upload.name)}…"):
            base = state.base_model(app)
            checked = check_workbook(upload.getvalue(), upload.name, base.policy, limit)
        ss["upload_checked"] = (upload.file_id, checked)
    checked = ss["upload_checked"][1]
    if not checked.ok:
        count = len(checked.problems)
        listed = "\n".join(f"- {md(p)}" for p in checked.problems)
        st.error(f"**{count} problem{'s' if count != 1 else ''} in {md(checked.name)}, so it "
                 f"was not used:**\n\n{listed}")
        return
    st.success(md(checked.summary))
    st.button("Use this data", key="use_upload", type="primary", on_click=_use, args=(checked,))
