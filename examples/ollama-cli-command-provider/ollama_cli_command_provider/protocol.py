"""What goes to the command and how its answer and exit status are read: pure functions,
tested without starting a process.

The command receives the conversation on stdin (plain text by default, one JSON object
with ``input_format = "json"``) and the request's options in ``OLLAMA_CLI_*`` variables;
whatever it writes to stdout is the answer.
"""

from __future__ import annotations

import codecs
import json
import shlex
from collections.abc import Mapping

from providers.errors import ProviderUnavailableError, ProviderUnreachableError
from providers.types import ChatRequest

INPUT_FORMATS = ("text", "json")
#: Longest stderr excerpt quoted in an error, so a stack trace never floods the terminal.
MAX_DETAIL = 200


def command_argv(name: str, command: object, model: str) -> list[str]:
    """The command line as argv, with ``{model}`` replaced by the requested model.

    Raises ProviderUnreachableError for a missing or unparsable ``command``: retrying
    a configuration mistake cannot help, so the router moves on at once.
    """
    if not isinstance(command, str) or not command.strip():
        raise ProviderUnreachableError(
            f'{name}: no command configured (set command = "..." in [providers.{name}])',
            provider=name,
        )
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise ProviderUnreachableError(
            f"{name}: cannot parse command {command!r} ({exc})", provider=name
        ) from exc
    return [word.replace("{model}", model) for word in words]


def render_input(request: ChatRequest, input_format: str) -> bytes:
    """The bytes written to the command's stdin.

    ``text``: a lone user message is sent as is (so ``cat`` echoes the prompt and ``llm``
    reads it as its prompt); a longer conversation becomes a plain transcript.
    ``json``: ``{"model", "messages": [{"role", "content"}], "max_tokens", "temperature"}``.
    """
    if input_format == "json":
        data = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        return (json.dumps(data, ensure_ascii=False) + "\n").encode()
    messages = request.messages
    if len(messages) == 1 and messages[0].role == "user":
        return messages[0].content.encode()
    transcript = "\n\n".join(f"{m.role.capitalize()}: {m.content}" for m in messages)
    return (transcript + "\n\nAssistant:").encode()


def command_env(request: ChatRequest, base: Mapping[str, str]) -> dict[str, str]:
    """The command's environment: ours plus the request's options."""
    env = dict(base)
    env["OLLAMA_CLI_MODEL"] = request.model
    for key, value in (("MAX_TOKENS", request.max_tokens), ("TEMPERATURE", request.temperature)):
        if value is None:
            env.pop(f"OLLAMA_CLI_{key}", None)
        else:
            env[f"OLLAMA_CLI_{key}"] = str(value)
    return env


class OutputDecoder:
    """stdout bytes to text, UTF-8, incrementally: a read may end inside a character."""

    def __init__(self, name: str, program: str) -> None:
        self.name = name
        self.program = program
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def feed(self, data: bytes, *, final: bool = False) -> str:
        try:
            return self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            raise ProviderUnavailableError(
                f"{self.name}: {self.program} wrote output that is not valid UTF-8",
                provider=self.name,
            ) from exc


def first_line(stderr: bytes) -> str:
    """The first non-blank line of stderr, shortened.

    A Python traceback is the exception: its last line, not "Traceback (most recent...".
    """
    lines = [" ".join(s.split()) for s in stderr.decode("utf-8", "replace").splitlines()]
    lines = [s for s in lines if s]
    if not lines:
        return ""
    text = lines[-1] if lines[0].startswith("Traceback (most recent call last)") else lines[0]
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def exit_error(name: str, program: str, returncode: int, stderr: bytes) -> ProviderUnavailableError:
    """A failed run as one line: status (or signal) and the first line of stderr."""
    if returncode < 0:
        what = f"{program} was killed by signal {-returncode}"
    else:
        what = f"{program} exited with status {returncode}"
    detail = first_line(stderr)
    return ProviderUnavailableError(
        f"{name}: {what}" + (f": {detail}" if detail else ""), provider=name
    )
