"""Structured debate: positions of replies, reactions, polls and the thread's synthesis."""
