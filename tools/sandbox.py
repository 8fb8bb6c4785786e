"""Python code run in a SandboxFusion sandbox (the original's PythonInterpreter): never on this machine.

Only offered when SANDBOX_FUSION_ENDPOINT names a sandbox; the code goes to its ``/run_code`` API and
what the run printed comes back.
"""

from __future__ import annotations

import httpx

from core.errors import ReadError
from tools.net.http import request_json

RUN_TIMEOUT_S = 50  # the original's limit for one run


async def run_python(client: httpx.AsyncClient, base_url: str, code: str) -> str:
    """What ``code`` printed (stdout, stderr) in the sandbox, or why it could not run (never raises)."""
    def fail(message: str, transient: bool) -> ReadError:
        return ReadError(message, transient=transient)

    try:
        data = await request_json(client, "POST", f"{base_url}/run_code", service="the Python sandbox", fail=fail,
                               json={"code": code, "language": "python", "run_timeout": RUN_TIMEOUT_S})
    except ReadError as exc:
        return f"The code could not be run: {exc}"
    run = data.get("run_result") if isinstance(data, dict) else None
    if not isinstance(run, dict):
        return f"The code could not be run: the sandbox answered {str(data)[:300]}"
    parts = [f"{name}:\n{run.get(name) or ''}".rstrip() for name in ("stdout", "stderr") if run.get(name)]
    status = data.get("status", "")
    return "\n".join(parts) or f"The code ran ({status or 'no status'}) and printed nothing; use print() to see values."
