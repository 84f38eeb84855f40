"""Issue 14's classes, each through real processes, files and sockets: history that can
fail while the answer cannot, the redaction boundary, private files, bounded waits,
HTTP edges, inputs, state files, exit 70 and proxies."""
