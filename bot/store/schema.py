"""Every table, in one place. Times are UTC epoch seconds (`ts`), dates ISO `YYYY-MM-DD` text.

Archive days (read from day files) and live messages (received by the webhooks) are kept apart:
the nightly publication turns a chat's live day into a day file and ingests it like any other.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON, BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text,
    UniqueConstraint,
)

metadata = MetaData()

groups = Table(
    "groups", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
)

days = Table(
    "days", metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("date", String(10), nullable=False),
    Column("title", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("declared_lines", Integer),
    Column("source", Text),  # the file it was read from
    Column("content_hash", String(64), nullable=False),  # unchanged file = nothing to do
    Column("message_count", Integer, nullable=False),
    Column("ingested_ts", BigInteger, nullable=False),
    UniqueConstraint("group_id", "date", name="uq_days_group_date"),
)

messages = Table(
    "messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("day_id", ForeignKey("days.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),  # order within the day
    Column("ts", BigInteger, nullable=False),
    Column("speaker", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("mentions", JSON),
    Column("image_url", Text),
    Column("line", Integer),  # line of its header in the source file
    Index("ix_messages_day_seq", "day_id", "seq"),
)

# Reply links of archived messages (bot/archive/links.py), by the message's place in its day.
# Kept beside `messages` so days without links cost nothing and older stores gain the table as is.
message_links = Table(
    "message_links", metadata,
    Column("day_id", ForeignKey("days.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("message_id", Text),  # the archive id ("m1042"), None when the message only replies
    Column("reply_to", Text),  # the archive id it replies to
)

members = Table(
    "members", metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(16), nullable=False),  # "archive" for names seen only in day files
    Column("user_key", Text, nullable=False),  # platform user id; the display name for "archive"
    Column("display_name", Text, nullable=False),
    Column("is_bot", Boolean, nullable=False, default=False),
    Column("first_seen_ts", BigInteger, nullable=False),
    Column("last_seen_ts", BigInteger, nullable=False),
    Column("joined_ts", BigInteger),  # from join events: the nickname rule's grace period
    UniqueConstraint("group_id", "platform", "user_key", name="uq_members_identity"),
)

live_messages = Table(
    "live_messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("date", String(10), nullable=False),  # local date in the bot's zone
    Column("sender_id", Text, nullable=False),
    Column("sender_name", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("mentions", JSON),
    Column("reply_to", Text),
    Column("edited_ts", BigInteger),
    UniqueConstraint("platform", "chat_id", "message_id", name="uq_live_delivery"),
    Index("ix_live_group_date", "group_id", "date"),
)

# --- at-least-once handling and limits shared by web processes: bot/store/shared.py -----------------
# A new live message's pending row is written in the same transaction as the message and deleted
# once it is handled; rows left by a crash are handled again at the next start.
pending_work = Table(
    "pending_work", metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("payload", Text, nullable=False),  # the neutral message as JSON (bot/store/shared.py)
    Column("owner", String(200), nullable=False),  # the instance handling it (host:port)
    Column("claimed_ts", BigInteger, nullable=False),
    UniqueConstraint("platform", "chat_id", "message_id", name="uq_pending_work_message"),
)

# Every reply the bot sent in a chat: the per-chat reply limit counts them, and `reply_key`
# (message + position of the reply) makes a resumed handling skip replies that already went out.
chat_replies = Table(
    "chat_replies", metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", Text, nullable=False),
    Column("ts", BigInteger, nullable=False),  # milliseconds
    Column("reply_key", Text),
    UniqueConstraint("reply_key", name="uq_chat_replies_key"),
    Index("ix_chat_replies_chat_ts", "platform", "chat_id", "ts"),
    Index("ix_chat_replies_ts", "ts"),  # pruning (bot/store/limits_pruning.py)
)

# The question cool-down: when each question (key) was last answered in a chat.
answered_questions = Table(
    "answered_questions", metadata,
    Column("platform", String(16), primary_key=True),
    Column("chat_id", String(256), primary_key=True),
    Column("key", String(64), primary_key=True),  # sha256 of the question key, hex, cut
    Column("ts", BigInteger, nullable=False),  # milliseconds
    Index("ix_answered_questions_ts", "ts"),  # pruning (bot/store/limits_pruning.py)
)

# Small per-chat facts every process must see alike (the last answer, for /thread).
chat_state = Table(
    "chat_state", metadata,
    Column("platform", String(16), primary_key=True),
    Column("chat_id", String(256), primary_key=True),
    Column("name", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

# Failed archive sign-ins (bot/store/sign_ins.py): one row a failure, so every web process counts
# the same tries and a restart forgets none. Rows past the window, or past a fixed number of rows,
# are pruned at each failure: an attacker rotating addresses cannot grow the table without bound.
failed_sign_ins = Table(
    "failed_sign_ins", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),  # SQLite: the rowid
    Column("address", String(100), nullable=False),  # the client address as given, cut
    Column("ts", BigInteger, nullable=False),  # milliseconds
    Index("ix_failed_sign_ins_address_ts", "address", "ts"),
    Index("ix_failed_sign_ins_ts", "ts"),
)

# --- scheduled jobs: bot/store/ledger.py -------------------------------------------------
# One row per (job, chat, period): the claim and the send record in one. The unique constraint is
# what makes a restart, a misfire catch-up or a second clock process post at most once.
job_ledger = Table(
    "job_ledger", metadata,
    Column("id", Integer, primary_key=True),
    Column("job", String(40), nullable=False),  # "digest", "nicknames", ...
    Column("chat", String(200), nullable=False),  # "platform:chat_id", or "group:<name>" for publish
    Column("period", String(64), nullable=False),  # "2018-02-28", "2018-02", "2018-02-28:<hash>"
    Column("status", String(12), nullable=False),  # "sending" -> "delivered"
    Column("text", Text, nullable=False),  # what was (to be) sent: the send record
    Column("runner", Text, nullable=False),  # host:pid of the process that claimed it
    Column("claimed_ts", BigInteger, nullable=False),
    Column("delivered_ts", BigInteger),
    Column("message_ids", JSON),
    UniqueConstraint("job", "chat", "period", name="uq_job_ledger_run"),
)

# How often each member of a chat was reminded of the nickname rule (rule 2.5: two reminders).
nickname_reminders = Table(
    "nickname_reminders", metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", Text, nullable=False),
    Column("user_key", Text, nullable=False),
    Column("name", Text, nullable=False),  # the display name they were last reminded under
    Column("count", Integer, nullable=False),
    Column("first_ts", BigInteger, nullable=False),
    Column("last_ts", BigInteger, nullable=False),
    Column("escalated_ts", BigInteger),  # listed to the admins as eligible for removal
    UniqueConstraint("platform", "chat_id", "user_key", name="uq_nickname_reminders_member"),
)

# Q&A pairs mined from each archive day (bot/qa/mining.py). Positions refer to the day's messages
# in `seq` order. A deleted day drops its pairs (CASCADE); a day replaced in place is re-mined
# because `qa_mined` remembers the content hash (and miner version) the pairs came from.
qa_mined = Table(
    "qa_mined", metadata,
    Column("day_id", ForeignKey("days.id", ondelete="CASCADE"), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("miner_version", Integer, nullable=False),
)

qa_pairs = Table(
    "qa_pairs", metadata,
    Column("id", Integer, primary_key=True),
    Column("day_id", ForeignKey("days.id", ondelete="CASCADE"), nullable=False),
    Column("question_seqs", JSON, nullable=False),  # the question line and the asker's continuation
    Column("answer_seqs", JSON, nullable=False),  # the exchange that answered it, in order
    Column("ts", BigInteger, nullable=False),  # when the question was asked
    Index("ix_qa_pairs_day", "day_id"),
)

# Sentence-encoder vectors (bot/store/vectors.py), computed once per (encoder, text) and kept:
# the key is the encoder's name and a hash of the exact text, so a changed unit, a new miner
# version or a newly published day only encodes the texts never seen before.
text_vectors = Table(
    "text_vectors", metadata,
    Column("encoder", String(200), primary_key=True),
    Column("text_hash", String(32), primary_key=True),  # blake2b-128 of the text, hex
    Column("vector", LargeBinary, nullable=False),  # float32 little-endian, the encoder's dim values
)

# Content words of each archived text for the lexical index (bot/store/tokens.py), so a start
# reads them instead of segmenting the whole archive with jieba again. Keyed by the segmenter's
# version (jieba, dictionaries, normalisation) and a hash of the raw text.
text_tokens = Table(
    "text_tokens", metadata,
    Column("tokenizer", String(64), primary_key=True),
    Column("text_hash", String(32), primary_key=True),  # blake2b-128 of the raw text, hex
    Column("norm_hash", String(32), nullable=False),  # of its normalised form: texts alike share a document
    Column("words", Text, nullable=False),  # content words joined by single spaces
)

# --- what the bot answered and what the group said about it (bot/store/answers.py) ------------
# One row per answer or suggestion posted: the question (its message and text, kept for learning
# which questions a unit does not answer), the archived unit chosen and its score.
answers = Table(
    "answers", metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", Text, nullable=False),
    Column("group_name", String(200), nullable=False),
    Column("kind", String(12), nullable=False),  # "answer" | "suggestion"
    Column("prompted", Boolean, nullable=False),  # asked with /ask (True) or posted unprompted
    Column("question_message_id", Text),
    Column("asker_id", Text),  # platform user id of who asked (erasure removes their questions)
    Column("question", Text, nullable=False),
    Column("unit", Text, nullable=False),  # unit key (bot/learning.py unit_key)
    Column("score", Float, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Index("ix_answers_chat", "platform", "chat_id", "unit"),
)

# The bot's own message ids of an answer (a long answer may be several messages).
answer_messages = Table(
    "answer_messages", metadata,
    Column("platform", String(16), primary_key=True),
    Column("chat_id", Text, primary_key=True),
    Column("message_id", Text, primary_key=True),
    Column("answer_id", ForeignKey("answers.id", ondelete="CASCADE"), nullable=False),
)

# One verdict per member and answer: +1 right, -1 wrong; a member's later verdict replaces theirs.
answer_feedback = Table(
    "answer_feedback", metadata,
    Column("answer_id", ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Text, primary_key=True),
    Column("verdict", Integer, nullable=False),
    Column("source", String(12), nullable=False),  # "reaction" | "reply" | "command"
    Column("ts", BigInteger, nullable=False),
)

# Admins' curation per chat (bot/store/curation.py): "pin" a unit as the answer to a question,
# "hide" a unit from every answer in the chat.
curation = Table(
    "curation", metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", Text, nullable=False),
    Column("action", String(8), nullable=False),  # "pin" | "hide"
    Column("unit", Text, nullable=False),
    Column("question", Text, nullable=False),  # "" for hide
    Column("admin_id", Text, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Index("ix_curation_chat", "platform", "chat_id"),
)

# Erasures (bot/erasure.py): who asked, when, how many messages; never any content.
erasures = Table(
    "erasures", metadata,
    Column("id", Integer, primary_key=True),
    Column("requested_by", Text, nullable=False),  # "platform:user id" or "operator"
    Column("scope", Text, nullable=False),  # the group, or "*" for every group
    Column("mode", String(8), nullable=False),  # "remove" | "marker"
    Column("archived", Integer, nullable=False),  # archived messages removed or replaced
    Column("live", Integer, nullable=False),  # live messages removed
    Column("ts", BigInteger, nullable=False),
)

# The days each erasure rewrote (group and date, never content), so running processes reload just
# those (bot/erasure_watch.py).
erased_days = Table(
    "erased_days", metadata,
    Column("erasure_id", ForeignKey("erasures.id", ondelete="CASCADE"), primary_key=True),
    Column("group_name", String(200), primary_key=True),
    Column("date", String(10), primary_key=True),  # ISO date
)

# Refits of the answer ranker on feedback and the eval sets' dev split (bot/refit.py):
# every attempt with its held-out figures before and after; only adopted ones are used.
ranker_models = Table(
    "ranker_models", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # "hybrid" or "lexical": the engine it was fitted for
    Column("model", JSON, nullable=False),  # bot.qa.ranker.Model.to_json()
    Column("rows", Integer, nullable=False),  # labelled questions fitted on (feedback + dev)
    Column("heldout_before", JSON, nullable=False),  # held-out figures of the model in use
    Column("heldout_after", JSON, nullable=False),  # and of the refitted one
    Column("adopted", Boolean, nullable=False),
    Column("ts", BigInteger, nullable=False),
)

# Indexes declared after their table was first released: `metadata.create_all` creates missing
# tables only, so `connect` creates these on a store made by an earlier version (bot/store/db.py).
LATER_INDEXES = ("ix_chat_replies_ts", "ix_answered_questions_ts")
