"""The one turn of ``complete``: route the prompt, show the answer, store it, report the trace.

Whatever happens — success, every provider failing, Ctrl-C mid-stream — the text already
shown is stored (marked interrupted when it is partial) before the process exits.
Lives beside ``complete.py`` (which must stay cheap to import for ``--help``); the REPL's
turn is ``repl/turn.py``, and both build their request with ``conversation.request_for``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from ollama_cli.app import EXIT_NO_ANSWER, EXIT_OK, App
from ollama_cli.conversation import Conversation, request_for
from ollama_cli.options import TurnOptions
from ollama_cli.reasoning import ReasoningView
from ollama_cli.render.sink import make_sink
from ollama_cli.router import RouteResult, RoutingError
from ollama_cli.router.advice import cut_notice
from providers.types import Attachment


async def attached(app: App, turn: TurnOptions, prompt: str) -> tuple[str, tuple[Attachment, ...]]:
    """The prompt with ``-f`` text blocks before it, and the image/PDF parts (exit 2 on a
    file that cannot be attached: nothing has been sent or stored yet)."""
    if not turn.files:
        return prompt, ()
    from ollama_cli.app import UsageError
    from ollama_cli.attach import AttachError, load_all

    try:
        bundle = await load_all(turn.files, read_stdin=sys.stdin.buffer.read)
    except AttachError as exc:
        raise UsageError(str(exc)) from None
    for line in bundle.listing:
        app.warn(f"attached {line}")
    return bundle.prompt(prompt), tuple(bundle.parts)


async def run_turn(app: App, turn: TurnOptions, prompt: str) -> int:
    prompt, parts = await attached(app, turn, prompt)
    conversation = Conversation.open(app, turn)
    request = request_for(turn, conversation, prompt, parts)
    sink = make_sink(turn, app.environ)
    # On a terminal the renderer takes the notices, so they land above its live region.
    notify = sink.notice if not turn.json and sys.stdout.isatty() else app.warn
    routed = app.router.stream(request, notify=notify)
    thoughts = None if turn.json else reasoning_view(app, turn, notify)
    routed.on_reasoning = thoughts.feed if thoughts else None
    started = time.perf_counter()
    failed = False
    conversation.add_user(prompt, parts)
    try:
        with sink:
            sink.status(f"waiting for {request.provider or app.config.router.chain[0]}…")
            async for text in routed:
                if thoughts:
                    thoughts.done()
                sink.feed(text)
                conversation.stream_text(text, routed.result.provider, routed.result.model)
        end_line(turn, routed.result.text)
    except RoutingError:
        failed = True
        end_line(turn, routed.result.text)
    finally:
        if thoughts:
            thoughts.done()
        # Close the stream here, in this task: left to the garbage collector (the reader
        # of `| head` went away), each open generator would print a traceback on stderr.
        await routed.aclose()
        result = routed.result
        latency = round((time.perf_counter() - started) * 1000)
        conversation.add_answer(result, latency_ms=latency)
        await app.router.aclose()
    return report(app, turn, result, conversation, failed=failed)


def reasoning_view(app: App, turn: TurnOptions, notify: Callable[[str], None]) -> ReasoningView:
    """Reasoning where notices go: above the answer on a terminal, else on stderr."""
    from ollama_cli.render.safe import visible

    terminal = sys.stdout.isatty() or sys.stderr.isatty()
    return ReasoningView(notify, show=turn.show_reasoning, safe=visible if terminal else str)


def end_line(turn: TurnOptions, text: str) -> None:
    """To a pipe or file the answer ends with exactly one newline (``| while read``,
    ``| wc -l``); the terminal renderer ends its own lines."""
    if text and not text.endswith("\n") and not turn.json and not sys.stdout.isatty():
        sys.stdout.write("\n")
        sys.stdout.flush()


def report(
    app: App, turn: TurnOptions, result: RouteResult, conversation: Conversation, *, failed: bool
) -> int:
    """Print the JSON object or the trace lines; return the exit status."""
    if turn.json:
        data = result.to_dict()
        data["conversation_id"] = conversation.id
        sys.stdout.write(app.redact(json.dumps(data, ensure_ascii=False)) + "\n")
        sys.stdout.flush()
    if failed or turn.verbose:
        for attempt in result.attempts:
            if failed and attempt.outcome == "ok":
                continue
            app.warn(f"  {attempt.line()}")
    if turn.verbose and result.text and not failed:
        from ollama_cli.usage.summary import cost_summary

        app.warn(f"  {cost_summary(result)}")
    cut = cut_notice(result, turn.max_tokens, "--max-tokens to raise")
    if cut and not failed:
        app.warn(cut)
    if failed:
        from ollama_cli.router.advice import summary

        app.error(summary(result, app.config, app.environ))
        return EXIT_NO_ANSWER
    return EXIT_OK
