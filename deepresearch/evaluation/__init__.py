"""`deepresearch eval`: run a question/answer file through a mode, judge the answers, keep every result."""
