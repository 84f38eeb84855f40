"""Where start-up time goes: ``-X importtime`` profiles of ``--version``, ``--help`` and
``complete``, and the cold cost of each heavy piece measured alone in fresh processes.

The profiles say which packages are imported and who pulls them in (importtime inflates
every number, so they are for ranking); the cold costs are the milliseconds a change would
save. Both feed the "Findings" of docs/performance.md.

Run: .venv/bin/python bench/import_costs.py   (writes bench/results/import_costs.json)
"""

from __future__ import annotations

import re
import subprocess
import sysconfig
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from _harness import (
    BENCH,
    CLI,
    PYTHON,
    Samples,
    Stat,
    clean_env,
    report,
    runs,
    sandbox,
    stat,
    write_config,
)
from _servers import served

#: Modules whose presence (and importer) matters for the findings.
WATCH = (
    "httpx._main",
    "click",
    "pygments",
    "rich.console",
    "rich.markdown",
    "ssl",
    "asyncio",
    "anyio",
    "sqlite3",
    "tomllib",
    "platformdirs",
    "prompt_toolkit",
    "__editable___ollama_cli_0_1_0_finder",
)
SITE = sysconfig.get_paths()["purelib"]
#: name → (setup, timed statement), each run in a fresh interpreter.
COLD = {
    "import httpx (as installed)": ("", "import httpx"),
    "import httpx, httpx._main kept out": (
        "import sys; sys.modules['httpx._main'] = None",
        "import httpx",
    ),
    "first httpx.AsyncClient() (httpcore + TLS)": ("import httpx", "httpx.AsyncClient()"),
    "first httpx.AsyncClient(verify=False)": ("import httpx", "httpx.AsyncClient(verify=False)"),
    "TLS context with certifi's CA bundle": (
        "import ssl, certifi",
        "ssl.create_default_context(cafile=certifi.where())",
    ),
    "import asyncio": ("", "import asyncio"),
    "import rich.console (after asyncio)": ("import asyncio", "import rich.console"),
    "import sqlite3": ("", "import sqlite3"),
    "import dataclasses (inspect, ast, dis)": ("", "import dataclasses"),
    "build the parser, all commands (--version too)": (
        "import ollama_cli.cli as c",
        "c.build_parser()",
    ),
    "editable-install finder (.pth, every start)": (
        f"import sys; sys.path.append({SITE!r})",
        "import __editable___ollama_cli_0_1_0_finder as f; f.install()",
    ),
}
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


@dataclass(frozen=True)
class Entry:
    self_us: int
    cumulative_us: int
    depth: int
    name: str


def parse(text: str) -> list[Entry]:
    entries = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            depth = len(match.group(3)) // 2
            entries.append(Entry(int(match.group(1)), int(match.group(2)), depth, match.group(4)))
    return entries


def importer(entries: Sequence[Entry], index: int) -> str:
    """Who imported ``entries[index]``: importtime lists children before their parent."""
    depth = entries[index].depth
    for entry in entries[index + 1 :]:
        if entry.depth < depth:
            return entry.name
    return "(run time: a function's import)"


@dataclass(frozen=True)
class Profile:
    modules: int
    import_ms: float
    top_packages_ms: dict[str, float]
    #: module → (cumulative ms, who imported it)
    watched: dict[str, tuple[float, str]]

    def show(self, label: str) -> None:
        print(f"\n-- importtime: {label}: {self.modules} modules, {self.import_ms} ms")
        packages = ", ".join(f"{k} {v}" for k, v in self.top_packages_ms.items())
        print(f"   by package (ms): {packages}")
        for module, (ms, by) in self.watched.items():
            print(f"   {module:<40}{ms:>7} ms  imported by {by}")


def profile(argv: Sequence[str], env: Mapping[str, str], repeats: int) -> Profile:
    """The fastest of ``repeats`` importtime runs, summarised by package and watch list."""
    best: list[Entry] = []
    for _ in range(repeats):
        done = subprocess.run(
            argv, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, capture_output=True, check=False
        )
        entries = parse(done.stderr.decode(errors="replace"))
        if not best or sum(e.self_us for e in entries) < sum(e.self_us for e in best):
            best = entries
    by_package: Counter[str] = Counter()
    for entry in best:
        by_package[entry.name.split(".")[0]] += entry.self_us
    watched: dict[str, tuple[float, str]] = {}
    for i, entry in enumerate(best):
        ms = round(entry.cumulative_us / 1000, 1)
        if entry.name in WATCH and ms > watched.get(entry.name, (-1.0, ""))[0]:
            watched[entry.name] = (ms, importer(best, i))
    return Profile(
        modules=len(best),
        import_ms=round(sum(e.self_us for e in best) / 1000, 1),
        top_packages_ms={k: round(v / 1000, 1) for k, v in by_package.most_common(10)},
        watched=watched,
    )


def cold_costs(env: Mapping[str, str], count: int) -> list[Stat]:
    stats = []
    for name, (setup, statement) in COLD.items():
        code = (
            f"import time\n{setup}\n_w, _c = time.perf_counter(), time.process_time()\n"
            f"{statement}\n"
            "print((time.perf_counter() - _w) * 1000, (time.process_time() - _c) * 1000)"
        )
        flags = ["-S"] if "editable" in name else []
        samples = Samples([], [])
        for _ in range(count + 1):
            done = subprocess.run(
                [PYTHON, *flags, "-c", code], env=dict(env), capture_output=True, check=True
            )
            wall, cpu = map(float, done.stdout.split())
            samples.wall.append(wall)
            samples.cpu.append(cpu)  # type: ignore[union-attr]
        samples.wall, samples.cpu = samples.wall[1:], samples.cpu[1:]  # type: ignore[index]
        stats.append(stat(name, samples))
    return stats


def main() -> None:
    home = sandbox("imports")
    env = clean_env(home)
    profiles: dict[str, Profile] = {}
    with served("ollama") as url:
        write_config(home, {"ollama": url}, ["ollama"])
        complete = [CLI, "complete", "say something"]
        whatif = [PYTHON, str(BENCH / "_whatif.py"), "complete", "say something"]
        for label, argv, extra in (
            ("--version", [CLI, "--version"], {}),
            ("--help", [CLI, "--help"], {}),
            ("complete", complete, {}),
            ("complete, proposed changes", whatif, {"BENCH_WHATIF": "nocli,tls,norich"}),
        ):
            profiles[label] = profile(argv, {**env, **extra}, repeats=3)
    for label, data in profiles.items():
        data.show(label)
    report(
        "import_costs",
        "cold cost of each piece, alone in a fresh interpreter (in-process timer)",
        cold_costs(env, runs(10)),
        notes=["cpu = process_time of the statement alone; profiles above are importtime"],
        profiles={label: asdict(data) for label, data in profiles.items()},
    )


if __name__ == "__main__":
    main()
