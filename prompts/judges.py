"""The evaluation's LLM graders (deepresearch/evaluation/judges.py), each with the prompt its benchmark uses.

browsecomp (also HLE's): extracted_final_answer, reasoning, correct yes/no, confidence. gaia (also
WebWalkerQA's): Correct or Incorrect. xbench: its Chinese judge.
"""

from __future__ import annotations

BROWSECOMP = """Judge whether the following [response] to [question] is correct or not based on the precise \
and unambiguous [correct_answer] below.

[question]: {question}

[response]: {response}

[correct_answer]: {answer}

Reply as JSON with these fields:
- extracted_final_answer: the final exact answer extracted from the [response]; "None" if there is none.
- reasoning: why the extracted_final_answer is or is not correct given [correct_answer], focusing only on \
meaningful differences; do not solve the problem again and do not argue for another answer.
- correct: "yes" if extracted_final_answer matches [correct_answer], or is within a small margin of error \
for numerical problems; "no" otherwise (any inconsistency, ambiguity or non-equivalence).
- confidence: your confidence in the [response] from 0 to 100."""

GAIA = """You are an evaluation assistant. Given a question, the correct answer and a predicted answer, decide \
whether the predicted answer is correct. It is correct if it means the same as the correct answer (numbers \
equal, names the same person, place or thing), even if worded differently.

Question: {question}
Correct answer: {answer}
Predicted answer: {response}

Reply with one word: Correct or Incorrect."""

XBENCH = """你是一个通用人工智能助手。根据下面给出的[正确答案], 判断以下对[原问题]的[回答]的回答是否正确。

[原问题]: {question}

[正确答案]: {answer}

[回答]: {response}

以 JSON 回复, 字段如下:
- 最终答案: 从[回答]中提取出的最终准确答案; 如果没有, 写 "无"。
- 解释: 根据[正确答案]解释为什么[最终答案]是正确的或错误的, 只关注实质差异, 不要重新解题。
- 结论: 如果[最终答案]与[正确答案]一致或在数值题的微小误差范围内, 写 "正确"; 否则写 "错误"。"""
