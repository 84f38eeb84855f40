"""One turn of ``complete``: route the prompt, show the answer, store it, report the trace.

Whatever happens — success, every provider failing, Ctrl-C mid-stream — the text already
shown is stored (marked interrupted when it is partial) before the process exits.
"""

from __future__ import annotations

import json
import sys
import time

from ollama_cli.app import EXIT_NO_ANSWER, EXIT_OK, App
from ollama_cli.conversation import Conversation
from ollama_cli.router import RouteRequest, RouteResult, RoutingError
from ollama_cli.sink import make_sink


def request_for(app: App, conversation: Conversation, prompt: str) -> RouteRequest:
    args = app.args
    provider, model = args.provider, args.model
    if provider is None and model is None and conversation.last_provider:
        provider, model = conversation.last_provider, conversation.last_model
    return RouteRequest(
        messages=conversation.context(prompt),
        model=model,
        provider=provider,
        fallback=False if args.no_fallback else None,
        max_tokens=getattr(args, "max_tokens", None),
        temperature=getattr(args, "temperature", None),
        stream=not getattr(args, "no_stream", False),
    )


async def run_turn(app: App, prompt: str, *, json_output: bool) -> int:
    conversation = Conversation.open(app, system=getattr(app.args, "system", None))
    request = request_for(app, conversation, prompt)
    sink = make_sink(app, quiet=json_output)
    routed = app.router.stream(request)
    started = time.perf_counter()
    failed = False
    conversation.add_user(prompt)
    if not json_output and sys.stdout.isatty():
        app.notices = sink.notice  # keep notices out of the renderer's live region
    try:
        with sink:
            sink.status(f"waiting for {request.provider or app.config.router.chain[0]}…")
            async for text in routed:
                sink.feed(text)
                conversation.stream_text(text, routed.result.provider, routed.result.model)
    except RoutingError:
        failed = True
    finally:
        app.notices = None
        result = routed.result
        latency = round((time.perf_counter() - started) * 1000)
        conversation.add_answer(result, latency_ms=latency)
        await app.router.aclose()
    return report(app, result, conversation, failed=failed, json_output=json_output)


def report(
    app: App,
    result: RouteResult,
    conversation: Conversation,
    *,
    failed: bool,
    json_output: bool,
) -> int:
    """Print the JSON object or the trace lines; return the exit status."""
    if json_output:
        data = result.to_dict()
        data["conversation_id"] = conversation.id
        if failed:
            data["text"] = ""
        json.dump(data, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        sys.stdout.flush()
    if failed or app.args.verbose:
        for attempt in result.attempts:
            if failed and attempt.outcome == "ok":
                continue
            app.warn(f"  {attempt.line()}")
    if failed:
        app.error(result.error or "no provider could answer")
        return EXIT_NO_ANSWER
    return EXIT_OK
