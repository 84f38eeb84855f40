"""The REPL: time from ``ollama-cli chat`` to its prompt, and memory after 100 turns.

Driven through a real pseudo-terminal with pexpect against a loopback Ollama server (child
process) streaming a 200-token answer per turn. Goals (issue "Performance"): prompt on
screen ≤ 300 ms median; resident memory after 100 scripted turns ≤ 80 MB.

Skipped (with a note) while the REPL does not exist yet.

Run: .venv/bin/python bench/repl_startup.py   (writes bench/results/repl_startup.json)
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pexpect
from _harness import CLI, ROOT, Samples, clean_env, report, runs, sandbox, stat, write_config
from _servers import LAST_WORD, TOKEN_COUNT, served

PROMPT = ">>>"  # prompt-toolkit draws the trailing space separately
CPR_REQUEST = "\x1b[6n"
PROMPT_GOAL_MS = 300.0
RSS_GOAL_MB = 80.0
TURNS = 100


def repl_exists() -> bool:
    commands = (ROOT / "ollama_cli" / "commands" / "chat.py").exists()
    return commands and (ROOT / "ollama_cli" / "repl" / "__init__.py").exists()


def spawn(env: dict[str, str]) -> pexpect.spawn:
    child = pexpect.spawn(
        CLI, ["chat"], env=env, dimensions=(40, 120), encoding="utf-8", timeout=15
    )
    child.delaybeforesend = None  # pexpect sleeps 50 ms before every send by default
    return child


def expect(child: pexpect.spawn, text: str) -> None:
    """Wait for ``text``, answering cursor-position requests as a real terminal does.

    prompt-toolkit asks the terminal where the cursor is (ESC [6n) and, unanswered, waits
    a second for the reply before drawing the next prompt: a pty is not a terminal.
    """
    while child.expect_exact([CPR_REQUEST, text]) == 0:
        child.send("\x1b[1;1R")


def time_to_prompt(env: dict[str, str], count: int) -> Samples:
    samples = Samples([], [])
    for number in range(count + 2):
        started = time.perf_counter()
        child = spawn(env)
        expect(child, PROMPT)
        wall = (time.perf_counter() - started) * 1000
        child.sendeof()
        child.expect_exact(pexpect.EOF)
        child.close()
        if number >= 2:
            samples.wall.append(wall)
    return samples


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("bench: no VmRSS in /proc")


def memory_after_turns(env: dict[str, str]) -> tuple[float, float, Samples]:
    """RSS at the first prompt and after ``TURNS`` answers, and each turn's wall time."""
    child = spawn(env)
    expect(child, PROMPT)
    time.sleep(0.3)  # let the model listing fetched after the first paint land
    first = rss_mb(child.pid)
    turns = Samples([])
    for _ in range(TURNS):
        started = time.perf_counter()
        child.sendline("say something")
        expect(child, LAST_WORD)
        expect(child, PROMPT)
        turns.wall.append((time.perf_counter() - started) * 1000)
    after = rss_mb(child.pid)
    child.sendeof()
    child.expect_exact(pexpect.EOF)
    child.close()
    return first, after, turns


def main() -> None:
    if not repl_exists():
        print("\n== REPL: skipped (ollama_cli/commands/chat.py or ollama_cli/repl/ missing)")
        return
    home = sandbox("repl")
    with served("ollama") as url:
        write_config(home, {"ollama": url}, ["ollama"])
        env = clean_env(home, TERM="xterm-256color")
        env.pop("NO_COLOR")
        prompt = time_to_prompt(env, runs(15))
        first, after, turns = memory_after_turns(env)
    stats = [
        stat("ollama-cli chat: time to prompt", prompt, PROMPT_GOAL_MS),
        stat(f"one turn, {TOKEN_COUNT}-token answer, rendered", turns),
    ]
    report(
        "repl_startup",
        "REPL through a pseudo-terminal (whole process)",
        stats,
        notes=[
            f"RSS at first prompt {first:.1f} MB; after {TURNS} turns {after:.1f} MB "
            f"(goal ≤ {RSS_GOAL_MB:.0f} MB: {'ok' if after <= RSS_GOAL_MB else 'MISSED'})",
            f"turns: median {statistics.median(turns.wall):.0f} ms including rendering",
        ],
        rss_first_prompt_mb=round(first, 1),
        rss_after_turns_mb=round(after, 1),
        turns=TURNS,
    )


if __name__ == "__main__":
    main()
