"""Config loading: search order, substitution, defaults, validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_cli.config import ConfigError, find_config, load_config
from ollama_cli.paths import app_paths


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_missing_file_means_all_defaults() -> None:
    config = load_config(None, environ={})
    assert config.router.chain == ("ollama", "claude", "gemini", "codex", "hf", "local")
    assert config.router.retries == 1 and config.router.cooldown_seconds == 30
    assert config.providers["claude"].default_model == "claude-sonnet-5-5"
    assert config.providers["hf"].base_url == "https://router.huggingface.co/v1"
    assert config.providers["hf"].key_envs == ("HF_TOKEN",) and config.providers["hf"].key_required
    assert config.providers["gemini"].key_envs == ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    assert not config.providers["ollama"].key_required
    assert config.history_enabled


def test_search_order(tmp_path: Path) -> None:
    paths = app_paths({"OLLAMA_CLI_HOME": str(tmp_path)})
    assert find_config(paths, None, {}) is None
    (tmp_path / "config.toml").write_text("")
    assert find_config(paths, None, {}) == tmp_path / "config.toml"
    assert find_config(paths, None, {"OLLAMA_CLI_CONFIG": "/x.toml"}) == Path("/x.toml")
    assert find_config(paths, "/y.toml", {"OLLAMA_CLI_CONFIG": "/x.toml"}) == Path("/y.toml")


def test_gemini_key_falls_back_to_google_api_key() -> None:
    config = load_config(None, environ={})
    assert config.providers["gemini"].resolve_key({"GOOGLE_API_KEY": "g"}) == "g"
    assert (
        config.providers["gemini"].resolve_key({"GEMINI_API_KEY": "a", "GOOGLE_API_KEY": "g"})
        == "a"
    )


def test_env_substitution(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[providers.claude]\nbase_url = "${env.BASE}/x"\n'
        '[providers.codex]\nbase_url = "${env.NOPE:=http://fallback/v1}"\n',
    )
    config = load_config(path, environ={"BASE": "http://b"})
    assert config.providers["claude"].base_url == "http://b/x"
    assert config.providers["codex"].base_url == "http://fallback/v1"


def test_openai_compatible_instance(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[providers.my-vllm]\ntype = "openai-compatible"\nbase_url = "http://gpu:8000/v1"\n'
        'api_key_env = "VLLM_API_KEY"\ndefault_model = "Qwen/Qwen3-8B"\n'
        '[router]\nchain = ["my-vllm", "local"]\n',
    )
    config = load_config(path, environ={})
    vllm = config.providers["my-vllm"]
    assert (vllm.type, vllm.base_url, vllm.key_envs, vllm.key_required) == (
        "openai-compatible",
        "http://gpu:8000/v1",
        ("VLLM_API_KEY",),
        True,
    )
    settings = vllm.settings({"VLLM_API_KEY": "sk-1234"})
    assert settings.api_key == "sk-1234" and "sk-1234" not in repr(settings)


def test_openai_compatible_needs_a_default_model(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.x]\ntype = "openai-compatible"\nbase_url = "http://h/v1"\n')
    with pytest.raises(ConfigError, match=r"providers\.x\.default_model: is required"):
        load_config(path, environ={})


def test_chain_naming_an_unknown_provider(tmp_path: Path) -> None:
    path = write(tmp_path, '[router]\nchain = ["ollama", "nope"]\n')
    with pytest.raises(ConfigError, match=r":2: router\.chain: unknown provider 'nope'"):
        load_config(path, environ={})


def test_type_specific_keys_are_validated(tmp_path: Path) -> None:
    ok = write(tmp_path, "[providers.local]\nn_ctx = 4096\ntemperature = 0\n")
    assert load_config(ok, environ={}).providers["local"].options == {
        "n_ctx": 4096,
        "temperature": 0,
    }
    bad = write(tmp_path, '[providers.local]\nn_ctx = "big"\n')
    with pytest.raises(ConfigError, match=r"providers\.local\.n_ctx: expected an integer"):
        load_config(bad, environ={})
    alien = write(tmp_path, '[providers.ollama]\nmodel_path = "/x"\n')
    with pytest.raises(ConfigError, match=r"providers\.ollama\.model_path: unknown key"):
        load_config(alien, environ={})


def test_negative_numbers_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[router]\nretries = -1\n")
    with pytest.raises(ConfigError, match="must not be negative"):
        load_config(path, environ={})


def test_literal_key_in_a_world_readable_file_warns(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.claude]\napi_key = "sk-ant-canary"\n', mode=0o644)
    config = load_config(path, environ={})
    assert config.providers["claude"].resolve_key({}) == "sk-ant-canary"
    assert len(config.warnings) == 1 and "chmod 600" in config.warnings[0]
    assert "sk-ant-canary" not in config.warnings[0]
    private = write(tmp_path, '[providers.claude]\napi_key = "sk-ant-canary"\n', mode=0o600)
    assert load_config(private, environ={}).warnings == ()


def test_history_can_be_disabled(tmp_path: Path) -> None:
    path = write(tmp_path, "[history]\nenabled = false\n")
    assert load_config(path, environ={}).history_enabled is False


def test_example_config_is_valid_and_equals_the_defaults() -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    config = load_config(example, environ={})
    defaults = load_config(None, environ={})
    assert config.router == defaults.router
    for name, provider in defaults.providers.items():
        documented = config.providers[name]
        assert (
            documented.type,
            documented.default_model,
            documented.base_url,
            documented.key_envs,
        ) == (provider.type, provider.default_model, provider.base_url, provider.key_envs)
