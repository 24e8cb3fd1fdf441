"""Small real GGUF files written with the ``gguf`` package's writer: a vocabulary holding one FIM
token family (and ordinary tokens around it), one tiny tensor so the file is complete."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FAMILY_TOKENS = {
    "qwen": ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|file_sep|>"],
    "starcoder": ["<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>", "<file_sep>"],
    "deepseek": ["<｜end▁of▁sentence｜>", "<｜fim▁hole｜>", "<｜fim▁begin｜>", "<｜fim▁end｜>", "<|EOT|>"],
    "codellama": ["<unk>", "<s>", "</s>", "▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>"],
    "mistral": ["</s>", "[PREFIX]", "[SUFFIX]", "[MIDDLE]"],
    "none": ["<bos>", "<eos>", "fim", "▁fim", "prefix"],
}


def write_model(path: Path, family: str, arch: str = "llama") -> Path:
    import gguf

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name(f"tiny-{family}")
    writer.add_tokenizer_model("gpt2")
    tokens = ["a", "b", "def", "return"] + FAMILY_TOKENS[family] + [f"tok{i}" for i in range(200)]
    writer.add_token_list(tokens)
    writer.add_tensor("t", np.zeros(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
