"""Attachments: files, directories, URLs and stdin given with ``-f`` or ``/file``.

``load_all`` turns them into a ``Bundle`` (text blocks for the prompt, image/PDF parts for
the message); ``AttachError`` is its one error, a line for exit 2. httpx is imported only
when a URL is attached.
"""

from ollama_cli.attach.load import AttachError, Bundle, load_all

__all__ = ["AttachError", "Bundle", "load_all"]
