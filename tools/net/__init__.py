"""The HTTP layer below the web and the model client.

TLS, timeouts, JSON API calls with retries, and the address policy that keeps page fetches off private networks.
"""
