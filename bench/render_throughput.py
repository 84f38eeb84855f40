"""How fast the streaming markdown renderer keeps up, and whether its cost stays linear.

Streams generated answers (paragraphs, lists, headings, fenced code with blank lines) token by
token, a token being a word and the whitespace after it, through the markdown renderer into a
terminal console backed by /dev/null. Reports wall and CPU seconds per size, next to the cost
of rich rendering the same document once (the floor), and writes
bench/results/render_throughput.json.

Run: .venv/bin/python bench/render_throughput.py
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown

from ollama_cli.render import MarkdownRenderer

SIZES = (2_000, 8_000, 20_000)
RESULTS = Path(__file__).parent / "results" / "render_throughput.json"
WORDS = ["the", "router", "walks", "chain", "until", "provider", "answers", "and", "renderer"]
WORDS += ["prints", "each", "finished", "block", "once", "while", "only", "tail", "stays", "live"]
CODE = """```python
def first_answer(chain):
    for provider in chain:
        try:
            return provider.chat(messages)

        except ProviderUnavailableError:
            continue


class Router:
    retries = 1
```"""


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def answer(tokens: int, seed: int = 0) -> str:
    """A model-like markdown answer of about ``tokens`` tokens."""
    rng = random.Random(seed)
    blocks: list[str] = []
    size = 0
    while size < tokens:
        blocks.append(f"## {words(rng, 4)}")
        blocks.append("\n".join(words(rng, 14) for _ in range(3)))
        blocks.append("\n".join(f"- **{words(rng, 2)}**: {words(rng, 9)}" for _ in range(4)))
        blocks.append(CODE)
        blocks.append(f"1. {words(rng, 8)}\n\n   {words(rng, 12)}\n\n2. {words(rng, 6)}")
        size = sum(len(block.split()) for block in blocks)
    return "\n\n".join(blocks) + "\n"


def one_code_block(tokens: int) -> str:
    """The worst case for the live tail: a fence that stays open until the very end."""
    body = "".join(f"value_{n} = compute({n})\n\n" for n in range(tokens // 3))
    return "```python\n" + body + "```\n"


def tokenize(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


@dataclass(frozen=True)
class Row:
    case: str
    tokens: int
    seconds: float
    tokens_per_second: int
    cpu_seconds: float
    render_once_seconds: float


def measure(case: str, document: str) -> Row:
    tokens = tokenize(document)
    with open(os.devnull, "w") as devnull:
        console = Console(file=devnull, force_terminal=True, width=100)
        wall, cpu = time.perf_counter(), time.process_time()
        with MarkdownRenderer(console) as renderer:
            for token in tokens:
                renderer.feed(token)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        floor = time.perf_counter()
        console.print(Markdown(document))
        floor = time.perf_counter() - floor
    return Row(
        case, len(tokens), round(wall, 3), round(len(tokens) / wall), round(cpu, 3), round(floor, 3)
    )


def main() -> None:
    rows = [measure("mixed", answer(size)) for size in SIZES]
    rows.append(measure("one open fence", one_code_block(SIZES[-1])))
    print(f"{'case':<15}{'tokens':>8}{'seconds':>9}{'tokens/s':>10}{'cpu s':>8}{'once s':>8}")
    for row in rows:
        print(
            f"{row.case:<15}{row.tokens:>8}{row.seconds:>9.2f}{row.tokens_per_second:>10}"
            f"{row.cpu_seconds:>8.2f}{row.render_once_seconds:>8.2f}"
        )
    small, large = rows[0], rows[len(SIZES) - 1]
    growth = (large.seconds / large.tokens) / (small.seconds / small.tokens)
    print(f"time per token at {large.tokens} vs {small.tokens} tokens: x{growth:.2f}")
    results = {"rows": [asdict(row) for row in rows], "per_token_growth": round(growth, 2)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
