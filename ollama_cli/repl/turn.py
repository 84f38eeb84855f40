"""One REPL turn: route the prompt, stream the answer through the renderer, store it.

The conversation and the request are the ones ``complete`` uses (``Conversation``,
``request_for``), with the REPL's current provider and model. Ctrl-C cancels the task running
this coroutine: the partial answer stays on screen, in the context and in history, marked
interrupted. When every provider fails, the trace is shown and the session goes on.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from ollama_cli.attach import Bundle
from ollama_cli.conversation import request_for
from ollama_cli.reasoning import ReasoningView
from ollama_cli.render.safe import visible
from ollama_cli.repl.state import LastAnswer
from ollama_cli.router import RouteRequest, RoutingError
from ollama_cli.router.advice import cut_notice
from providers.types import Attachment

if TYPE_CHECKING:
    from ollama_cli.repl.state import ReplState
    from ollama_cli.router import RouteResult


def request(
    state: ReplState,
    prompt: str,
    provider: str | None = None,
    parts: tuple[Attachment, ...] = (),
) -> RouteRequest:
    """The routed request for ``prompt``; ``provider`` (``/retry NAME``) goes first, at its
    default model, for this turn only."""
    base = request_for(state.turn, state.conversation, prompt, parts)
    if provider is None or provider == state.provider:
        return replace(base, provider=state.provider, model=state.model)
    return replace(base, provider=provider, model=None)


def take_pending(state: ReplState, prompt: str) -> tuple[str, tuple[Attachment, ...]]:
    """The message with what ``/file`` (or ``chat -f``) attached; nothing stays pending."""
    bundle, state.pending = state.pending, Bundle()
    return bundle.prompt(prompt), tuple(bundle.parts)


async def answer(
    state: ReplState,
    prompt: str,
    provider: str | None = None,
    parts: tuple[Attachment, ...] = (),
) -> None:
    """Ask, show and store one answer (cancel the task to interrupt it)."""
    from ollama_cli.render import make_renderer

    conversation = state.conversation
    routed = state.router.stream(request(state, prompt, provider, parts), notify=state.notify)
    renderer = make_renderer(
        state.console, raw=state.raw, environ=state.app.environ, notices=state.writer
    )
    state.fallback = None
    state.unanswered = None
    outcome = "failed"
    started = time.perf_counter()
    conversation.add_user(prompt, parts)
    renderer.start(f"waiting for {provider or state.target()[0]}…")
    state.renderer = renderer
    thoughts = ReasoningView(renderer.notice, show=state.show_reasoning, safe=visible)
    routed.on_reasoning = thoughts.feed
    try:
        with renderer:
            async for text in routed:
                thoughts.done()
                renderer.feed(text)
                conversation.stream_text(text, routed.result.provider, routed.result.model)
        outcome = "ok"
    except RoutingError:
        outcome = "failed"
    except asyncio.CancelledError:
        outcome = "interrupted"
        raise
    finally:
        thoughts.done()
        state.renderer = None
        await routed.aclose()
        latency = round((time.perf_counter() - started) * 1000)
        result = routed.result
        conversation.add_answer(result, latency_ms=latency, interrupted=outcome == "interrupted")
        _settle(state, prompt, parts, result, LastAnswer.of(result, latency, outcome))
    cut = cut_notice(result, None, "ask it to go on")
    if cut and outcome == "ok":
        state.say(cut, dim=True)
    if outcome == "failed":
        show_failure(state, result)
    elif state.turn.verbose:
        show_trace(state, result)
        if result.text:
            from ollama_cli.usage.summary import cost_summary

            state.say(f"  {cost_summary(result)}", dim=True)
    state.say("")


def _settle(
    state: ReplState,
    prompt: str,
    parts: tuple[Attachment, ...],
    result: RouteResult,
    last: LastAnswer,
) -> None:
    """Update the toolbar's record; a prompt that got no text at all leaves the context (two
    questions in a row confuse models) but stays ready for ``/retry``."""
    state.last = last
    state.spent.add(last, answered=bool(result.text))
    if not result.text:
        messages = state.conversation.messages
        if messages and messages[-1].role == "user":
            messages.pop()
        state.unanswered, state.unanswered_parts = prompt, parts


def show_trace(state: ReplState, result: RouteResult, *, failed_only: bool = False) -> None:
    """One dimmed line per attempt (``-v``), or per failed attempt."""
    for attempt in result.attempts:
        if not (failed_only and attempt.outcome == "ok"):
            state.say(f"  {attempt.line()}", dim=True)


def show_failure(state: ReplState, result: RouteResult) -> None:
    """Every failed attempt, dimmed, then the reason in one line."""
    show_trace(state, result, failed_only=True)
    from ollama_cli.router.advice import summary

    reason = summary(result, state.app.config, state.app.environ)
    state.say(f"{reason} (/providers shows their health; /retry asks again)")


async def retry(state: ReplState, provider: str | None = None) -> None:
    """Ask the last question again, without its last answer in the context."""
    prompt, parts = state.unanswered, state.unanswered_parts
    messages = state.conversation.messages
    if prompt is None:
        last_user = next(
            (i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), None
        )
        if last_user is None:
            state.say("nothing to retry yet")
            return
        prompt, parts = messages[last_user].content, messages[last_user].attachments
        del messages[last_user:]
    await answer(state, prompt, provider, parts)
