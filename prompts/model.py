"""What the model client itself tells a model (tools/model).

The repair instruction for a structured reply, the schema a server that cannot enforce one is shown, and
the capability probe's tiny requests.
"""

from __future__ import annotations

# structured replies (tools/model/llm_json.py): a reply that could not be used, and the text method's schema
REPAIR = (
    "Your previous reply could not be used: {error}. Reply again with only the JSON object, "
    "matching this schema exactly: {schema}"
)

TEXT_INSTRUCTION = "\n\nReply with a single JSON object (no other text after it) matching this JSON schema: {schema}"

# the capability probe (tools/model/capabilities.py): its system prompt marks its requests in a server's log
PROBE_SYSTEM = "You are a capability probe of a model server. Reply briefly."
HELLO = "Say hello."
HELLO_JSON = "Say hello, as a JSON object."
COUNT = "Count from 1 to 30, one number per line."
PROBE_TOOL_DESCRIPTION = "Record that the probe was answered."
