"""The settings in the page address: a refresh or a shared link opens the same settings.

The changed settings (relative to the model file, as the session holds them) and the ICBs,
when they are not the model's own, are written as JSON, compressed (zlib) and base64url-coded
into one parameter, `?s=...`, after every run; the base model has no parameter. Presenter
mode keeps its own (`?present=1`, present.py).

On a session's first run the parameter is read back and checked like an uploaded file: its
length, its compressed and decompressed size, its JSON shape (store.changes_from_json), the
ICB codes, and the settings themselves (`ModelInputs.with_policy`). An address that fails any
of these (typed by hand, cut short, from an older version of the model) is said in words and
the page opens on the model file's settings; it never raises.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib

import streamlit as st

from ..errors import InputError
from . import state
from .store import BadScenario, changes_from_json, changes_to_json

PARAM = "s"
VERSION = 1
MAX_CHARS = 8_000  # longer than any settings the sidebar can make, compressed
MAX_JSON_BYTES = 200_000


class AddressError(ValueError):
    """Settings in the page address that cannot be used, with the reason in words."""


def encode(icbs, changes: dict, model_icbs) -> str | None:
    """The parameter's text for these settings; None for the model file's own."""
    payload: dict = {"v": VERSION}
    if sorted(icbs) != sorted(model_icbs):
        payload["i"] = sorted(icbs)
    if changes:
        payload["c"] = changes_to_json(changes)
    if len(payload) == 1:
        return None
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=float)
    return base64.urlsafe_b64encode(zlib.compress(raw.encode(), 9)).decode().rstrip("=")


def decode(token: str) -> tuple[list[str] | None, dict]:
    """(ICB codes or None for the model's own, changes) from the parameter, or AddressError."""
    if len(token) > MAX_CHARS:
        raise AddressError(f"it is {len(token):,} characters long, more than settings need")
    try:
        packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        inflate = zlib.decompressobj()
        raw = inflate.decompress(packed, MAX_JSON_BYTES)
        if inflate.unconsumed_tail:
            raise AddressError("it unpacks to more than settings can be")
        payload = json.loads(raw.decode())
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError, RecursionError) as err:
        if isinstance(err, AddressError):
            raise
        raise AddressError("it is cut short or was changed by hand, so it cannot be read") \
            from None
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise AddressError("it was written by another version of the app")
    icbs = payload.get("i")
    if icbs is not None and (not isinstance(icbs, list) or not icbs
                             or not all(isinstance(c, str) for c in icbs)):
        raise AddressError("its ICBs are not a list of ICB codes")
    try:
        changes, ignored = changes_from_json(payload.get("c", {}), "the page address")
    except BadScenario as err:
        raise AddressError(err.reason) from None
    if ignored:
        raise AddressError(f"it names settings this version does not know ({', '.join(ignored)})")
    return icbs, changes


def restore(app: state.App) -> None:
    """On the session's first run: put the settings in the page address into the session."""
    ss = st.session_state
    if ss.get("address_read"):
        return
    ss["address_read"] = True
    token = st.query_params.get(PARAM)
    if not token:
        return
    try:
        icbs, changes = decode(token)
        icbs = list(icbs or app.default_icbs)
        unknown = sorted(set(icbs) - set(app.icb_table.index))
        if unknown:
            raise AddressError(f"it names ICBs that are not in the data ({', '.join(unknown)})")
        state.compare_inputs(app, tuple(icbs), changes)  # every setting checked
    except AddressError as err:
        _refuse(str(err))
        return
    except InputError as err:
        _refuse("its settings cannot be used: " + "; ".join(str(p) for p in err.problems))
        return
    except Exception:  # noqa: BLE001 - a hostile address never reaches the page as a traceback
        _refuse("its settings cannot be read")
        return
    ss["icbs"] = icbs
    state.set_changes(changes)
    state.flash("info", "Opened with the settings in the page address.")


def _refuse(reason: str) -> None:
    st.query_params.pop(PARAM, None)
    state.flash("warning", f"The settings in the page address could not be used ({reason}). "
                           "The page opened on the model file's settings instead.")


def write(app: state.App) -> None:
    """After the settings settle in a run: keep the page address in step with them."""
    ss = st.session_state
    token = encode(ss["icbs"], ss["changes"], app.default_icbs)
    if token is None:
        if PARAM in st.query_params:
            st.query_params.pop(PARAM, None)
    elif st.query_params.get(PARAM) != token:
        st.query_params[PARAM] = token
