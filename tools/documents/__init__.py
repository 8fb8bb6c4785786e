"""Documents: each format parsed into title and text within limits (in worker processes), charsets, passages."""
