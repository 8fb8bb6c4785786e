"""The structured-output method per endpoint and model: forced by the setting, or probed once and remembered.

Remembered in the home's ``capabilities.json`` (Settings.capabilities_file), keyed by base URL (as shown: without
a password) and model, with what the probe found and when; a method a run had to switch to is recorded there too,
so the next run starts with the one that works. Deleting the file makes the next run probe again.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from core.errors import ModelCallError
from core.redact import redact_url
from core.vocabulary import OutputLimit, StructuredMethod, StructuredSetting
from tools.model import session
from tools.model.capabilities import Capabilities, probe, probe_output_limit

log = logging.getLogger(__name__)
VERSION = 1


@dataclass(frozen=True)
class Remembered:
    """The method chosen for one endpoint and model, when, from what (None: learnt from a refusal in a run)."""

    chosen: StructuredMethod
    at: str  # ISO date and time (UTC)
    found: Capabilities | None = None
    note: str = ""  # why a run switched to ``chosen``

    @property
    def day(self) -> str:
        """The date it was probed or switched (YYYY-MM-DD)."""
        return self.at[:10]


def _key(base_url: str, model: str) -> str:
    return f"{redact_url(base_url)} {model}"


def now() -> str:
    """The time stamp of a record."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # damaged or unreadable: probed again, and written over when a run saves
        log.warning("%s cannot be read (%s); the server's capabilities are probed again", path, exc)
        return {}
    endpoints = data.get("endpoints") if isinstance(data, dict) else None
    return endpoints if isinstance(endpoints, dict) else {}


def recall(path: Path, base_url: str, model: str) -> Remembered | None:
    """What was remembered for this endpoint and model, if anything (a record in another shape is not)."""
    record = _read(path).get(_key(base_url, model))
    if not isinstance(record, dict) or record.get("chosen") not in get_args(StructuredMethod):
        return None
    found = Capabilities.from_dict(record.get("found")) if record.get("found") is not None else None
    return Remembered(record["chosen"], str(record.get("at", "")), found, str(record.get("note", "")))


def remember(path: Path, base_url: str, model: str, record: Remembered) -> None:
    """Save ``record`` for this endpoint and model (the file is replaced whole: a reader never sees half of it)."""
    endpoints = _read(path)
    endpoints[_key(base_url, model)] = {
        "base_url": redact_url(base_url), "model": model, "chosen": record.chosen, "at": record.at,
        "found": record.found.to_dict() if record.found else None, "note": record.note}
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump({"version": VERSION, "endpoints": endpoints}, file, indent=2, sort_keys=True)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def record_switch(path: Path, base_url: str, model: str, method: StructuredMethod, why: str) -> None:
    """Remember that a run had to switch this endpoint and model to ``method`` (what the probe found is kept)."""
    before = recall(path, base_url, model)
    try:
        remember(path, base_url, model, Remembered(method, now(), before.found if before else None, why))
    except OSError as exc:  # the run goes on with the method that works; only the next run's start is lost
        log.warning("could not remember the switch to %s in %s: %s", method, path, exc.strerror or exc)


@dataclass(frozen=True)
class Asking:
    """How one run asks one model: the structured-output method, and the name that bounds a reply."""

    method: StructuredMethod
    output_limit: OutputLimit = "max_completion_tokens"


async def structured_method(setting: StructuredSetting, base_url: str, model: str, api_key: str, path: Path,
                            timeout: float = 60.0) -> Asking:
    """How to ask: the setting's method when forced; for auto the remembered one, else probe and remember.

    A probe the server could not finish (busy, too slow) leaves nothing remembered: this run asks with
    json_schema, which falls back at the first refusal, and the next run probes again. A forced method still
    learns how the server bounds a reply: from what is remembered, else from one small request (kept for the
    owner: the run, the eval).
    """
    known = await asyncio.to_thread(recall, path, base_url, model)
    limit = known.found.output_limit if known is not None and known.found is not None else None
    if setting != "auto":
        return Asking(setting, limit or await _output_limit(base_url, model, api_key, timeout))
    if known is not None:
        return Asking(known.chosen, limit or "max_completion_tokens")
    try:
        found = await probe(base_url, model, api_key, timeout)
    except ModelCallError as exc:
        log.warning("the capability probe of %s did not finish (%s); asking with json_schema this run", base_url, exc)
        return Asking("json_schema")
    chosen = found.choose()
    try:
        await asyncio.to_thread(remember, path, base_url, model, Remembered(chosen, now(), found))
    except OSError as exc:
        log.warning("could not remember the capabilities in %s (%s); the next run probes again", path,
                    exc.strerror or exc)
    log.info("%s (%s): %s; structured output %s", redact_url(base_url), model, found.describe(), chosen)
    return Asking(chosen, found.output_limit)


async def _output_limit(base_url: str, model: str, api_key: str, timeout: float) -> OutputLimit:
    """How the server bounds a reply, asked once per owner (tools/model/session.py)."""
    limits = session.current().output_limits
    if (base_url, model) not in limits:
        try:
            limits[base_url, model] = await probe_output_limit(base_url, model, api_key, timeout)
        except ModelCallError as exc:
            log.warning("could not ask %s how it bounds a reply (%s); sending max_completion_tokens", base_url, exc)
            return "max_completion_tokens"
    return limits[base_url, model]


def usable(method: StructuredMethod, base_url: str) -> StructuredMethod:
    """``method``, or the next one if the server at ``base_url`` refused it to this owner (a run, an eval)."""
    learnt = session.current()
    if method == "tool_calling" and base_url in learnt.no_tools:
        method = "json_schema"
    if method == "json_schema" and base_url in learnt.no_json_schema:
        method = "text"
    return method


async def refused(method: StructuredMethod, base_url: str, model: str, why: str,
                  path: Path | None) -> StructuredMethod:
    """The method to ask with after the server refused ``method``'s parameter: tool_calling -> json_schema -> text.

    Said in one line (a warning), kept for this owner (a run, an eval), and remembered in ``path`` so the next
    run starts there.
    """
    learnt = session.current()
    (learnt.no_json_schema if method == "json_schema" else learnt.no_tools).add(base_url)
    after = usable(method, base_url) if method == "tool_calling" else "text"
    what = "response_format=json_schema" if method == "json_schema" else "a forced tool call"
    log.warning("endpoint rejected %s (%s); using %s from now on", what, why, after)
    if path is not None:
        await asyncio.to_thread(record_switch, path, base_url, model, after, f"{method} refused in a run: {why}")
    return after
