"""The streaming renderer: what a user sees on a terminal, in a pipe, and after Ctrl-C.

Terminal output is replayed through a tiny terminal emulator (cursor-up, erase-line) so the
tests look at the final screen, exactly as a person would, and not at the repaint traffic.
"""

from __future__ import annotations

import io
import random
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markdown import Markdown

from ollama_cli.render import (
    BlockSplitter,
    MarkdownRenderer,
    PlainRenderer,
    Terminal,
    TerminalWriter,
    make_renderer,
)
from tests.render.vt import Screen, screen


def terminal(width: int = 80, height: int = 25) -> Console:
    return Console(
        file=io.StringIO(), width=width, height=height, color_system=None, force_terminal=True
    )


def raw_output(console: Console) -> str:
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def rendered_whole(document: str, width: int = 80) -> str:
    console = terminal(width)
    console.print(Markdown(document))
    return screen(raw_output(console))


def stream(
    document: str, console: Console, seed: int = 0, refresh_per_second: float = 20.0
) -> None:
    """Feed ``document`` in random small chunks, as a provider would."""
    rng = random.Random(seed)
    with MarkdownRenderer(console, refresh_per_second=refresh_per_second) as renderer:
        at = 0
        while at < len(document):
            size = rng.randint(1, 9)
            renderer.feed(document[at : at + size])
            at += size


def squash(text: str) -> str:
    return " ".join(text.split())


WORDS = ["the", "model", "router", "answer", "stream", "token", "provider", "fallback", "list"]
CODE = [
    "def route(chain):",
    "    for name in chain:",
    "        yield name",
    "",
    "",
    "class Router:",
    '    """Walks the chain."""',
    "",
    "    retries = 1",
]


def _words(rng: random.Random, count: int) -> str:
    words = [rng.choice(WORDS) for _ in range(count)]
    for index in rng.sample(range(count), k=min(2, count)):
        words[index] = rng.choice(["**bold**", "`code`", "*it*", "[link](http://x.io)"])
    return " ".join(words)


def _block(rng: random.Random) -> str:
    kind = rng.randrange(9)
    lines = rng.randint(1, 3)
    if kind == 0:
        return f"{'#' * rng.randint(1, 3)} {_words(rng, 4)}"
    if kind == 1:
        return "\n".join(f"- {_words(rng, 8)}" for _ in range(lines + 1))
    if kind == 2:  # loose numbered list with a continuation paragraph
        return f"1. {_words(rng, 6)}\n\n   {_words(rng, 9)}\n\n2. {_words(rng, 5)}\n3. next"
    if kind == 3:
        return "```python\n" + "\n".join(CODE[: rng.randint(4, len(CODE))]) + "\n```"
    if kind == 4:  # a list item holding a fence with a blank line in it
        return f"- {_words(rng, 5)}\n\n  ```sh\n  make test\n\n  make lint\n  ```\n- done"
    if kind == 5:
        return "~~~\n```\nnot a closing fence\n\n```\n~~~"
    if kind == 6:
        return "> " + _words(rng, 12) + "\n> " + _words(rng, 6)
    if kind == 7:
        return "| name | ms |\n|---|---|\n| ollama | 2 |\n| claude | 412 |"
    return "\n".join(_words(rng, 12) for _ in range(lines))


def generated_answer(seed: int, tokens: int = 2000) -> str:
    """A model-like markdown answer of about ``tokens`` words."""
    rng = random.Random(seed)
    blocks: list[str] = []
    while sum(len(block.split()) for block in blocks) < tokens:
        blocks.append(_block(rng))
        if rng.random() < 0.05:
            blocks.append("---")
    # Sometimes text follows a heading directly, without a blank line.
    return "".join(
        b + ("\n" if b.startswith("#") and rng.random() < 0.5 else "\n\n") for b in blocks
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_streamed_answer_looks_like_the_whole_document_rendered_once(seed: int) -> None:
    answer = generated_answer(seed)
    assert len(answer.split()) >= 2000
    console = terminal()
    stream(answer, console, seed=seed, refresh_per_second=1000)
    shown = screen(raw_output(console))
    whole = rendered_whole(answer)
    assert squash(shown) == squash(whole)
    # Stronger: even the blank lines between blocks are where rich puts them.
    assert [line.rstrip() for line in shown.splitlines()] == whole.splitlines()


def test_a_finished_block_is_printed_once_and_never_repainted() -> None:
    console = terminal()
    with MarkdownRenderer(console, refresh_per_second=1000) as renderer:
        # A block is finished once the first line of the next one is complete.
        renderer.feed("First paragraph FIRSTMARK.\n\nSecond\n")
        before = raw_output(console).count("FIRSTMARK")
        assert before >= 1
        for index in range(50):
            renderer.feed(f" words {index}\n\nParagraph {index}")
        assert raw_output(console).count("FIRSTMARK") == before
    assert screen(raw_output(console)).count("FIRSTMARK") == 1
    assert screen(raw_output(console)).count("Paragraph 49") == 1


def test_each_block_is_parsed_about_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[int] = []

    class CountingMarkdown(Markdown):
        def __init__(self, markup: str, **kwargs: object) -> None:
            parsed.append(len(markup))
            super().__init__(markup, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("rich.markdown.Markdown", CountingMarkdown)
    answer = generated_answer(seed=4)
    stream(answer, terminal(), refresh_per_second=0.001)
    # Quadratic re-rendering would parse hundreds of times the answer's length.
    assert sum(parsed) < 2 * len(answer)


def test_fence_with_blank_lines_is_one_code_block() -> None:
    code = "```python\ndef a():\n    pass\n\n\nclass B:\n    x = 1\n```\n"
    splitter = BlockSplitter()
    blocks = [block for char in code for block in splitter.feed(char)]
    assert blocks == [code]
    console = terminal()
    stream("Intro.\n\n" + code + "\nAfter.\n", console)
    shown = screen(raw_output(console))
    assert shown == rendered_whole("Intro.\n\n" + code + "\nAfter.\n")
    assert "class B:" in shown and "```" not in shown


def test_unclosed_fence_stays_in_the_tail_until_the_end() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("Text.\n\n```\nx = 1\n\ny = 2\n\nprint(y)\n") == ["Text.\n\n"]
    assert splitter.flush() == "```\nx = 1\n\ny = 2\n\nprint(y)\n"


def test_preview_of_a_long_code_block_keeps_its_fence() -> None:
    splitter = BlockSplitter()
    splitter.feed("```python\n" + "".join(f"x{n} = {n}\n" for n in range(100)) + "tail")
    assert splitter.preview(max_lines=3, max_chars=1000) == "```python\nx98 = 98\nx99 = 99\ntail"
    # Cut mid-line, the broken first line is dropped rather than shown as half a statement.
    assert splitter.preview(max_lines=3, max_chars=10) == "```python\ntail"


@pytest.mark.parametrize(
    ("text", "blocks"),
    [
        ("# Title\nText", ["# Title\n"]),
        ("para\n## Head\n", ["para\n", "## Head\n"]),
        ("- a\n\n- b\n\nafter\n", ["- a\n\n- b\n\n"]),
        ("- a\n\n  more a\n- b\n", []),
        ("    code\n\n    more\n", []),
        ("```x```\n\nnext\n", ["```x```\n\n"]),
        ("<!--\n\nhidden\n-->\n\nshown\n", ["<!--\n\nhidden\n-->\n\n"]),
        ("- a\n  ```\n  x\n\n  y\n  ```\n\nz\n", ["- a\n  ```\n  x\n\n  y\n  ```\n\n"]),
        ("- a\n  ```\n  x\n\nz\n\nw\n", ["- a\n  ```\n  x\n\n", "z\n\n"]),
        ("````\n```\n\nx\n````\ny\n", ["````\n```\n\nx\n````\n"]),
    ],
)
def test_splitter_cuts_only_where_markdown_cannot_change(text: str, blocks: list[str]) -> None:
    splitter = BlockSplitter()
    assert splitter.feed(text) == blocks
    assert "".join(blocks) + splitter.flush() == text


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.integers(1, 40), min_size=1))
def test_splitter_is_lossless_and_ignores_chunk_boundaries(seed: int, cuts: list[int]) -> None:
    answer = generated_answer(seed, tokens=300)
    at, chunks = 0, list[str]()
    while at < len(answer):
        size = cuts[len(chunks) % len(cuts)]
        chunks.append(answer[at : at + size])
        at += size
    chunked, whole = BlockSplitter(), BlockSplitter()
    blocks = [block for chunk in chunks for block in chunked.feed(chunk)]
    assert blocks == whole.feed(answer)
    assert "".join(blocks) + chunked.flush() == answer


def test_live_region_never_outgrows_the_screen() -> None:
    console = terminal(height=10)
    code = "```python\n" + "".join(f"line_{n} = {n}\n\n" for n in range(40))
    stream(code, console, refresh_per_second=1e9)
    shown = Screen().feed(raw_output(console))
    assert shown.max_up < 10
    assert shown.text().count("line_") == 40


def test_tail_repaints_are_bounded_by_the_refresh_rate() -> None:
    console = terminal()
    with MarkdownRenderer(console, refresh_per_second=0.001) as renderer:
        renderer.feed("first\n")
        for _ in range(500):
            renderer.feed("word ")
        assert raw_output(console).count("word") <= 1
    assert screen(raw_output(console)).count("word") == 500


def test_plain_mode_writes_the_exact_text_and_flushes_each_chunk() -> None:
    class Recorder(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    file = Recorder()
    console = Console(file=file, width=80)
    answer = generated_answer(seed=5, tokens=200) + "**no newline at the end**"
    chunks = [answer[i : i + 7] for i in range(0, len(answer), 7)]
    with make_renderer(console, raw=False) as renderer:
        assert isinstance(renderer, PlainRenderer)
        for chunk in chunks:
            renderer.feed(chunk)
    assert file.getvalue() == answer
    assert "\x1b" not in file.getvalue()
    assert file.flushes == len(chunks)


def test_raw_and_dumb_terminals_choose_plain_mode() -> None:
    assert isinstance(make_renderer(terminal()), MarkdownRenderer)
    assert isinstance(make_renderer(terminal(), raw=True), PlainRenderer)
    console = terminal()
    with make_renderer(console, environ={"TERM": "dumb"}) as renderer:
        assert isinstance(renderer, PlainRenderer)
        renderer.feed("# Not rendered\n\n`kept` \x1b]0;title\x07")
    # No escape at all, the model's included; the shell prompt is not glued to the answer.
    assert raw_output(console) == "# Not rendered\n\n`kept` ␛]0;title␇\n"


def test_no_color_keeps_the_layout_and_drops_the_colours() -> None:
    document = "# Title\n\n- **bold** item\n\n```python\nx = 1\n```\n"
    console = Console(
        file=io.StringIO(), width=80, force_terminal=True, color_system="truecolor", no_color=True
    )
    stream(document, console)
    output = raw_output(console)
    assert screen(output) == rendered_whole(document)
    sgr = re.findall(r"\x1b\[([\d;]*)m", output)
    assert "1" in sgr  # bold is not a colour
    assert not [code for code in sgr if re.search(r"(^|;)(3|4|9|10)\d", code)]


def test_notices_appear_before_the_answer() -> None:
    console = terminal()
    with make_renderer(console) as renderer:
        renderer.status("waiting for ollama…")
        renderer.notice("ollama unreachable → claude [retry]")
        renderer.feed("The answer.\n\nMore")
        renderer.notice("claude interrupted → gemini")
        renderer.feed(" text.")
    shown = screen(raw_output(console)).splitlines()
    assert shown[0] == "ollama unreachable → claude [retry]"
    # A notice in mid-answer marks the seam: what was shown stays above it.
    assert (
        shown.index("The answer.")
        < shown.index("More")
        < shown.index("claude interrupted → gemini")
    )
    assert shown[-1] == "text."
    assert not any("waiting" in line for line in shown)


def test_a_seam_inside_a_code_block_keeps_the_rest_as_code() -> None:
    console = terminal()
    with make_renderer(console) as renderer:
        renderer.feed("```python\nx = 1\n")
        renderer.notice("resumed")
        renderer.feed("y = 2\n```\n\n# Heading\n")
    shown = screen(raw_output(console))
    assert "```" not in shown
    before, after = "```python\nx = 1\n```", "```python\ny = 2\n```\n# Heading"
    expected = [rendered_whole(before), "resumed", rendered_whole(after)]
    assert squash(shown) == squash("\n".join(expected))


def test_plain_mode_sends_notices_elsewhere() -> None:
    out, err = io.StringIO(), io.StringIO()
    with make_renderer(Console(file=out), notices=TerminalWriter(err, Terminal())) as renderer:
        renderer.notice("ollama unreachable → claude")
        renderer.feed("answer")
    assert out.getvalue() == "answer"
    assert err.getvalue() == "ollama unreachable → claude\n"


def test_spinner_shows_status_until_the_first_text() -> None:
    console = terminal()
    renderer = MarkdownRenderer(console)
    renderer.start("waiting for claude…")
    renderer.status("waiting for gemini…")
    renderer.feed("Hi")
    renderer.finish()
    assert "waiting for claude…" in raw_output(console)
    assert screen(raw_output(console)) == "Hi"


def test_finish_is_idempotent_and_closes_the_answer() -> None:
    console = terminal()
    renderer = make_renderer(console)
    renderer.feed("Done.")
    renderer.finish()
    after_first = raw_output(console)
    renderer.finish()
    assert raw_output(console) == after_first
    assert screen(after_first) == "Done."
    with pytest.raises(RuntimeError):
        renderer.feed("more")


def test_ctrl_c_keeps_the_partial_answer_and_no_live_region() -> None:
    console = terminal()
    with pytest.raises(KeyboardInterrupt), make_renderer(console) as renderer:
        renderer.feed("Finished paragraph.\n\n```python\nx = 1\n\ny = 2")
        raise KeyboardInterrupt
    console.print("next prompt")
    output = raw_output(console)
    assert output.endswith("next prompt\n")  # nothing repainted after it
    assert output.rfind("\x1b[?25h") > output.rfind("\x1b[?25l")  # cursor visible again
    shown = screen(output)
    assert shown.count("Finished paragraph.") == 1
    assert "y = 2" in shown and shown.endswith("next prompt")


def test_ctrl_c_while_waiting_leaves_nothing_behind() -> None:
    console = terminal()
    with pytest.raises(KeyboardInterrupt), make_renderer(console):
        raise KeyboardInterrupt
    assert screen(raw_output(console)) == ""


def test_importing_the_renderer_does_not_load_rich_markdown() -> None:
    code = "import sys, ollama_cli.render; print([m for m in sys.modules if m.startswith('rich')])"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize("seed", [1, 2])
def test_a_slow_stream_costs_few_bytes_more_than_its_text(seed: int) -> None:
    # Every chunk is painted (the pace of a slow link): a token costs about its own bytes,
    # because only the cells that changed are written, never the finished rows again.
    answer = generated_answer(seed)
    console = Console(
        file=io.StringIO(), width=80, height=25, force_terminal=True, color_system="256"
    )
    stream(answer, console, seed=seed, refresh_per_second=1e9)
    output = raw_output(console)
    assert len(output.encode()) <= 4 * len(answer.encode())
    shown = Screen().feed(output)
    assert shown.max_up < 25
    assert squash(shown.text()) == squash(rendered_whole(answer))
