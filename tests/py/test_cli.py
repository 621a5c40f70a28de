"""The autoglm CLI as a user runs it: outputs, determinism, and bad input handling."""
import array
import json
import pathlib

from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "models"
NOTICE = "Its output text is NOT meaningful"


def assert_clean_failure(proc, *needles):
    """A bad input must give a message and a non-zero exit, never a crash (signal)."""
    assert 0 < proc.returncode < 128, (proc.returncode, proc.stderr)
    for bad in ("terminate called", "Aborted", "Segmentation", "check failed"):
        assert bad not in proc.stderr
    for n in needles:
        assert n in proc.stderr, (n, proc.stderr)


def test_generate_builtin_json(autoglm):
    p = autoglm("generate", "--prompt", "Hello world", "--max-tokens", "8", "--temperature", "0",
                "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert len(out["ids"]) <= 8 and isinstance(out["text"], str)
    assert p.stderr.count(NOTICE) == 1


def test_generate_chat_streams_text(autoglm):
    p = autoglm("generate", "--chat", "--prompt", "你好", "--max-tokens", "6", "--seed", "3")
    assert p.returncode == 0, p.stderr
    assert p.stderr.count(NOTICE) == 1


def test_seed_reproducible(autoglm):
    args = ("generate", "--prompt", "abc", "--max-tokens", "12", "--temperature", "1.0",
            "--seed", "1234", "--ignore-eos", "--json")
    a, b = autoglm(*args), autoglm(*args)
    assert a.returncode == 0 and b.returncode == 0
    assert json.loads(a.stdout)["ids"] == json.loads(b.stdout)["ids"]
    assert len(json.loads(a.stdout)["ids"]) == 12


def test_logits_match_golden(autoglm, tmp_path):
    model = GOLDEN / "glm4_f32"
    golden = json.loads((model / "golden.json").read_text())
    case = golden["cases"][0]
    out = tmp_path / "l.f32"
    p = autoglm("logits", "--model", model, "--ids", ",".join(map(str, case["ids"])), "--out", out)
    assert p.returncode == 0, p.stderr
    got, ref = array.array("f"), array.array("f")
    got.frombytes(out.read_bytes())
    ref.frombytes((model / case["logits_f32_file"]).read_bytes())
    assert len(got) == len(ref)
    assert max(abs(x - y) for x, y in zip(got, ref)) <= 1e-3


def test_missing_model_dir(autoglm):
    assert_clean_failure(autoglm("generate", "--model", "/nonexistent/dir", "--prompt", "x"),
                         "/nonexistent/dir")


def test_malformed_config(autoglm, tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    assert_clean_failure(autoglm("logits", "--model", tmp_path, "--ids", "1", "--out",
                                 tmp_path / "o"), "config.json")


def test_unknown_architecture(autoglm, tmp_path):
    src = GOLDEN / "glm4_f32"
    for f in src.iterdir():
        if f.is_file():
            (tmp_path / f.name).write_bytes(f.read_bytes())
    cfg = json.loads((src / "config.json").read_text())
    cfg["architectures"] = ["LlamaForCausalLM"]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    assert_clean_failure(autoglm("logits", "--model", tmp_path, "--ids", "1", "--out",
                                 tmp_path / "o"), "LlamaForCausalLM")


def test_truncated_weights(autoglm, tmp_path):
    src = GOLDEN / "glm4_f32"
    for f in src.iterdir():
        if f.is_file():
            data = f.read_bytes()
            if f.suffix == ".safetensors":
                data = data[: len(data) // 2]
            (tmp_path / f.name).write_bytes(data)
    assert_clean_failure(autoglm("logits", "--model", tmp_path, "--ids", "1", "--out",
                                 tmp_path / "o"), "safetensors")


def test_bad_ids(autoglm, tmp_path):
    model = GOLDEN / "glm4_f32"
    assert_clean_failure(autoglm("logits", "--model", model, "--ids", "1,x", "--out",
                                 tmp_path / "o"), "'x'")
    assert_clean_failure(autoglm("logits", "--model", model, "--ids", "99999999", "--out",
                                 tmp_path / "o"), "out of range")
    assert_clean_failure(autoglm("logits", "--model", model, "--ids", "", "--out",
                                 tmp_path / "o"))


def test_bad_flags(autoglm, tmp_path):
    assert_clean_failure(autoglm("generate"), "--prompt")
    assert_clean_failure(autoglm("generate", "--prompt", "x", "--max-tokens", "0"))
    assert_clean_failure(autoglm("generate", "--prompt", "x", "--temperature", "-1"),
                         "temperature")
    assert_clean_failure(autoglm("generate", "--prompt", "x", "--top-p", "1.5"), "top_p")
    assert_clean_failure(autoglm("generate", "--prompt", "x", "--max-tokens", "abc"))
    assert_clean_failure(autoglm("nosuchcommand"))
    assert_clean_failure(autoglm("generate", "--prompt", "x", "--max-tokens", "2", "--json",
                                 "--model", GOLDEN / "glm4_f32"), "tokenizer.json")


def test_unwritable_output(autoglm):
    assert_clean_failure(autoglm("logits", "--model", GOLDEN / "glm4_f32", "--ids", "1", "--out",
                                 "/nonexistent/dir/o.f32"), "/nonexistent/dir/o.f32")


def test_invalid_utf8_prompt(autoglm):
    # Arguments are bytes on Linux; invalid UTF-8 must not crash the tokenizer.
    import subprocess
    from conftest import AUTOGLM
    p = subprocess.run([str(AUTOGLM).encode(), b"generate", b"--prompt", b"ab\xff\xfecd",
                        b"--max-tokens", b"3", b"--json"], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    json.loads(p.stdout)


def test_serve_on_a_busy_port_fails_at_once(autoglm):
    """Another process holds the port: serve must not share it (no SO_REUSEPORT) and must say so."""
    import socket
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        p = autoglm("serve", "--host", "127.0.0.1", "--port", port, timeout=120)
    assert_clean_failure(p, "address already in use", f"127.0.0.1:{port}")
