"""The fault matrix: every fault of ``servers.FAULTS`` × every remote provider, through the
router with the real adapters over loopback, and through the real CLI (``complete`` plain
and ``--json``) and one REPL turn (``chat`` in a pseudo-terminal) per fault.

Every case checks what a user relies on: the outcome class of each attempt in the trace,
the exit status, one stderr line per failed attempt (never a traceback), that the run ends
(no attempt beyond the configured retries, no hang) and that no canary key shows up anywhere.
How long each fault costs against its goal is measured by ``bench/faults.py``, not here: a
busy machine is slow, not wrong.

To stay fast, everything about one fault runs at once, the first time a test asks for it:
five in-process routers (one per provider, ``victim`` then a healthy ``backup``) while two
CLI processes and one REPL (``victim`` alone) run beside them, each provider in turn.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ollama_cli.config import load_config
from ollama_cli.router import ProviderRouter, RouteRequest, RoutingError
from ollama_cli.router.cooldown import CooldownStore
from providers.types import Message
from tests import HANG_S
from tests.faults import (
    CANARIES,
    ReplTurn,
    Run,
    backup_table,
    finish,
    home_leaks,
    leaks,
    repl_turn,
    start_cli,
    toml_config,
    victim_table,
)
from tests.faults.servers import FAULT_LIST, FAULTS, HUGE, WIRES, Fault, FaultServer
from tests.wire.ollama import DEFAULT_TOKENS, OllamaWire

TIMEOUT = 2.0  # read timeout of a faulty provider that stalls: above the drip's 1 s per byte
PROVIDERS = list(WIRES)
BACKUP_TEXT = "".join(DEFAULT_TOKENS)


def read_timeout(fault: Fault) -> float:
    """Short for the faults that are waited out; generous for the others, so that a busy
    machine, slow to move 5 MB through loopback, never turns a slow read into a stall."""
    return TIMEOUT if fault.timeouts else HANG_S


def failing(fault: Fault) -> bool:
    return fault.outcomes[-1] != "ok"


@dataclass
class RouterCase:
    attempts: list[tuple[str, str, str]] = field(default_factory=list)  # provider, outcome, kind
    text: str = ""
    notices: list[str] = field(default_factory=list)
    unexpected: str | None = None  # an exception outside RoutingError
    hung: bool = False
    requests: int = 0
    closed: bool = True
    leaked: list[str] = field(default_factory=list)


@dataclass
class Group:
    router: dict[str, RouterCase]
    plain: tuple[str, Run, dict[str, list[str]]]
    json: tuple[str, Run, dict[str, list[str]]]
    repl: tuple[str, ReplTurn, dict[str, list[str]]]


async def route(fault: Fault, provider: str, root: Path, backup: str) -> RouterCase:
    """One request through ProviderRouter: ``provider`` faulty, then ``backup``."""
    case, wire = RouterCase(), WIRES[provider]
    with FaultServer(wire, fault) as server:
        path = root / f"router-{provider}.toml"
        victim = victim_table(wire, server.url, read_timeout(fault))
        tables = {provider: victim, "backup": backup_table(backup)}
        path.write_text(toml_config([provider, "backup"], tables, retries=1))
        router = ProviderRouter(
            load_config(path, CANARIES), notify=case.notices.append, environ=CANARIES
        )
        routed = router.stream(RouteRequest((Message("user", "hi"),)))
        try:
            async with asyncio.timeout(HANG_S):
                async for text in routed:
                    case.text += text
        except RoutingError:
            pass
        except TimeoutError:
            case.hung = True
        except Exception as exc:  # the point of the matrix: nothing else may escape
            case.unexpected = f"{type(exc).__name__}: {exc}"
        finally:
            await routed.aclose()
            await router.aclose()
        result = routed.result
        case.attempts = [(a.provider, a.outcome, a.kind) for a in result.attempts]
        case.leaked = leaks(json.dumps(result.to_dict()) + "\n".join(case.notices))
        case.requests = len([r for r in server.requests if wire.is_generate(r)])
        if server.server is not None:  # waited for off the loop: other cases run meanwhile
            case.closed = await asyncio.to_thread(server.server.wait_closed)
    return case


async def route_all(fault: Fault, root: Path) -> dict[str, RouterCase]:
    with OllamaWire(accept_any_model=True) as backup:
        cases = await asyncio.gather(*(route(fault, p, root, backup.url) for p in PROVIDERS))
    return dict(zip(PROVIDERS, cases, strict=True))


def run_group(fault: Fault, root: Path) -> Group:
    """Everything about ``fault`` at once: routers in process, CLI runs and a REPL beside."""
    index = FAULT_LIST.index(fault)
    plain_p, json_p, repl_p = (PROVIDERS[(index + k) % len(PROVIDERS)] for k in (0, 2, 4))
    with ExitStack() as stack:
        homes = {}
        for mode, provider in (("plain", plain_p), ("json", json_p), ("repl", repl_p)):
            wire = WIRES[provider]
            server = stack.enter_context(FaultServer(wire, fault))
            homes[mode] = home = root / mode
            home.mkdir(parents=True)
            table = victim_table(wire, server.url, read_timeout(fault))
            (home / "config.toml").write_text(toml_config([provider], {provider: table}, retries=1))
        procs = [
            start_cli(homes["plain"], "-v", "complete", "hi"),
            start_cli(homes["json"], "complete", "--json", "hi"),
        ]
        turn: list[ReplTurn] = []
        repl = threading.Thread(target=lambda: turn.append(repl_turn(homes["repl"], "hi")))
        repl.start()
        try:
            router = asyncio.run(route_all(fault, root))
        finally:  # whatever happened in process, the children are waited for (or killed)
            runs = [finish(proc, HANG_S) for proc in procs]
            repl.join()
    return Group(
        router,
        (plain_p, runs[0], home_leaks(homes["plain"])),
        (json_p, runs[1], home_leaks(homes["json"])),
        (repl_p, turn[0], home_leaks(homes["repl"])),
    )


class Groups:
    """Each fault's group, run the first time a test asks for it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._done: dict[str, Group] = {}

    def __getitem__(self, name: str) -> Group:
        if name not in self._done:
            self._done[name] = run_group(FAULTS[name], self.root / name)
        return self._done[name]


@pytest.fixture(scope="module")
def groups(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Groups]:
    yield Groups(tmp_path_factory.mktemp("matrix"))


ROUTER_CASES = [pytest.param(f.name, p, id=f"{f.name}-{p}") for f in FAULT_LIST for p in PROVIDERS]
FAULT_CASES = [pytest.param(f.name, id=f.name) for f in FAULT_LIST]


@pytest.mark.parametrize(("name", "provider"), ROUTER_CASES)
def test_router(groups: Groups, name: str, provider: str) -> None:
    fault, case = FAULTS[name], groups[name].router[provider]
    assert case.unexpected is None
    assert not case.hung, f"still running after {HANG_S:g} s"
    if finished_anyway(name, provider):
        assert [(p, o) for p, o, _ in case.attempts] == [(provider, "ok")]
        assert case.text == fault.shown
        return
    assert [o for p, o, _ in case.attempts if p == provider] == list(fault.outcomes)
    backup = [(o, k) for p, o, k in case.attempts if p == "backup"]
    if failing(fault):
        assert backup == [("ok", "resume" if fault.shown else "fallback")]
        assert case.text == fault.shown + BACKUP_TEXT
    else:
        assert backup == [] and case.text == HUGE
    # one notice per failed attempt: "retrying in…" or "… → backup"
    assert len(case.notices) == len(fault.outcomes) - (not failing(fault))
    assert case.requests == (0 if fault.build is None else len(fault.outcomes))
    assert case.closed, "the client left a connection open"
    assert case.leaked == []


TRACE = r"^  {p} \([^)]*\)(?: \((\w+)\))?: (\w+)"


def finished_anyway(name: str, provider: str) -> bool:
    """A Gemini stream that ends cleanly after text without finishReason (as Google's own
    SDK corpus records) is a finished answer, reason "other", not an interruption."""
    return (name, provider) == ("no_finish", "gemini")


def check_stderr(run: Run, provider: str, fault: Fault, *, verbose: bool) -> None:
    """One trace line per attempt (failed ones, or all with -v), retry notices, a last line."""
    lines = run.err_lines
    assert "Traceback" not in run.stderr.decode("utf-8", "replace")
    traced = [m.group(2) for m in (re.match(TRACE.format(p=provider), s) for s in lines) if m]
    retries = [s for s in lines if s.startswith(f"{provider}: ") and "; retrying in " in s]
    shown = list(fault.outcomes) if failing(fault) or verbose else []
    assert traced == shown
    assert len(retries) == len(fault.outcomes) - 1
    # -v ends an answer with its cost line ("  cost $0.0001 (12 in / 1 out tokens)").
    costs = [s for s in lines if s.startswith("  cost ")]
    assert len(costs) == (verbose and not failing(fault))
    assert len(lines) == len(traced) + len(retries) + len(costs) + failing(fault)
    if failing(fault):
        assert lines[-1].startswith(f"ollama-cli: no provider could answer: {provider} ")


@pytest.mark.parametrize("name", FAULT_CASES)
def test_complete_plain(groups: Groups, name: str) -> None:
    fault = FAULTS[name]
    provider, run, in_home = groups[name].plain
    assert run.code is not None, f"killed after {run.elapsed:.1f} s"
    assert run.code == (1 if failing(fault) else 0)
    # The partial text stays on screen, ending with one newline like any piped answer.
    shown = fault.shown + ("\n" if fault.shown and not fault.shown.endswith("\n") else "")
    assert run.stdout == shown.encode()
    check_stderr(run, provider, fault, verbose=True)
    assert leaks(run.stdout + run.stderr) == [] and in_home == {}


@pytest.mark.parametrize("name", FAULT_CASES)
def test_complete_json(groups: Groups, name: str) -> None:
    fault = FAULTS[name]
    provider, run, in_home = groups[name].json
    assert run.code is not None, f"killed after {run.elapsed:.1f} s"
    if finished_anyway(name, provider):
        data = json.loads(run.stdout)
        assert (run.code, data["text"], data["finish_reason"]) == (0, fault.shown, "other")
        return
    assert run.code == (1 if failing(fault) else 0)
    data = json.loads(run.stdout)
    assert [a["outcome"] for a in data["attempts"]] == list(fault.outcomes)
    if failing(fault):
        # An interrupted answer keeps the text that was shown (issue 13).
        assert data["text"] == fault.shown and data["error"] == "no provider could answer"
        assert data.get("interrupted", False) == bool(fault.shown)
    else:
        assert data["text"] == HUGE and "error" not in data
    check_stderr(run, provider, fault, verbose=False)
    assert leaks(run.stdout + run.stderr) == [] and in_home == {}


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


@pytest.mark.parametrize("name", FAULT_CASES)
def test_repl_turn(groups: Groups, name: str) -> None:
    fault = FAULTS[name]
    provider, turn, in_home = groups[name].repl
    screen = ANSI.sub("", turn.output)
    assert turn.ended, f"the turn never ended:\n{screen[-2000:]}"
    assert "Traceback" not in screen
    traced = re.findall(TRACE.format(p=provider)[1:], screen, flags=re.M)
    assert [outcome for _, outcome in traced] == list(fault.outcomes)
    if failing(fault):
        assert "no provider could answer" in screen
    assert turn.exit_status == 0  # the session went on, and Ctrl-D left it
    assert leaks(turn.output) == [] and in_home == {}


async def test_a_cooling_provider_is_tried_when_every_other_one_failed(tmp_path: Path) -> None:
    """Found by bench/soak.py: "cooldown never turns a possible answer into a failure"."""
    with FaultServer(WIRES["ollama"], FAULTS["http_503"]) as bad, OllamaWire() as good:
        first = {"type": "ollama", **victim_table(WIRES["ollama"], bad.url, TIMEOUT)}
        path = tmp_path / "config.toml"
        path.write_text(
            toml_config(
                ["first", "second"], {"first": first, "second": backup_table(good.url)}, retries=0
            )
        )
        cooldowns = CooldownStore(None)
        for _ in range(2):  # two failures in a row: second cools down for 30 s
            cooldowns.record_failure("second", threshold=2, seconds=30, retry_after=None)
        router = ProviderRouter(
            load_config(path, {}), cooldowns=cooldowns, notify=lambda m: None, environ={}
        )
        routed = router.stream(RouteRequest((Message("user", "hi"),)))
        try:
            text = "".join([t async for t in routed])
        except RoutingError:
            text = ""
        finally:
            await router.aclose()
    # The trace says both things: passed over for its cooldown, then tried after all.
    assert [(a.provider, a.outcome) for a in routed.result.attempts] == [
        ("first", "unavailable"),
        ("second", "skipped_cooldown"),
        ("second", "ok"),
    ]
    assert text == BACKUP_TEXT
