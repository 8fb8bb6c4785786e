"""What the project relies on in LangGraph's checkpoint storage that LangGraph does not publish, in one place.

None of it is a public API, so an upgrade may change any of it without notice: ``tests/test_private_api.py`` pins
each part (an upgrade that breaks one fails there, by name) and pyproject.toml caps the LangGraph versions CI
verified.

- The tables the savers write (``checkpoints``, ``writes``; Postgres' ``checkpoint_migrations``). The thread
  commands query them; the SQLite saver's maintenance (delete a run's checkpoints, copy a thread, prune) rewrites
  them, since LangGraph's SQLite saver implements none of the three.
- The serializer's format: a checkpoint stored as ``msgpack``, a map with its ``ts`` and ``channel_values``, which the
  quick listing reads without loading LangGraph (``deepresearch threads`` must answer at once).
- The channels of the pending writes that mark an interrupt waiting for a person, and a resume under way.
- ``_DeltaSnapshot``, the blob of a DeltaChannel's whole value, which pruning writes into the oldest checkpoint kept.
  (``DeltaChannel.from_checkpoint`` also takes a plain value, but only to migrate old blobs; the snapshot is what
  LangGraph itself writes, and what its ancestor walk stops at.)

Importing this module loads neither LangGraph nor ormsgpack: each is imported when first used.
"""

from __future__ import annotations

from typing import Any

INTERRUPT = "__interrupt__"  # a write on this channel: an interrupt() waits for a person
RESUME = "__resume__"  # ... and on this one: the answer to it, given to a run that has not finished yet
MSGPACK = "msgpack"  # the type tag of a checkpoint the serializer stored as msgpack

# The tables, with ``?`` placeholders (the Postgres store translates them). First, the queries both stores answer.
THREAD_IDS = ("SELECT thread_id, max(checkpoint_id) AS latest FROM checkpoints "
              "WHERE checkpoint_ns = '' GROUP BY thread_id ORDER BY latest DESC")
THREAD_EXISTS = "SELECT 1 FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' LIMIT 1"
LATEST_METADATA = ("SELECT metadata FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' "
                   "ORDER BY checkpoint_id DESC LIMIT 1")
CHECKPOINT_TABLE = "checkpoints"  # doctor counts its threads and rows
COUNTS = "SELECT count(DISTINCT thread_id), count(*) FROM checkpoints"

# The SQLite tables only: the quick listing's newest checkpoint of each thread, and the signals pending on them.
LATEST_CHECKPOINTS = """
    SELECT c.thread_id, c.checkpoint_id, c.type, c.checkpoint, c.metadata
    FROM checkpoints c JOIN (SELECT thread_id, max(checkpoint_id) AS latest FROM checkpoints
                             WHERE checkpoint_ns = '' GROUP BY thread_id) m
      ON c.thread_id = m.thread_id AND c.checkpoint_id = m.latest AND c.checkpoint_ns = ''
    ORDER BY c.checkpoint_id DESC
"""
PENDING_SIGNALS = f"""
    SELECT thread_id, checkpoint_id, channel FROM writes
    WHERE checkpoint_ns = '' AND channel IN ('{INTERRUPT}', '{RESUME}')
"""

# The SQLite saver's maintenance: a run's checkpoints (``marks``: one ``?`` per run id), and deleting one checkpoint.
RUN_CHECKPOINTS = ("SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints "
                   "WHERE json_extract(CAST(metadata AS TEXT), '$.run_id') IN ({marks})")
DELETE_WRITES_OF = "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"
DELETE_CHECKPOINT = "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"
# a thread's whole chain, copied row for row under another thread id (the id first in each row inserted)
THREAD_CHECKPOINTS = ("SELECT checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata "
                      "FROM checkpoints WHERE thread_id = ?")
THREAD_WRITES = ("SELECT checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value FROM writes "
                 "WHERE thread_id = ?")
INSERT_CHECKPOINT = "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?)"
INSERT_WRITE = ("INSERT OR REPLACE INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, "
                "channel, type, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
# pruning: a thread's checkpoints, then those dropped (``marks``: one ``?`` per id), the new root and its snapshot
CHAIN = ("SELECT checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata FROM checkpoints "
         "WHERE thread_id = ? AND checkpoint_ns = ''")
DROP_WRITES = "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = '' AND checkpoint_id IN ({marks})"
DROP_CHECKPOINTS = "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' AND checkpoint_id IN ({marks})"
MAKE_ROOT = ("UPDATE checkpoints SET parent_checkpoint_id = NULL WHERE thread_id = ? AND checkpoint_ns = '' "
             "AND checkpoint_id = ?")
REWRITE_CHECKPOINT = ("UPDATE checkpoints SET type = ?, checkpoint = ?, metadata = ? WHERE thread_id = ? AND "
                      "checkpoint_ns = '' AND checkpoint_id = ?")

# Postgres: the newest migration a database has had (the table is missing before the first setup)
MIGRATION_VERSION = "SELECT max(v) AS v FROM checkpoint_migrations"
# the metadata key that counts each delta channel's updates since its last snapshot
SINCE_SNAPSHOT = "counters_since_delta_snapshot"


def fully_migrated(version: Any, migrations: Any) -> bool:
    """Whether a database at migration ``version`` has every one of the saver's ``MIGRATIONS`` (numbered from 0)."""
    return version is not None and int(version) >= len(migrations) - 1


def checkpoint_values(kind: str, blob: bytes) -> dict[str, Any] | None:
    """A stored checkpoint's channel values, plus its time as ``__ts__``; None where this cannot read it.

    Only plain values come through (text, numbers, lists, maps): the serializer's extension types (messages,
    models, snapshots) read as None. Another serializer's checkpoint, or bytes that are not msgpack, give None.
    """
    if kind != MSGPACK:
        return None
    import ormsgpack

    try:
        checkpoint = ormsgpack.unpackb(blob, ext_hook=lambda _code, _data: None)
    except (ormsgpack.MsgpackDecodeError, ValueError):
        return None
    values = checkpoint.get("channel_values") if isinstance(checkpoint, dict) else None
    if not isinstance(values, dict) or not isinstance(checkpoint.get("ts"), str):
        return None
    return {**values, "__ts__": checkpoint["ts"]}


def delta_snapshot(value: Any) -> Any:
    """LangGraph's snapshot of a DeltaChannel's whole value (``_DeltaSnapshot``).

    A checkpoint holding one rebuilds the channel from it, without replaying older writes (what pruning needs).
    """
    from langgraph.checkpoint.serde.types import _DeltaSnapshot

    return _DeltaSnapshot(value)
