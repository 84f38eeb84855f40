"""Cooldowns never outlive the fix: through the real CLI, with the real state file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import cli, write_config
from tests.wire.ollama import OllamaWire

SECRET = "sk-ant-cooldown-secret-0123456789"


def chain(home: Path, ollama: str, backup: str) -> None:
    write_config(
        home,
        '[router]\nchain = ["ollama", "backup"]\nretries = 0\ncooldown_failures = 1\n'
        f'[providers.ollama]\nhost = "{ollama}"\n'
        f'[providers.backup]\ntype = "ollama"\nhost = "{backup}"\n',
    )


def attempts(run) -> list[tuple[str, str]]:
    return [(a["provider"], a["outcome"]) for a in json.loads(run.stdout)["attempts"]]


def test_p_always_tries_and_a_config_change_ends_the_cooldown(
    cli_home: Path, refused_url: str
) -> None:
    with OllamaWire() as backup, OllamaWire() as fixed:
        for _ in range(3):
            backup.answer(["from backup"])
        fixed.answer(["from the fixed ollama"])
        chain(cli_home, refused_url, backup.url)
        first = cli(cli_home, "complete", "--json", "hi")  # ollama fails: cooldown starts
        second = cli(cli_home, "complete", "hi")
        forced = cli(cli_home, "-p", "ollama", "complete", "--json", "hi")
        chain(cli_home, fixed.url, backup.url)  # the fix: ollama's host changed
        after_fix = cli(cli_home, "complete", "--json", "hi")
    assert attempts(first) == [("ollama", "unavailable"), ("backup", "ok")]
    assert "ollama skipped (cooling down for " in second.stderr.decode()
    assert "after 1 failure; -p ollama tries it now) → backup" in second.stderr.decode()
    assert attempts(forced)[0] == ("ollama", "unavailable")  # asked, not skipped
    assert attempts(after_fix) == [("ollama", "ok")]
    assert json.loads(after_fix.stdout)["text"] == "from the fixed ollama"


def test_the_state_file_holds_a_fingerprint_never_the_key(cli_home: Path, refused_url: str) -> None:
    write_config(
        cli_home,
        '[router]\nchain = ["claude"]\nretries = 0\ncooldown_failures = 1\n'
        f'[providers.claude]\nbase_url = "{refused_url}"\n',
    )
    cli(cli_home, "complete", "hi", ANTHROPIC_API_KEY=SECRET)
    state = (cli_home / "state" / "cooldowns.json").read_text()
    assert len(json.loads(state)["claude"]["fingerprint"]) == 16
    assert SECRET not in state and SECRET[-12:] not in state
    # Another key is another fingerprint: the new key is tried at once.
    again = cli(cli_home, "complete", "--json", "hi", ANTHROPIC_API_KEY=SECRET + "x")
    assert attempts(again) == [("claude", "unavailable")]


def test_providers_list_probes_a_cooling_provider_and_a_pass_clears_it(
    cli_home: Path,
) -> None:
    with OllamaWire() as ollama, OllamaWire() as backup:
        ollama.fail(500, {"error": "model runner crashed"})
        backup.answer(["from backup"])
        chain(cli_home, ollama.url, backup.url)
        cli(cli_home, "complete", "hi")  # a 500: ollama cools down
        listed = cli(cli_home, "providers", "list", "--json")  # ollama is fine again
        after = cli(cli_home, "complete", "--json", "hi")
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["ollama"]["status"] == "ok"
    assert (
        rows["ollama"]["cooling_s"] > 0 and "was cooling down; cleared" in rows["ollama"]["detail"]
    )
    assert rows["backup"]["cooling_s"] is None
    assert attempts(after)[0] == ("ollama", "ok")


def test_providers_reset_forgets_one_or_all(cli_home: Path, refused_url: str) -> None:
    with OllamaWire() as backup:
        backup.answer(["a"]).answer(["b"])
        chain(cli_home, refused_url, refused_url)
        cli(cli_home, "complete", "hi")  # both fail: both cool down
        one = cli(cli_home, "providers", "reset", "ollama")
        state = json.loads((cli_home / "state" / "cooldowns.json").read_text())
        rest = cli(cli_home, "providers", "reset")
        none = cli(cli_home, "providers", "reset")
        unknown = cli(cli_home, "providers", "reset", "olama")
    assert one.returncode == 0 and one.stdout == b"ollama: failures and cooldown forgotten\n"
    assert list(state) == ["backup"]
    assert rest.stdout == b"backup: failures and cooldown forgotten\n"
    assert none.returncode == 0 and none.stdout == b"no failures to forget\n"
    assert unknown.returncode == 2 and b"unknown provider 'olama'" in unknown.stderr
