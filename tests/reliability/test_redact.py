"""The redaction primitives: a secret split across writes is still caught."""

from __future__ import annotations

import io

from ollama_cli.redact import RedactingStream, Redactor, safe_url, url_secrets

KEY = "sk-live-0123456789abcdef"


def test_a_secret_split_across_writes_never_reaches_the_stream() -> None:
    out = io.StringIO()
    stream = RedactingStream(out, Redactor([KEY]))
    for piece in ("error: key sk-li", "ve-0123", "456789abcdef refused\n", "bye sk-"):
        stream.write(piece)
    assert out.getvalue() == "error: key [redacted] refused\nbye "  # "sk-" held back
    stream.flush()
    assert out.getvalue().endswith("bye sk-")


def test_short_values_are_not_secrets_and_pasted_ones_match_stripped() -> None:
    redact = Redactor(["1", "true", f"  {KEY}\n"])
    assert redact(f"1 true {KEY}") == "1 true [redacted]"


def test_urls_lose_their_credentials() -> None:
    url = f"https://user:{KEY}@host:8443/v1?key={KEY}&model=m"
    assert safe_url(url) == "https://***@host:8443/v1?key=[redacted]&model=m"
    assert KEY in url_secrets(url)
    assert safe_url("not a url") == "not a url"
