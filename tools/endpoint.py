"""Probe an OpenAI-compatible endpoint: is it up, which models does it serve, with what context length."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from deepresearch.errors import EndpointError, EndpointUnreachable


@dataclass(frozen=True)
class ServedModel:
    """A model the endpoint lists; vLLM also reports its served context length."""

    id: str
    max_model_len: int | None


async def list_models(base_url: str, api_key: str, timeout: float = 5.0) -> list[ServedModel]:
    """GET {base_url}/models once, quickly; unreachable endpoints raise EndpointUnreachable."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(f"{base_url}/models", headers={"Authorization": f"Bearer {api_key}"})
    except httpx.TimeoutException as exc:
        raise EndpointUnreachable(base_url, f"no answer within {timeout:g}s") from exc
    except httpx.HTTPError as exc:
        raise EndpointUnreachable(base_url, type(exc).__name__) from exc
    if response.status_code in (401, 403):
        raise EndpointError(f"{base_url} rejected the API key (DEEPRESEARCH_API_KEY)")
    if response.status_code >= 400:
        raise EndpointError(f"{base_url}/models answered HTTP {response.status_code}; is this an OpenAI-compatible "
                            "base URL (usually ending in /v1)?")
    try:
        body = response.json()
    except ValueError as exc:
        raise EndpointError(f"{base_url}/models did not return JSON; is this an OpenAI-compatible base URL?") from exc
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise EndpointError(f"{base_url}/models did not return a model list; is this an OpenAI-compatible base URL?")
    return [ServedModel(str(m.get("id", "")), m["max_model_len"] if isinstance(m.get("max_model_len"), int) else None)
            for m in data if isinstance(m, dict)]
