"""The only module that reads and writes files.

Tables come from a folder of CSV files or from one Excel workbook with a sheet per table
(the shipped template, `data/template.xlsx`). Everything read is checked against its schema
in `schemas.py`; every problem is collected, none raises on its own.
"""

from __future__ import annotations

import io as _io
import math
import os
import tempfile
import tomllib
import zipfile
from pathlib import Path

import pandas as pd

from .errors import Problems, did_you_mean
from .schemas import Column, TableSchema

MAX_PER_COLUMN = 10  # beyond this many bad rows in one column, the rest are counted
# A workbook is read within a budget, whatever its size on disk (a 0.9 MB .xlsx whose rows
# reach column XFD once took 2.7 GB to read): the largest shipped sheet, England's PCNs, has
# about 1,300 rows x 56 columns; the bounds below are over twenty times any real table.
MAX_SHEET_COLUMNS = 1_000  # columns in a header row
MAX_SHEET_ROWS = 200_000  # rows of data in a sheet
MAX_SHEET_CELLS = 2_000_000  # rows x header columns in a sheet
MAX_WORKBOOK_XML_BYTES = 200 * 1024 * 1024  # the workbook's content once unzipped
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
OLD_FORMATS = {  # file kinds a user may point `model.data` at, that the tool cannot read
    ".xls": "an Excel 97-2003 workbook (.xls)",
    ".xlsb": "an Excel binary workbook (.xlsb)",
    ".ods": "an OpenDocument spreadsheet (.ods)",
    ".csv": "a single CSV file",
}
TRUE_WORDS = {"true", "yes", "1", "y", "t"}
FALSE_WORDS = {"false", "no", "0", "n", "f"}


def read_toml(path: Path, problems: Problems) -> dict | None:
    """Read a model file; a missing file or a syntax error is a problem, not a traceback."""
    where = f"model file {path.name}"
    if not path.exists():
        problems.add(where, "the model file does not exist", f"Check the path {path}")
        return None
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except OSError as err:
        problems.add(where, f"the model file cannot be read ({err.strerror or err})",
                     "Check that it is a file you may read")
        return None
    except UnicodeDecodeError:
        problems.add(where, "the file is not UTF-8 text", "Save it as UTF-8 text")
        return None
    try:
        return tomllib.loads(raw)
    except tomllib.TOMLDecodeError as err:
        problems.add(where, f"the file is not valid TOML: {err}", "Correct the line named")
        return None


def check_data_source(source: Path, problems: Problems) -> bool:
    """The data is a folder of CSV files or one .xlsx workbook; anything else is a problem."""
    if not source.exists():
        problems.add(str(source), "the data folder or workbook does not exist",
                     "Check 'model.data' in the model file")
        return False
    if source.is_dir():
        return True
    if source.suffix.lower() in WORKBOOK_SUFFIXES:
        return _workbook_within_budget(source, problems)
    kind = OLD_FORMATS.get(source.suffix.lower(), f"a '{source.suffix or 'no'}' file")
    problems.add(source.name, f"the data is {kind}, which the tool cannot read",
                 "Open it in Excel and save it as 'Excel Workbook (*.xlsx)', starting from "
                 "data/template.xlsx, or point 'model.data' at a folder of CSV files")
    return False


def _workbook_within_budget(path: Path, problems: Problems) -> bool:
    """A zip archive no larger than the budget once unzipped (checked before any XML is read);
    a file that is not a zip archive is left for openpyxl to refuse in words."""
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return True
    if unzipped > MAX_WORKBOOK_XML_BYTES:
        problems.add(path.name, f"the workbook holds {unzipped / 1024 ** 2:,.0f} MB once "
                     f"unzipped; the most the tool reads is "
                     f"{MAX_WORKBOOK_XML_BYTES / 1024 ** 2:,.0f} MB",
                     "Keep only the sheets of data/template.xlsx, without formatting applied "
                     "to whole rows or columns")
        return False
    return True


def read_raw_table(source: Path, schema: TableSchema, problems: Problems) -> pd.DataFrame | None:
    """Read one table as text cells from a folder of CSVs or a workbook sheet."""
    if source.suffix.lower() in WORKBOOK_SUFFIXES:
        return _read_sheet(source, schema.name, problems)
    return _read_csv(source / f"{schema.name}.csv", problems)


def _read_csv(path: Path, problems: Problems) -> pd.DataFrame | None:
    where = path.name
    if not path.exists():
        problems.add(where, "the file is missing", f"Put {path.name} in {path.parent}")
        return None
    try:
        data = path.read_bytes()
    except OSError as err:
        problems.add(where, f"the file cannot be read ({err.strerror or err})",
                     "Check that it is a file you may read")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        problems.add(
            where,
            f"the file is not UTF-8 text (byte {err.start} cannot be read)",
            "Save it from Excel as 'CSV UTF-8 (Comma delimited)'",
        )
        return None
    if not text.strip():
        problems.add(where, "the file is empty", "Add the header row and at least one row")
        return None
    try:
        frame = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as err:
        problems.add(where, f"the file is not a readable CSV table ({err})", "Check the commas")
        return None
    return frame


def _read_sheet(path: Path, sheet: str, problems: Problems) -> pd.DataFrame | None:
    """One sheet as text cells, read within the budget above (never the whole grid that a
    sheet's stated dimension claims): the header row fixes the width read."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    where = f"{path.name}"
    if not path.exists():
        problems.add(where, "the workbook is missing", f"Check the path {path}")
        return None
    not_a_workbook = ("the file is not a real Excel workbook (.xlsx)",
                      "Save it from Excel as 'Excel Workbook (*.xlsx)', starting from "
                      "data/template.xlsx")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        problems.add(where, *not_a_workbook)
        return None
    try:
        if sheet not in book.sheetnames:
            hint = did_you_mean(sheet, book.sheetnames)
            problems.add(where, f"the sheet '{sheet}' is missing", hint or f"Add a sheet '{sheet}'")
            return None
        rows = _bounded_rows(book[sheet], f"{where}, sheet '{sheet}'", problems)
    except (KeyError, OSError, ValueError, TypeError, zipfile.BadZipFile):
        problems.add(where, *not_a_workbook)
        return None
    finally:
        book.close()
    if rows is None:
        return None
    if not rows:
        problems.add(f"{where}, sheet '{sheet}'", "the sheet is empty",
                     "Add the header row and data")
        return None
    header = [("" if c is None else str(c).strip()) for c in rows[0]]
    body = [[_cell_text(c) for c in r] for r in rows[1:]]
    return pd.DataFrame(body, columns=header, dtype=str)


def _bounded_rows(sheet, where: str, problems: Problems) -> list[tuple] | None:
    """The non-blank rows of a read-only sheet, header first, each as wide as the header;
    None (a problem recorded) when the sheet is larger than the budget."""
    def blank(row) -> bool:
        return all(c is None or str(c).strip() == "" for c in row)

    header, header_row = None, 0
    for number, row in enumerate(sheet.iter_rows(max_col=MAX_SHEET_COLUMNS + 1,
                                                 values_only=True), start=1):
        if not blank(row):
            header, header_row = row, number
            break
    if header is None:
        return []
    if len(header) > MAX_SHEET_COLUMNS and not blank(header[MAX_SHEET_COLUMNS:]):
        problems.add(where, f"the header row has more than {MAX_SHEET_COLUMNS:,} columns",
                     "Keep the columns of data/template.xlsx")
        return None
    width = max(j for j, c in enumerate(header) if not blank((c,))) + 1
    most = min(MAX_SHEET_ROWS, MAX_SHEET_CELLS // width)
    rows: list[tuple] = [header[:width]]
    for row in sheet.iter_rows(min_row=header_row + 1, max_col=width, values_only=True):
        if blank(row):
            continue
        if len(rows) > most:
            problems.add(where, f"the sheet has more than {most:,} rows of {width} columns; "
                         f"the most the tool reads is {MAX_SHEET_CELLS:,} cells and "
                         f"{MAX_SHEET_ROWS:,} rows a sheet",
                         "Keep only the rows of the PCNs and interventions you model")
            return None
        rows.append(tuple(row) + (None,) * (width - len(row)))
    return rows


def _cell_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def coerce_table(
    frame: pd.DataFrame, schema: TableSchema, where: str, problems: Problems
) -> pd.DataFrame | None:
    """Check columns and every value against the schema; return typed columns or None."""
    start = len(problems.items)
    frame = frame.rename(columns=lambda c: str(c).strip())
    known = [c.name for c in schema.columns]
    present = list(frame.columns)
    missing = [c.name for c in schema.columns if c.required and c.name not in present]
    unknown = [c for c in present if schema.column(c) is None]
    for name in missing:
        hint = did_you_mean(name, unknown)
        problems.add(where, f"the column '{name}' is missing", hint or f"Add a column '{name}'",
                     column=name)
    for name in unknown:
        if name == "" or name.startswith("Unnamed"):
            problems.add(where, "a column has no header", "Name it or delete it")
            continue
        hint = did_you_mean(name, known)
        problems.add(where, f"the column '{name}' is not one the tool knows",
                     hint or "Remove it, or check its spelling against data/README.md",
                     column=name)
    duplicated = sorted({c for c in present if present.count(c) > 1})
    for name in duplicated:
        problems.add(where, f"the column '{name}' appears more than once", "Keep one", column=name)
    if duplicated:
        return None
    if frame.empty:
        problems.add(where, "the table has a header but no rows", "Add at least one row")
        return None

    typed: dict[str, pd.Series] = {}
    for name in present:
        spec = schema.column(name)
        if spec is None:
            continue
        typed[name] = _coerce_column(frame[name], spec, name, where, problems)

    keys = (schema.key,) if isinstance(schema.key, str) else schema.key
    if all(k in typed for k in keys):
        key_frame = pd.DataFrame({k: typed[k] for k in keys})
        dup = key_frame.duplicated(keep="first")
        for pos in dup[dup].index[:MAX_PER_COLUMN]:
            value = " / ".join(str(key_frame.at[pos, k]) for k in keys)
            problems.add(where, f"the id {value!r} appears more than once",
                         "Each id must be unique: remove or rename the repeat",
                         row=int(pos) + 2, column=" + ".join(keys))
    if len(problems.items) > start:
        return None
    return pd.DataFrame(typed)


def _coerce_column(
    text: pd.Series, spec: Column, name: str, where: str, problems: Problems
) -> pd.Series:
    values = text.astype(str).str.strip()
    bad: list[tuple[int, str, str]] = []  # (row position, value, what is wrong)
    out: list[object] = []
    for pos, raw in enumerate(values):
        value, wrong = _parse(raw, spec)
        if wrong:
            bad.append((pos, raw, wrong))
        out.append(value)
    for pos, raw, wrong in bad[:MAX_PER_COLUMN]:
        problems.add(where, wrong, _fix_for(spec), row=pos + 2, column=name, value=raw)
    if len(bad) > MAX_PER_COLUMN:
        problems.add(where, f"{len(bad) - MAX_PER_COLUMN} more rows have the same problem",
                     _fix_for(spec), column=name)
    if spec.kind == "text":
        return pd.Series(out, index=text.index, dtype=object)
    if spec.kind == "bool":
        return pd.Series(out, index=text.index, dtype=bool)
    return pd.Series(out, index=text.index, dtype=float)


def _parse(raw: str, spec: Column) -> tuple[object, str]:
    """Parse one cell: (value, '') or (placeholder, what is wrong)."""
    if raw == "" or raw.lower() in ("nan", "na", "n/a", "none", "null"):
        if spec.kind == "text" and (spec.may_be_blank or not spec.required):
            return "", ""
        if spec.may_be_blank:  # a number that may be left out: blank means not known
            return math.nan, ""
        if spec.kind == "text":
            return "", "the value is blank"
        if spec.kind == "bool":
            return False, "the value is blank"
        return math.nan, "the value is blank or not a number"
    if spec.kind == "text":
        if spec.choices and raw not in spec.choices:
            hint = did_you_mean(raw, spec.choices)
            return raw, "the value is not one of the allowed codes" + (f" ({hint})" if hint else "")
        return raw, ""
    if spec.kind == "bool":
        low = raw.lower()
        if low in TRUE_WORDS:
            return True, ""
        if low in FALSE_WORDS:
            return False, ""
        return False, "the value is not true or false"
    try:
        number = float(raw.replace(",", "").replace("£", ""))
    except ValueError:
        return math.nan, "the value is not a number"
    if not math.isfinite(number):
        return math.nan, "the value is not a finite number"
    if spec.kind == "int" and not float(number).is_integer():
        return number, "the value must be a whole number"
    if spec.positive and number <= 0:
        return number, "the value must be greater than zero"
    if spec.minimum is not None and number < spec.minimum:
        return number, f"the value is below the minimum of {spec.minimum:g}"
    if spec.maximum is not None and number > spec.maximum:
        return number, f"the value is above the maximum of {spec.maximum:g}"
    return number, ""


def _fix_for(spec: Column) -> str:
    if spec.choices:
        shown = ", ".join(spec.choices[:8]) + (", ..." if len(spec.choices) > 8 else "")
        return f"Use one of: {shown}"
    if spec.kind == "bool":
        return "Write true or false"
    if spec.kind == "text":
        return "Fill it in"
    rule = []
    if spec.positive:
        rule.append("greater than zero")
    if spec.minimum is not None and not spec.positive:
        rule.append(f"at least {spec.minimum:g}")
    if spec.maximum is not None:
        rule.append(f"at most {spec.maximum:g}")
    what = "a whole number" if spec.kind == "int" else "a number"
    unit = f" in {spec.unit}" if spec.unit else ""
    return f"Enter {what}{unit}" + (f", {' and '.join(rule)}" if rule else "")


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a killed run never leaves half a file in its place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV text that is the same byte for byte for the same table, safe to open in Excel."""
    fast = _csv_from_arrays(frame)
    return fast if fast is not None else csv_through_pandas(frame)


def csv_through_pandas(frame: pd.DataFrame) -> bytes:
    """`csv_bytes` by pandas' `to_csv` (any table; the reference the fast path matches)."""
    safe = frame.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(neutralise_formula)
    return safe.to_csv(index=False, lineterminator="\n", float_format="%.10g").encode("utf-8")


def _csv_from_arrays(frame: pd.DataFrame) -> bytes | None:
    """`csv_bytes` written column by column from the arrays (float, integer, bool and text
    columns), the same bytes as pandas' `to_csv` writes; None for any other table (pandas
    writes it). DLN's allocation.csv: 0.27 s through pandas, about a tenth of that here."""
    import csv

    if len(frame.columns) < 2 or frame.columns.duplicated().any() or isinstance(
            frame.columns, pd.MultiIndex):
        return None
    columns = []
    for name in frame.columns:
        series = frame[name]
        dtype = series.dtype
        if dtype == "float64":
            columns.append(["" if v != v else format(v, ".10g") for v in series.tolist()])
        elif dtype == "int64" or dtype == "bool":
            columns.append([str(v) for v in series.tolist()])
        elif pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            values = series.tolist()
            if not all(isinstance(v, str) or (isinstance(v, float) and v != v)
                       for v in values):
                return None
            safe = {v: neutralise_formula(v) if isinstance(v, str) else ""
                    for v in set(values) if v == v}
            columns.append([safe[v] if v == v else "" for v in values])
        else:
            return None
    buffer = _io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([str(c) for c in frame.columns])
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue().encode("utf-8")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: object) -> object:
    """Text that a spreadsheet would run as a formula is kept literal by a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        try:
            float(value)
            return value  # a negative number written as text stays a number
        except ValueError:
            return "'" + value
    return value


def write_workbook(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table, the layout `read_raw_table` reads back (the upload template)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(tmp, {"strings_to_formulas": False, "strings_to_urls": False,
                                         "nan_inf_to_errors": True})
        book.set_properties({"title": "Allocation optimiser input template"})
        bold = book.add_format({"bold": True, "bg_color": "#DCE6F2"})
        for name, frame in tables.items():
            sheet = book.add_worksheet(name)
            sheet.write_row(0, 0, list(frame.columns), bold)
            for r, row in enumerate(frame.itertuples(index=False), start=1):
                for c, value in enumerate(row):
                    if isinstance(value, float) and math.isnan(value):
                        continue
                    if isinstance(value, str):
                        number = _as_number(value)
                        if number is None:
                            sheet.write_string(r, c, value)
                        else:
                            sheet.write_number(r, c, number)
                    else:
                        sheet.write(r, c, value)
            sheet.freeze_panes(1, 0)
            sheet.set_column(0, len(frame.columns) - 1, 16)
        book.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _as_number(text: str) -> float | None:
    """A number written as text, or None (codes with leading zeros stay text)."""
    if not text or (text.startswith("0") and len(text) > 1 and text[1] != "."):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def write_model(path: Path, write) -> None:
    """A file that a writer makes from a path (HiGHS's MPS and LP writers), whole or not at
    all: written under a temporary name with the same extension, then renamed; a writer that
    left nothing is an OSError, never "Wrote ..." over an empty or missing file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        if os.path.getsize(tmp) == 0:
            raise OSError(f"the solver wrote nothing to {path.name}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- a cache of the typed tables, keyed by the digest of the files they come from ------------
#
# Reading and checking the tables cell by cell is most of a small model's load (DLN: 0.5 s of
# a 0.6 s load). The typed tables are kept in a cache folder under a key made of the input
# files' bytes and this module's and the schemas' code; a cache file is used only when its
# header carries that key and the sha256 of its payload matches (a stale, truncated or
# corrupted file is read afresh and replaced), and only clean tables are ever cached, so a
# problem in the data is always reported from the files themselves.

CACHE_ENV = "OPTIMISER_CACHE_DIR"  # a folder, or "off" for no cache
CACHE_MAGIC = b"pu-allocation-optimiser tables 1\n"


def cache_folder() -> Path | None:
    """Where the cache lives: $OPTIMISER_CACHE_DIR ("off": none), else the user cache dir."""
    where = os.environ.get(CACHE_ENV)
    if where is not None:
        return None if where.strip().lower() in ("", "off", "0", "none", "false") \
            else Path(where)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pu-allocation-optimiser"


def tables_key(source: Path, names: list[str], code: list[str]) -> str | None:
    """sha256 of the files a source's tables are read from (a folder's `names`.csv or the
    one workbook) and of the code that reads them; None when a file cannot be read (then
    the tables are read the usual way, which says what is wrong)."""
    import hashlib

    digest = hashlib.sha256(CACHE_MAGIC)
    try:
        for module in code:
            digest.update(Path(module).read_bytes())
        import pandas  # a table pickled by one pandas is read by the same one

        digest.update(pandas.__version__.encode())
        files = [source] if source.is_file() else [source / f"{n}.csv" for n in names]
        for path in files:
            data = path.read_bytes()
            digest.update(f"{path.name}\0{len(data)}\0".encode())
            digest.update(data)
    except OSError:
        return None
    return digest.hexdigest()


def read_cached(key: str):
    """The object cached under `key`, or None when there is none or it cannot be trusted."""
    import hashlib
    import pickle

    folder = cache_folder()
    if folder is None:
        return None
    try:
        data = (folder / f"tables-{key[:40]}.pickle").read_bytes()
    except OSError:
        return None
    head = len(CACHE_MAGIC)
    if data[:head] != CACHE_MAGIC or data[head:head + 64] != key.encode() \
            or data[head + 64:head + 65] != b"\n":
        return None
    stored, payload = data[head + 65:head + 129], data[head + 130:]
    if hashlib.sha256(payload).hexdigest().encode() != stored:
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - an unreadable cache is rebuilt, never trusted
        return None


def write_cached(key: str, value) -> None:
    """Cache `value` under `key`, whole or not at all; a cache that cannot be written is
    skipped (the run goes on)."""
    import hashlib
    import pickle

    folder = cache_folder()
    if folder is None:
        return
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    data = (CACHE_MAGIC + key.encode() + b"\n" + hashlib.sha256(payload).hexdigest().encode()
            + b"\n" + payload)
    try:
        write_atomic(folder / f"tables-{key[:40]}.pickle", data)
    except OSError:
        pass
