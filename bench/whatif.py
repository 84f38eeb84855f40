"""What the proposed start-up changes would buy, measured before anyone makes them.

Runs ``complete`` (a 200-token streamed answer from loopback Ollama) and ``providers list``
(six providers on loopback, as bench/providers_list.py), whole process, through
bench/_whatif.py, which applies each change from outside the application (see that file).
Rows are cumulative, and the "as it is" row uses the same launcher, so each difference is
one change alone.

Run: .venv/bin/python bench/whatif.py   (writes bench/results/whatif.json)
"""

from __future__ import annotations

import contextlib
import itertools
import statistics
from collections.abc import Callable

from _harness import (
    BENCH,
    PYTHON,
    Command,
    Samples,
    Stat,
    clean_env,
    report,
    runs,
    sandbox,
    stat,
    time_commands,
    write_config,
)
from _servers import TOKEN_COUNT, served
from providers_list import KEYS, vllm_table

#: Cumulative: each row adds one change to the row above it.
CHANGES = {
    "as it is": "",
    "+ httpx CLI not imported": "nocli",
    "+ one TLS context, https only": "nocli,tls",
    "+ no rich on the pipe path": "nocli,tls,norich",
}
LAUNCHER = [PYTHON, str(BENCH / "_whatif.py")]


def scenario(
    title: str, argv: list[str], env: dict[str, str], check: Callable[[bytes], bool], goal: float
) -> tuple[list[Stat], list[str]]:
    commands = {
        f"{title}: {label}": Command(
            [*LAUNCHER, *argv], {**env, "BENCH_WHATIF": changes}, check=check
        )
        for label, changes in CHANGES.items()
    }
    samples = time_commands(commands, runs=runs(8), warmup=1)
    return [stat(name, s, goal) for name, s in samples.items()], savings(title, samples)


def savings(title: str, samples: dict[str, Samples]) -> list[str]:
    notes = []
    for before, after in itertools.pairwise(CHANGES):
        old, new = samples[f"{title}: {before}"], samples[f"{title}: {after}"]
        wall = statistics.median(old.wall) - statistics.median(new.wall)
        cpu = statistics.median(old.cpu or [0]) - statistics.median(new.cpu or [0])
        notes.append(f"{title}, {after[2:]}: saves {wall:.0f} ms wall, {cpu:.0f} ms cpu")
    return notes


def main() -> None:
    with contextlib.ExitStack() as stack:
        url = {p: stack.enter_context(served(p)) for p in ("ollama", "anthropic", "gemini")}
        openai = stack.enter_context(served("openai"))
        home = sandbox("whatif-complete")
        write_config(home, {"ollama": url["ollama"]}, ["ollama"])
        complete, complete_notes = scenario(
            "complete",
            ["complete", "say something"],
            clean_env(home),
            lambda out: len(out.split()) == TOKEN_COUNT,
            250.0,
        )
        home = sandbox("whatif-providers")
        urls = {"ollama": url["ollama"], "claude": url["anthropic"], "gemini": url["gemini"]}
        urls |= {"codex": f"{openai}/v1", "hf": f"{openai}/v1"}
        write_config(home, urls, ["ollama"], extra=vllm_table(openai))
        listing, listing_notes = scenario(
            "providers list",
            ["providers", "list"],
            clean_env(home, **KEYS),
            lambda out: out.count(b" ok ") == 6,
            300.0,
        )
    report(
        "whatif",
        "proposed start-up changes (whole process, cumulative rows)",
        complete + listing,
        complete_notes + listing_notes,
    )


if __name__ == "__main__":
    main()
