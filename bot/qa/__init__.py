"""Answers from the archive: Q&A mining, the BM25 + rapidfuzz engine, stored pairs, reply texts.

`engine.AnswerEngine` is the entry point (`from_days`, `from_store`, `ask`, `search`,
`update_days`, `remove_days`, `refresh_from_store`); `reply` turns its results into chat text.
"""
