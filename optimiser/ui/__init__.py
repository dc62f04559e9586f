"""The Streamlit front end's helpers: the only package that imports Streamlit.

controls.py  sidebar widgets; an edit folds into the session's policy changes
views.py     status, headline tiles, the PCN table, shadow prices
charts.py    the Plotly charts (quintiles, higher need, heatmap, offline map, frontier)
tables.py    tables shaped for the views (pandas only)
state.py     cached data and base model, one warm Solver per browser session
scenarios.py the Scenarios tab (save, load, compare) over store.py
store.py     the scenario store (SQLAlchemy; SQLite beside the app by default)
upload.py    checking an uploaded workbook; files.py the Data and downloads tab
glossary.py  the tooltips: plain meanings of PCN, IMD quintile, WTE, QALY, shadow price...
auth.py      the sign-in gate (OpenID Connect or a workshop passcode) and the roles
passcode.py  the passcode's salted scrypt hash (python -m optimiser passcode)
safe.py      text people typed, escaped before anything renders it as markdown
jobs.py      long actions in worker threads: estimates, progress, cancelling HiGHS
tasks.py     what the long actions do (the plan, a relaxation, the frontier...), in steps
background.py  starting jobs from the page, their progress bar and Cancel button
history.py   undo and redo: a bounded history of the session's settings
address.py   the settings in the page address (?s=), checked on read
reach.py     beside the equity sliders: how far they go with every rule met (optimiser/ranges.py)
why.py       the "What changed and why" panel (optimiser/movement.py)
inverse.py   the "What would it take?" tab: the inverse questions (optimiser/target.py)
"""
