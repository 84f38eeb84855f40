"""``ollama-cli providers list`` with six providers, whole process.

The six: ollama, claude, gemini, codex and hf (built-ins) and ``vllm`` (openai-compatible),
each on a loopback server speaking its protocol (child processes), with dummy keys;
``local`` is disabled (its check loads a model). Nothing leaves the machine: the config is
refused unless every enabled provider points at loopback.

Goals (issue "Performance"): all instant ≤ 300 ms; one hanging (a server that accepts and
never answers) ≤ its ``--timeout`` + 300 ms, because checks run concurrently.

Run: .venv/bin/python bench/providers_list.py   (writes bench/results/providers_list.json)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from _harness import (
    CLI,
    Command,
    clean_env,
    report,
    runs,
    sandbox,
    stat,
    time_commands,
    write_config,
)
from _servers import served

from tests.wire.loopback import LoopbackServer, Reply, Stall

TIMEOUT_S = 1.0
INSTANT_GOAL_MS = 300.0
KEYS = {
    "ANTHROPIC_API_KEY": "bench-dummy-key",
    "GEMINI_API_KEY": "bench-dummy-key",
    "OPENAI_API_KEY": "bench-dummy-key",
    "HF_TOKEN": "bench-dummy-key",
}


def vllm_table(url: str) -> str:
    return (
        f'[providers.vllm]\ntype = "openai-compatible"\nbase_url = "{url}/v1"\n'
        'default_model = "Qwen/Qwen3-8B"\n'
    )


def statuses(wanted: dict[str, str]) -> Callable[[bytes], bool]:
    """Check the table: each provider in ``wanted`` has that status."""

    def check(out: bytes) -> bool:
        rows = {line.split()[0]: line.split()[2] for line in out.decode().splitlines()[1:]}
        return all(rows.get(name) == status for name, status in wanted.items())

    return check


def main() -> None:
    count = runs(8)
    names = ("ollama", "claude", "gemini", "codex", "hf", "vllm")
    instant = dict.fromkeys(names, "ok") | {"local": "disabled"}
    hanging = instant | {"vllm": "unreachable"}
    argv = [CLI, "providers", "list", "--timeout", f"{TIMEOUT_S:g}"]
    with contextlib.ExitStack() as stack:
        url = {p: stack.enter_context(served(p)) for p in ("ollama", "anthropic", "gemini")}
        openai = stack.enter_context(served("openai"))
        hang = stack.enter_context(LoopbackServer(lambda _r: Reply(before_headers=[Stall()])))
        urls = {
            "ollama": url["ollama"],
            "claude": url["anthropic"],
            "gemini": url["gemini"],
            "codex": f"{openai}/v1",
            "hf": f"{openai}/v1",
        }
        commands = {}
        for label, vllm, wanted in (
            ("six providers, all answer at once", openai, instant),
            (f"six providers, vllm hangs (--timeout {TIMEOUT_S:g})", hang.url, hanging),
        ):
            home = sandbox("providers")
            write_config(home, urls, names[:5], extra=vllm_table(vllm))
            commands[label] = Command(argv, clean_env(home, **KEYS), check=statuses(wanted))
        samples = time_commands(commands, runs=count, warmup=1)
    hang_goal = TIMEOUT_S * 1000 + 300
    labels = list(commands)
    stats = [
        stat(labels[0], samples[labels[0]], INSTANT_GOAL_MS),
        stat(labels[1], samples[labels[1]], hang_goal, f"≤ {hang_goal:.0f} (timeout+300)"),
    ]
    report(
        "providers_list",
        "providers list, six providers on loopback (whole process)",
        stats,
        notes=["local is disabled in both (its check would load a GGUF model)"],
    )


if __name__ == "__main__":
    main()
