"""Loopback servers that speak the providers' wire protocols, with fault injection."""
