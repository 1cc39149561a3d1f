"""otemachi.signatures: Offline signature verification from 1-5 references per person."""
