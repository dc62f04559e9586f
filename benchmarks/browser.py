"""Browser benchmark: time from a changed weight to the updated result on screen, at DLN scale.

Serves app.py on 127.0.0.1, opens it in Debian's Chromium (Playwright), and moves the
"value of a QALY" slider one step at a time (alternately up and down, so every move is a real
change), timing from the key press to the moment the page has finished drawing the new
result (the solve counter at the foot of the page shows the new solve, and the headline tiles
are filled). Reports the median of 20 (after 2 warm-up moves) and writes
benchmarks/browser_results.md.

    .venv/bin/python benchmarks/browser.py [--moves 20] [--slider qaly_gbp]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import browser_support as b  # noqa: E402

RESULTS = ROOT / "benchmarks" / "browser_results.md"
TARGET_SECONDS = 1.0


def measure(moves: int, slider: str, warmup: int = 2) -> dict:
    load_before = os.getloadavg()[0]
    reason = b.missing()
    if reason:
        raise SystemExit(f"Cannot run the browser benchmark: {reason}")
    with tempfile.TemporaryDirectory() as folder:
        store = f"sqlite:///{Path(folder) / 'scenarios.db'}"
        log = Path(folder) / "streamlit.log"
        with b.served_app(store, log) as url, b.chromium() as browser:
            started = time.perf_counter()
            page = b.open_app(browser, url)
            first_load = time.perf_counter() - started
            times, server = [], []
            for i in range(warmup + moves):
                number = b.solve_number(page)
                start = time.perf_counter()
                b.nudge_slider(page, slider, 1 if i % 2 == 0 else -1)
                b.wait_for_result(page, number + 1)
                elapsed = time.perf_counter() - start
                note = page.locator(".st-key-solve_info").inner_text()
                if i >= warmup:
                    times.append(elapsed)
                    server.append(_solve_seconds(note))
    return {"times": times, "server": server, "first_load": first_load, "slider": slider,
            "load": (load_before, os.getloadavg()[0])}


def _solve_seconds(note: str) -> float:
    try:
        return float(note.rsplit(" in ", 1)[1].split(" s")[0])
    except (IndexError, ValueError):
        return float("nan")


def report(result: dict) -> str:
    times, server = result["times"], result["server"]
    median = statistics.median(times)
    verdict = "meets" if median <= TARGET_SECONDS else "misses"
    lines = [
        "# Browser benchmark: a changed weight to the updated result on screen",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}"
        f" ({platform.machine()}, Python {platform.python_version()}) with "
        "`benchmarks/browser.py`: Debian Chromium (headless, Playwright) against "
        "`streamlit run app.py` on 127.0.0.1, DLN base model (3 ICBs, 55 PCNs, 5 years).",
        "",
        f"Each move nudges the `{result['slider']}` slider one step (alternately up and down) "
        "and times from the key press until the page has drawn the new result.",
        "",
        "| measure | seconds |",
        "|---|---|",
        f"| median of {len(times)} moves | {median:.2f} |",
        f"| fastest | {min(times):.2f} |",
        f"| slowest | {max(times):.2f} |",
        f"| median warm re-solve in the app (Python: update + solve) | "
        f"{statistics.median(server):.2f} |",
        f"| first page load, including the cold build and solve | {result['first_load']:.1f} |",
        "",
        f"Machine load (1-minute load average, {os.cpu_count()} cores) before and after: "
        f"{result['load'][0]:.1f} and {result['load'][1]:.1f}; other work on the machine slows "
        "every step.",
        "",
        f"Target: the updated result on screen within {TARGET_SECONDS:.0f} s (median). This run "
        f"{verdict} it: the median is {median / TARGET_SECONDS:.2f}x the target.",
        "",
        "Every move, in seconds: " + ", ".join(f"{t:.2f}" for t in times),
        "",
        "Every sidebar control at a projector's 1280x720, adding an ICB, ring-fence edits and "
        "moves into shortfall, with medians and 95th percentiles against the targets: "
        "[browser_interaction_results.md](browser_interaction_results.md) "
        "(`benchmarks/browser_interaction.py`).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--slider", default="qaly_gbp")
    args = parser.parse_args()
    text = report(measure(args.moves, args.slider))
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
