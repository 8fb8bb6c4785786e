"""Run the real `deepresearch` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli_env(home: Path, base_url: str = "http://127.0.0.1:9/v1", **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPRESEARCH_")}
    env.update({"DEEPRESEARCH_HOME": str(home), "DEEPRESEARCH_BASE_URL": base_url,
                "DEEPRESEARCH_MAX_RETRIES": "1", "DEEPRESEARCH_TIMEOUT": "30", "COLUMNS": "200", **extra})
    return env


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deepresearch", *args], env=env, cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout)


def spawn(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "deepresearch", *args], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
