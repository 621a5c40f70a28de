"""The clients AutoGLM users run: langchain_openai.ChatOpenAI and an Open-AutoGLM-style agent
loop (streaming, greedy, frequency_penalty, reading only delta.content, history re-sent)."""
import pytest

from server_fixture import MODEL_NAME, client, server  # noqa: F401 (fixtures)


def test_langchain_chat_openai_streaming(server):
    lc = pytest.importorskip("langchain_openai")
    llm = lc.ChatOpenAI(model=MODEL_NAME, api_key="EMPTY", base_url=server.base_url,
                        streaming=True, max_tokens=16,
                        extra_body={"enable_thinking": True, "return_reasoning": True})
    msg = llm.invoke("你是谁?")
    assert isinstance(msg.content, str)


def test_langchain_non_streaming(server):
    lc = pytest.importorskip("langchain_openai")
    llm = lc.ChatOpenAI(model=MODEL_NAME, api_key="EMPTY", base_url=server.base_url,
                        max_tokens=8, temperature=0)
    assert isinstance(llm.invoke("hello").content, str)


def agent_step(client, messages):
    stream = client.chat.completions.create(
        model=MODEL_NAME, messages=messages, max_tokens=24, temperature=0.0, top_p=0.85,
        frequency_penalty=0.2, extra_body={}, stream=True)
    text, first_token_seen = "", False
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta.content
        if delta is not None:
            first_token_seen = True
            text += delta
    assert first_token_seen
    return text


def test_open_autoglm_style_multi_turn(client):
    system = {"role": "system",
              "content": "You are a phone agent. Answer with do(...) or finish(...)."}
    messages = [system, {"role": "user",
                         "content": [{"type": "text", "text": "Open the settings app.\n\n{}"}]}]
    replies = []
    for turn in range(3):
        reply = agent_step(client, messages)
        replies.append(reply)
        messages.append({"role": "assistant",
                         "content": f"<think>step {turn}</think><answer>{reply}</answer>"})
        messages.append({"role": "user",
                         "content": [{"type": "text", "text": "** Screen Info **\n\n{}"}]})
    assert len(replies) == 3
    # Greedy + the same history gives the same first answer again.
    assert agent_step(client, messages[:2]) == replies[0]
