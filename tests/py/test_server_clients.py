"""The clients AutoGLM users run: langchain_openai.ChatOpenAI and an Open-AutoGLM-style agent
loop (streaming, greedy, frequency_penalty, reading only delta.content, history re-sent)."""
import pytest

from server_fixture import MODEL_NAME, client, server  # noqa: F401 (fixtures)


def sdk_greedy(client, text, max_tokens, **extra):
    r = client.chat.completions.create(model=MODEL_NAME, max_tokens=max_tokens, temperature=0,
                                       messages=[{"role": "user", "content": text}],
                                       extra_body={"ignore_eos": True, **extra})
    assert r.usage.completion_tokens == max_tokens and r.choices[0].message.content
    return r


def test_langchain_chat_openai_streaming(server, client):
    """What a LangChain user runs (streaming, the DashScope-style extra_body): the text it
    assembles from the stream is the openai SDK's non-streaming answer to the same request."""
    lc = pytest.importorskip("langchain_openai")
    extra = {"enable_thinking": True, "return_reasoning": True, "ignore_eos": True}
    llm = lc.ChatOpenAI(model=MODEL_NAME, api_key="EMPTY", base_url=server.base_url,
                        streaming=True, max_tokens=16, temperature=0, extra_body=extra)
    msg = llm.invoke("你是谁?")
    want = sdk_greedy(client, "你是谁?", 16, enable_thinking=True, return_reasoning=True)
    assert msg.content == want.choices[0].message.content


def test_langchain_non_streaming(server, client):
    lc = pytest.importorskip("langchain_openai")
    llm = lc.ChatOpenAI(model=MODEL_NAME, api_key="EMPTY", base_url=server.base_url,
                        max_tokens=8, temperature=0, extra_body={"ignore_eos": True})
    msg = llm.invoke("hello")
    want = sdk_greedy(client, "hello", 8)
    assert msg.content == want.choices[0].message.content
    usage = msg.usage_metadata
    assert usage["input_tokens"] == want.usage.prompt_tokens
    assert usage["output_tokens"] == 8
    assert msg.response_metadata["finish_reason"] == "length"


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
