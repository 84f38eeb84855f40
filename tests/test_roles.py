"""Roles through the real CLI: ``[roles.NAME]`` and ``roles/NAME.md``, ``-r``, ``roles …``,
and the role stored with the conversation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.test_cli import cli, write_config
from tests.wire.ollama import OllamaWire

REVIEWER = '[roles.reviewer]\nsystem = "You review code."\nmodel = "qwen3:8b"\ntemperature = 0.2\n'


def ollama_with(home: Path, url: str, extra: str = "") -> None:
    write_config(
        home,
        f'[router]\nchain = ["ollama"]\nretries = 0\n[providers.ollama]\nhost = "{url}"\n' + extra,
    )


def test_a_config_role_sets_system_prompt_model_and_temperature(cli_home: Path) -> None:
    with OllamaWire(accept_any_model=True) as wire:
        wire.answer(["looks fine"]).answer(["still fine"])
        ollama_with(cli_home, wire.url, REVIEWER)
        out = cli(cli_home, "complete", "--json", "-r", "reviewer", "review x = 1")
        flagged = cli(cli_home, "complete", "-r", "reviewer", "-m", "llama3.2", "again")
        shown = cli(
            cli_home, "history", "show", "--json", json.loads(out.stdout)["conversation_id"]
        )
    assert out.returncode == 0, out.stderr
    first, second = wire.chat_bodies()
    assert first["messages"][0] == {"role": "system", "content": "You review code."}
    assert first["model"] == "qwen3:8b"
    assert first["options"]["temperature"] == 0.2
    assert flagged.returncode == 0
    assert second["model"] == "llama3.2"  # -m wins over the role's model
    assert json.loads(shown.stdout)["role"] == "reviewer"


def test_a_role_file_with_front_matter_and_roles_list_show(cli_home: Path) -> None:
    roles = cli_home / "roles"
    roles.mkdir()
    (roles / "poet.md").write_text('+++\nmodel = "qwen3:8b"\n+++\nAnswer in verse.\n')
    with OllamaWire(accept_any_model=True) as wire:
        wire.answer(["roses"])
        ollama_with(cli_home, wire.url, REVIEWER)
        out = cli(cli_home, "complete", "-r", "poet", "hi")
        listed = cli(cli_home, "roles", "list")
        shown = cli(cli_home, "roles", "show", "poet")
    assert out.returncode == 0, out.stderr
    body = wire.chat_bodies()[0]
    assert body["messages"][0] == {"role": "system", "content": "Answer in verse."}
    assert body["model"] == "qwen3:8b"
    lines = listed.stdout.decode().splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["poet", "reviewer"]
    assert "poet.md" in lines[1] and "config" in lines[2]
    assert shown.stdout.decode().rstrip().endswith("Answer in verse.")


def test_an_unknown_role_is_exit_2_naming_the_known_ones(cli_home: Path) -> None:
    write_config(cli_home, REVIEWER)
    out = cli(cli_home, "complete", "-r", "reviwer", "hi")
    assert out.returncode == 2
    assert b"unknown role 'reviwer' (known: reviewer;" in out.stderr
    assert b"Traceback" not in out.stderr


def test_a_broken_role_file_is_one_line_naming_the_file(cli_home: Path) -> None:
    (cli_home / "roles").mkdir()
    (cli_home / "roles" / "bad.md").write_text('+++\nmodle = "x"\n+++\nHi.\n')
    out = cli(cli_home, "complete", "-r", "bad", "hi")
    assert out.returncode == 2
    assert b"bad.md: role.modle: unknown key (known: provider, model" in out.stderr


def test_roles_edit_creates_the_file_with_the_editor_and_unsaved_leaves_none(
    cli_home: Path, tmp_path: Path
) -> None:
    script = tmp_path / "ed.py"
    script.write_text(
        "import sys\nopen(sys.argv[1], 'a').write('Be terse.\\n')\n", encoding="utf-8"
    )
    editor = f"{sys.executable} {script}"
    out = cli(cli_home, "roles", "edit", "terse", EDITOR=editor, VISUAL="")
    assert out.returncode == 0, out.stderr
    assert b"saved role terse" in out.stdout
    shown = cli(cli_home, "roles", "show", "terse")
    assert shown.stdout.decode().rstrip().endswith("Be terse.")
    untouched = cli(cli_home, "roles", "edit", "other", EDITOR="true", VISUAL="")
    assert untouched.returncode == 0
    assert not (cli_home / "roles" / "other.md").exists()
