"""The web: search engines, page fetching (robots, bounded decoding), page loads and the page store."""
