"""The ``command`` provider against real processes: small Python scripts that stream,
fail, hang, write broken UTF-8 or ignore their input, run through a real pipe."""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ollama_cli_command_provider import CommandProvider, get_provider_spec
from ollama_cli_command_provider.protocol import render_input

from providers.base import ProviderSettings
from providers.errors import (
    ModelNotFoundError,
    ProviderUnavailableError,
    ProviderUnreachableError,
)
from providers.spec import ProviderSpec
from providers.types import ChatRequest, Chunk, Message

PY = sys.executable


def script(code: str) -> str:
    """A command line running ``code`` under this interpreter."""
    return f"{shlex.quote(PY)} -c {shlex.quote(code)}"


def make(command: str | None, *, timeout: float = 10.0, **options: str) -> CommandProvider:
    opts: dict[str, object] = dict(options)
    if command is not None:
        opts["command"] = command
    settings = ProviderSettings(
        name="cmd", type="command", default_model="default", timeout=timeout, options=opts
    )
    return CommandProvider(settings)


def ask(prompt: str = "hi", model: str = "default", **kw: object) -> ChatRequest:
    return ChatRequest(messages=(Message("user", prompt),), model=model, **kw)  # type: ignore[arg-type]


async def collect(chunks: AsyncIterator[Chunk]) -> list[Chunk]:
    return [chunk async for chunk in chunks]


def text_of(chunks: list[Chunk]) -> str:
    return "".join(c.text for c in chunks)


def gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (exited, or a zombie nobody reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


async def test_the_prompt_goes_to_stdin_and_stdout_is_the_answer() -> None:
    p = make(script("import sys; print(sys.stdin.read().upper())"))
    chunks = await collect(p.stream(ask("hello there")))
    assert text_of(chunks) == "HELLO THERE\n"
    assert chunks[-1] == Chunk(finish_reason="stop")


async def test_output_streams_as_the_command_writes_it() -> None:
    code = (
        "import sys, time\n"
        "for part in ('one ', 'two ', 'three'):\n"
        "    sys.stdout.write(part); sys.stdout.flush(); time.sleep(0.05)\n"
    )
    chunks = await collect(make(script(code)).stream(ask()))
    texts = [c.text for c in chunks if c.text]
    assert "".join(texts) == "one two three"
    assert len(texts) >= 3  # three separate writes, three separate chunks


async def test_a_character_split_across_writes_is_decoded_whole() -> None:
    code = (
        "import sys, time\n"
        "out = sys.stdout.buffer\n"
        "out.write(b'caf\\xc3'); out.flush(); time.sleep(0.05)\n"
        "out.write(b'\\xa9 \\xf0\\x9f'); out.flush(); time.sleep(0.05)\n"
        "out.write(b'\\x98\\x80'); out.flush()\n"
    )
    chunks = await collect(make(script(code)).stream(ask()))
    assert text_of(chunks) == "café 😀"
    assert "\ufffd" not in text_of(chunks)


async def test_output_that_is_not_utf8_is_an_error_naming_the_problem() -> None:
    code = "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe')"
    with pytest.raises(ProviderUnavailableError, match=r"^cmd: .* not valid UTF-8$"):
        await collect(make(script(code)).stream(ask()))


async def test_a_non_zero_exit_is_unavailable_with_stderrs_first_line() -> None:
    code = "import sys; sys.stderr.write('\\nboom: no credit left\\nmore detail\\n'); sys.exit(3)"
    with pytest.raises(ProviderUnavailableError) as info:
        await collect(make(script(code)).stream(ask()))
    assert str(info.value) == f"cmd: {PY} exited with status 3: boom: no credit left"


async def test_a_command_killed_by_a_signal_says_so() -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    with pytest.raises(ProviderUnavailableError, match="was killed by signal 15"):
        await collect(make(script(code)).stream(ask()))


async def test_a_missing_executable_is_named_and_not_worth_a_retry() -> None:
    p = make("no-such-program-xyz --flag")
    with pytest.raises(ProviderUnreachableError) as info:
        await collect(p.stream(ask()))
    assert str(info.value) == (
        "cmd: command not found: no-such-program-xyz (is it installed and on PATH?)"
    )
    assert isinstance(info.value, ProviderUnavailableError)


async def test_silence_longer_than_timeout_fails_and_stops_the_command(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    code = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(30)"
    started = time.monotonic()
    with pytest.raises(ProviderUnavailableError, match=r"wrote nothing for 0\.3 s \(timed out\)"):
        await collect(make(script(code), timeout=0.3).stream(ask()))
    assert time.monotonic() - started < 5
    assert gone(int(pidfile.read_text()))


async def test_a_consumer_that_stops_early_stops_the_command_and_its_children(
    tmp_path: Path,
) -> None:
    pidfile = tmp_path / "pids"
    code = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '30'])\n"
        f"open({str(pidfile)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "sys.stdout.write('first words'); sys.stdout.flush(); time.sleep(30)\n"
    )
    stream = make(script(code)).stream(ask())
    first = await anext(stream)
    assert first.text == "first words"
    await stream.aclose()
    pids = [int(x) for x in pidfile.read_text().split()]
    deadline = time.monotonic() + 2
    while not all(gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert all(gone(pid) for pid in pids)


async def test_an_empty_answer_with_exit_zero_is_a_failure() -> None:
    with pytest.raises(ProviderUnavailableError, match="exited without writing an answer"):
        await collect(make(script("pass")).stream(ask()))


async def test_a_command_that_ignores_a_large_input_still_answers() -> None:
    chunks = await collect(make(script("print('ok')")).stream(ask("x" * 2_000_000)))
    assert text_of(chunks) == "ok\n"


async def test_large_output_and_a_flood_on_stderr_do_not_deadlock() -> None:
    code = (
        "import sys\n"
        "sys.stderr.write('e' * 1_000_000); sys.stderr.flush()\n"
        "sys.stdout.write('a' * 1_000_000)\n"
    )
    chunks = await collect(make(script(code)).stream(ask()))
    assert text_of(chunks) == "a" * 1_000_000


async def test_chat_returns_the_whole_answer() -> None:
    result = await make("cat").chat(ask("echo me"))
    assert (result.text, result.model, result.finish_reason) == ("echo me", "default", "stop")


async def test_the_model_placeholder_and_options_reach_the_command() -> None:
    code = (
        "import os, sys; print(sys.argv[1], os.environ['OLLAMA_CLI_MODEL'], "
        "os.environ.get('OLLAMA_CLI_MAX_TOKENS'), os.environ.get('OLLAMA_CLI_TEMPERATURE'))"
    )
    p = make(script(code) + " {model}")
    chunks = await collect(p.stream(ask(model="gpt-4o", max_tokens=50, temperature=0.5)))
    assert text_of(chunks) == "gpt-4o gpt-4o 50 0.5\n"


async def test_a_model_the_command_cannot_choose_is_model_not_found() -> None:
    with pytest.raises(ModelNotFoundError, match=r"no \{model\} placeholder"):
        await collect(make("cat").stream(ask(model="gpt-4o")))


async def test_json_input_carries_the_whole_conversation() -> None:
    code = "import json, sys; d = json.load(sys.stdin); print(d['model'], len(d['messages']))"
    request = ChatRequest(
        messages=(Message("system", "be brief"), Message("user", "hi")), model="default"
    )
    chunks = await collect(make(script(code), input_format="json").stream(request))
    assert text_of(chunks) == "default 2\n"


async def test_an_unknown_input_format_is_refused() -> None:
    with pytest.raises(ProviderUnreachableError, match="input_format must be one of text, json"):
        await collect(make("cat", input_format="xml").stream(ask()))


def test_a_conversation_is_sent_as_a_plain_transcript() -> None:
    request = ChatRequest(
        messages=(
            Message("system", "be brief"),
            Message("user", "hi"),
            Message("assistant", "hello"),
            Message("user", "and?"),
        ),
        model="m",
    )
    assert render_input(request, "text") == (
        b"System: be brief\n\nUser: hi\n\nAssistant: hello\n\nUser: and?\n\nAssistant:"
    )
    assert render_input(ask("just this"), "text") == b"just this"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (None, 'cmd: no command configured (set command = "..." in [providers.cmd])'),
        ("  ", 'cmd: no command configured (set command = "..." in [providers.cmd])'),
        ("llm 'unclosed", 'cmd: cannot parse command "llm \'unclosed" (No closing quotation)'),
    ],
)
async def test_a_bad_command_setting_is_one_line(command: str | None, message: str) -> None:
    with pytest.raises(ProviderUnreachableError) as info:
        await collect(make(command).stream(ask()))
    assert str(info.value) == message


async def test_models_and_health_come_from_the_executable() -> None:
    p = make(f"{PY} -u -c pass")
    assert [m.id for m in await p.list_models()] == [PY]
    health = await p.health_check()
    assert health.models == 1
    assert os.path.samefile(health.detail, PY)


async def test_health_fails_when_the_executable_is_not_on_path() -> None:
    with pytest.raises(ProviderUnreachableError, match="command not found: no-such-program-xyz"):
        await make("no-such-program-xyz").health_check()


def test_the_spec_matches_the_class() -> None:
    spec = get_provider_spec()
    assert spec == ProviderSpec.from_class(
        CommandProvider,
        target="ollama_cli_command_provider.provider:CommandProvider",
        origin="ollama-cli-command-provider",
    )
    assert spec.type_name == "command"
    assert dict(spec.config_fields) == {"command": "str", "input_format": "str"}


async def test_a_python_traceback_is_reported_by_its_exception_line() -> None:
    code = "raise RuntimeError('model file missing')"
    with pytest.raises(
        ProviderUnavailableError, match=r"status 1: RuntimeError: model file missing$"
    ):
        await collect(make(script(code)).stream(ask()))
