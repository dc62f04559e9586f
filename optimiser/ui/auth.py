"""Who may use the app, and as what: the sign-in gate at the top of every page.

Three ways the app can be served (docs/app.md, "Serving the app to a workshop"):

* **On this computer only** (`server.address = "127.0.0.1"`, the default in
  .streamlit/config.toml) with no sign-in set up: whoever sits at the machine is the
  facilitator.
* **Signed in with the organisation's identity provider** through OpenID Connect
  (Streamlit's `st.login`; NHS organisations use Microsoft Entra ID), set in the `[auth]`
  section of `.streamlit/secrets.toml`.
* **A workshop passcode** for a room without one: `python -m optimiser passcode` prints the
  salted scrypt hash to put in the `[workshop]` section (passcode.py); people give their name
  and the passcode. Names are taken on trust among the people in the room who know the
  passcode; for identities that are checked, use the identity provider.

When the app is served to a network (any `server.address` that is not loopback) and neither
sign-in is set up, nothing but a page saying so is served.

Roles: a **facilitator** saves, overwrites and deletes any scenario; a **viewer** explores
every setting and saves scenarios under their own name, and may overwrite or delete only
those (store.py enforces this too). A facilitator is someone who signed in with the
facilitator passcode, whose e-mail is listed in `workshop.facilitators`, or whose identity
token carries the app role named by `workshop.facilitator_role` (default "Facilitator": an
Entra ID app role); everyone else who signs in is a viewer.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from .passcode import BadHash, check_passcode
from .safe import md

FACILITATOR, VIEWER = "facilitator", "viewer"
PASSCODE_VARIABLES = {FACILITATOR: "OPTIMISER_FACILITATOR_PASSCODE_HASH",
                      VIEWER: "OPTIMISER_VIEWER_PASSCODE_HASH"}
PROVIDER_LABELS = {"microsoft": "Microsoft (NHSmail or your ICB account)",
                   "default": "your organisation's account"}
FAILED_WAIT_SECONDS = 1.0  # after a wrong passcode: slows guessing through one session
NAME_LIMIT = 60


@dataclass(frozen=True)
class User:
    """The person using this browser session."""

    name: str  # shown on screen
    key: str | None  # recorded as a scenario's owner (None: the one person at this computer)
    role: str
    how: str  # "local", "oidc" or "passcode"

    @property
    def facilitator(self) -> bool:
        return self.role == FACILITATOR

    def may_change(self, owner: str | None) -> bool:
        """Whether this person may overwrite or delete a scenario saved by `owner`."""
        return self.facilitator or (owner is not None and owner == self.key)


LOCAL = User("You (this computer)", None, FACILITATOR, "local")


@dataclass(frozen=True)
class Settings:
    """What secrets.toml (and the environment) set up for signing in."""

    providers: tuple[str, ...]  # OpenID Connect providers: "default" or [auth.NAME] sections
    passcodes: Mapping[str, str]  # role -> stored hash
    facilitators: frozenset[str]  # e-mail addresses, lower case
    facilitator_role: str
    allowed_domains: tuple[str, ...]
    labels: Mapping[str, str]

    @property
    def any(self) -> bool:
        return bool(self.providers or self.passcodes)


# ---- settings ---------------------------------------------------------------------------------


def _secrets() -> dict:
    try:
        return st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}
    except Exception:  # noqa: BLE001 - an unreadable secrets file is no sign-in at all
        return {}


def oidc_providers(auth: Mapping) -> tuple[str, ...]:
    """The providers an `[auth]` section sets up (none without redirect_uri and cookie_secret)."""
    if not isinstance(auth, Mapping) or not auth.get("redirect_uri") \
            or not auth.get("cookie_secret"):
        return ()
    named = tuple(name for name, value in auth.items()
                  if isinstance(value, Mapping) and value.get("client_id"))
    default = ("default",) if auth.get("client_id") and auth.get("server_metadata_url") else ()
    return default + named


def read_settings(secrets: Mapping, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    workshop = secrets.get("workshop") or {}
    if not isinstance(workshop, Mapping):
        workshop = {}
    passcodes = {}
    for role, variable in PASSCODE_VARIABLES.items():
        stored = environ.get(variable) or workshop.get(f"{role}_passcode_hash")
        if stored:
            passcodes[role] = str(stored)
    labels = workshop.get("provider_labels") or {}
    return Settings(
        providers=oidc_providers(secrets.get("auth") or {}),
        passcodes=passcodes,
        facilitators=frozenset(str(e).strip().lower() for e in
                               workshop.get("facilitators") or ()),
        facilitator_role=str(workshop.get("facilitator_role") or "Facilitator"),
        allowed_domains=tuple(str(d).strip().lower().lstrip("@") for d in
                              workshop.get("allowed_domains") or ()),
        labels={**PROVIDER_LABELS, **(labels if isinstance(labels, Mapping) else {})},
    )


def server_address() -> str:
    return str(st.get_option("server.address") or "")


def is_loopback(address: str) -> bool:
    """Whether the server listens on this computer only (an empty address means every
    interface)."""
    address = address.strip().strip("[]")
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


# ---- the gate -----------------------------------------------------------------------------------


def gate() -> User | None:
    """The signed-in user, or None after drawing the sign-in (or refusal) page."""
    settings = read_settings(_secrets())
    address = server_address()
    if not settings.any:
        if is_loopback(address):
            return _remember(LOCAL)
        refuse(address)
        return None
    ss = st.session_state
    user = ss.get("passcode_user")
    if user is None and settings.providers and _signed_in_oidc():
        user = oidc_user(dict(st.user.to_dict()), settings)
        if user is None:
            not_allowed(settings)
            return None
    if user is None:
        sign_in_page(settings)
        return None
    return _remember(user)


def _remember(user: User) -> User:
    st.session_state["user"] = user
    return user


def current_user() -> User:
    """The user of this session (set by `gate` on every run)."""
    return st.session_state.get("user") or LOCAL


def _signed_in_oidc() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:  # noqa: BLE001 - no identity cookie support: not signed in
        return False


def oidc_user(claims: Mapping, settings: Settings) -> User | None:
    """The user an identity token describes, or None when their domain is not allowed."""
    email = str(claims.get("email") or claims.get("preferred_username") or "").strip().lower()
    key = email or str(claims.get("sub") or "")
    if not key:
        return None
    if settings.allowed_domains and email.rsplit("@", 1)[-1] not in settings.allowed_domains:
        return None
    roles = claims.get("roles") or ()
    roles = [roles] if isinstance(roles, str) else list(roles)
    facilitator = email in settings.facilitators or any(
        str(r).lower() == settings.facilitator_role.lower() for r in roles)
    name = str(claims.get("name") or email or key)[:NAME_LIMIT]
    return User(name, key, FACILITATOR if facilitator else VIEWER, "oidc")


# ---- pages ---------------------------------------------------------------------------------------


def _heading() -> None:
    st.title("Where the money goes, and what equity costs")


def refuse(address: str) -> None:
    _heading()
    where = md(address) if address else "every network interface"
    st.error(
        f"This app is being served to the network (server address '{where}'), but no sign-in "
        "is set up, so it shows nothing. Either serve it on this "
        "computer only (server.address = \"127.0.0.1\" in .streamlit/config.toml, the "
        "default), or set up sign-in in .streamlit/secrets.toml: your organisation's identity "
        "provider (Microsoft Entra ID for NHS organisations) or a workshop passcode made with "
        "`python -m optimiser passcode`. docs/app.md, 'Serving the app to a workshop', says how.")


def not_allowed(settings: Settings) -> None:
    _heading()
    domains = ", ".join(settings.allowed_domains)
    st.error(f"Your account is not one this app accepts (accounts ending {md(domains)}). Sign "
             "out and sign in with your work account.")
    st.button("Sign out", key="sign_out", on_click=st.logout)


def sign_in_page(settings: Settings) -> None:
    _heading()
    st.info("Sign in to use the allocation app.")
    for provider in settings.providers:
        label = settings.labels.get(provider, provider.capitalize())
        if st.button(f"Sign in with {label}", key=f"sign_in_{provider}", type="primary"):
            st.login(provider)
    if settings.passcodes:
        passcode_form(settings)


def passcode_form(settings: Settings) -> None:
    with st.form("passcode_form"):
        st.subheader("Sign in with the workshop passcode", anchor=False)
        name = st.text_input("Your name (as others will see it on saved scenarios)",
                             max_chars=NAME_LIMIT, key="sign_in_name")
        passcode = st.text_input("Workshop passcode", type="password", key="sign_in_passcode")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    name = " ".join(str(name).split())
    if not name or "@" in name:
        st.error("Give your name (not an e-mail address).")
        return
    try:
        role = passcode_role(passcode, settings)
    except BadHash as err:
        st.error(f"Sign-in by passcode is not set up correctly: {md(err)}")
        return
    if role is None:
        time.sleep(FAILED_WAIT_SECONDS)
        st.error("That passcode is not right. Ask the facilitator for it.")
        return
    st.session_state["passcode_user"] = User(name, name, role, "passcode")
    st.session_state.pop("sign_in_passcode", None)
    st.rerun()


def passcode_role(passcode: str, settings: Settings) -> str | None:
    """The role whose passcode this is (facilitator first), or None."""
    for role in (FACILITATOR, VIEWER):
        stored = settings.passcodes.get(role)
        if stored and check_passcode(passcode, stored):
            return role
    return None


def _sign_out() -> None:
    user = st.session_state.pop("passcode_user", None)
    st.session_state.pop("user", None)
    if user is None:
        st.logout()


def account(user: User) -> None:
    """Who is signed in, and a way out (in the sidebar)."""
    if user.how == "local":
        return
    st.caption(f"Signed in as **{md(user.name)}** ({user.role}).")
    st.button("Sign out", key="sign_out", on_click=_sign_out)
