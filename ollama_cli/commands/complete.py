"""``ollama-cli complete``: one answer, streamed; pipe-friendly.

To a terminal the answer is rendered markdown; to a pipe or file it is the model's exact
text, with notices on stderr only, so ``complete … > out.txt`` holds nothing but the answer.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ollama_cli.commands import add_conversation_options, examples

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.commands import Subparsers

#: Refuse stdin above this size: no provider takes 10 MB of prompt, and reading a runaway
#: pipe forever is worse than a clear message.
MAX_STDIN_BYTES = 10 * 1024 * 1024


def add_parser(sub: Subparsers, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "complete",
        parents=[parent],
        help="answer one prompt (stdin and/or arguments) and exit",
        description="Answer one prompt. If stdin is not a terminal it is read: the prompt is "
        "stdin, a blank line, then the arguments. `ollama-cli PROMPT` is the same command.",
        **examples(
            'ollama-cli "explain TCP slow start"         (complete is the default command)',
            'git diff | ollama-cli complete "write a commit message"',
            'ollama-cli complete -p claude --max-tokens 200 "summarise" < notes.md',
            'ollama-cli complete --json "hi" | jq .attempts',
        ),
    )
    p.add_argument("prompt", nargs="*", help="the prompt (joined with spaces)")
    add_conversation_options(p)
    p.add_argument("--max-tokens", type=int, metavar="N", help="limit the answer's length")
    p.add_argument("--temperature", type=float, metavar="T", help="sampling temperature")
    p.add_argument("--no-stream", action="store_true", help="wait for the whole answer")
    p.add_argument(
        "--edit", action="store_true",
        help="compose the prompt in $VISUAL/$EDITOR (starting from stdin and the arguments)",
    )  # fmt: skip
    p.add_argument(
        "--json", action="store_true", help="print one JSON object with the answer and the trace"
    )
    p.set_defaults(run=run)


def run(app: App) -> int:
    from ollama_cli.app import UsageError, run_async
    from ollama_cli.commands.complete_turn import run_turn

    files = app.args.files
    prompt = read_prompt(app, stdin_attached="-" in files)
    if app.args.edit:
        prompt = compose(app, prompt)
    if not prompt.strip() and not files:
        raise UsageError(
            'nothing to answer: give a prompt, e.g. ollama-cli complete "hello", or pipe text in'
        )
    app.check_provider_flag()
    return run_async(run_turn(app, app.turn(), prompt))


def compose(app: App, draft: str) -> str:
    """``--edit``: the prompt as saved in the editor; closing it without saving sends nothing."""
    from ollama_cli.app import UsageError
    from ollama_cli.editor import EditorError, edit_text

    try:
        text = edit_text(draft, app.environ)
    except EditorError as exc:
        raise UsageError(str(exc)) from None
    if text is None:
        raise UsageError("nothing sent: the editor was closed without saving")
    return text.strip("\n")


def read_prompt(app: App, *, stdin_attached: bool = False) -> str:
    """stdin (when it is not a terminal and not attached with ``-f -``), a blank line, then
    the arguments."""
    from ollama_cli.app import UsageError

    parts: list[str] = []
    stdin = sys.stdin
    if stdin is not None and not stdin.isatty() and not stdin_attached:
        data = stdin.buffer.read(MAX_STDIN_BYTES + 1)
        if len(data) > MAX_STDIN_BYTES:
            raise UsageError(
                f"stdin is larger than {MAX_STDIN_BYTES // (1024 * 1024)} MB; "
                "send a smaller excerpt (e.g. with head -c)"
            )
        text = data.decode("utf-8", errors="replace")
        if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
            app.warn("warning: stdin is not valid UTF-8; undecodable bytes were replaced")
        if "\x00" in text:
            app.warn("warning: stdin contains NUL bytes; they were removed")
            text = text.replace("\x00", "")
        if text.strip():
            parts.append(text.rstrip("\n"))
    words = " ".join(app.args.prompt)
    if words:
        parts.append(words)
    return "\n\n".join(parts)
