"""What the model-catalog cache costs a one-shot ``complete``.

Two views. In process: reading one provider's fresh cache file (200 models, as a big
vendor listing is) and resolving the model to ask for — the work the router adds to the
first attempt (goal: under 2 ms). Whole process: ``complete`` against loopback Anthropic
with no cache file, with a fresh cache of the default's catalog, and with a selector
default (``@sonnet``) resolved from that cache, so the difference is visible next to the
run-to-run spread.

Run: .venv/bin/python bench/catalog_cache.py   (writes bench/results/catalog_cache.json)
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

from _harness import CLI, Command, Samples, clean_env, report, runs, sandbox, stat, time_commands
from _servers import TOKEN_COUNT, served

from ollama_cli.catalog import CatalogStore, ModelCatalog
from providers.types import ModelInfo

GOAL_MS = 2.0
MODELS = 200


def catalog(default: str) -> list[ModelInfo]:
    """A listing the size of a big vendor's: the default, and 199 others."""
    models = [ModelInfo(id=default, lifecycle="active", family="sonnet")]
    models += [
        ModelInfo(id=f"claude-model-{i}", lifecycle="retired" if i % 3 else "active")
        for i in range(MODELS - 1)
    ]
    return models


def fill(directory: Path, name: str, default: str) -> None:
    CatalogStore(directory).put(name, catalog(default))


def in_process(count: int) -> Samples:
    """Milliseconds to read a fresh cache file and resolve a selector from it."""
    directory = Path(tempfile.mkdtemp(prefix="ollama-cli-bench-catalog-"))
    fill(directory, "claude", "claude-sonnet-5-5")
    samples = Samples([], [])
    for _ in range(count):
        wall, cpu = time.perf_counter(), time.process_time()
        resolver = ModelCatalog(host=None, store=CatalogStore(directory))  # type: ignore[arg-type]
        model = asyncio.run(resolver.first_model("claude", "@sonnet", False, print))
        samples.wall.append((time.perf_counter() - wall) * 1000)
        samples.cpu.append((time.process_time() - cpu) * 1000)  # type: ignore[union-attr]
        assert model == "claude-sonnet-5-5"
    shutil.rmtree(directory)
    return samples


def answered(out: bytes) -> bool:
    return len(out.split()) == TOKEN_COUNT


def whole_process(url: str, count: int) -> dict[str, Samples]:
    commands = {}
    for label, default, cached in (
        ("complete, no catalog cache", "claude-sonnet-5-5", False),
        ("complete, fresh catalog cache", "claude-sonnet-5-5", True),
        ("complete, @sonnet from the cache", "@sonnet", True),
    ):
        home = sandbox("catalog")
        (home / "config.toml").write_text(
            f'[router]\nchain = ["claude"]\n[providers.claude]\nbase_url = "{url}"\n'
            f'default_model = "{default}"\n[history]\nenabled = false\n'
        )
        if cached:
            fill(home / "state" / "catalogs", "claude", "claude-sonnet-5-5")
        env = clean_env(home, ANTHROPIC_API_KEY="bench-dummy-key")
        commands[label] = Command([CLI, "complete", "say something"], env, check=answered)
    return time_commands(commands, runs=count, warmup=1)


def main() -> None:
    count = runs(8)
    stats = [stat("in process: read fresh cache + resolve", in_process(50), GOAL_MS)]
    with served("anthropic") as url:
        stats += [stat(label, s) for label, s in whole_process(url, count).items()]
    report(
        "catalog_cache",
        f"model catalog cache on complete ({MODELS}-model listing, loopback Anthropic)",
        stats,
        notes=["cpu = user+system ms of the process", "goal: a fresh cache under 2 ms"],
        goal_ms=GOAL_MS,
    )


if __name__ == "__main__":
    main()
