"""Answers from the archive: Q&A mining, the BM25 + rapidfuzz engine, stored pairs, reply texts.

`engine.AnswerEngine` is the entry point (`from_days`, `from_store`, `ask`, `search`,
`update_days`, `remove_days`, `refresh_from_store`, the last three from `snapshot.IndexedDays`);
`results` holds what it returns and `reply` turns those into chat text.
"""
