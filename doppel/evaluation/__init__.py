"""Evaluations of whole agents through real turns (`doppel eval answers`)."""
