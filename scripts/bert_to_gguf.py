"""Write a sentence-transformers BERT model (safetensors + tokenizer.json) as a GGUF file that
llama.cpp serves with `--embedding`, without torch: the `gguf` package names the tensors and keys.

    python bert_to_gguf.py MODEL_DIR OUT.gguf

Follows llama.cpp's BERT conversion: arch `bert`, a WordPiece vocabulary written in llama.cpp's
"phantom space" form (word starts get U+2581, `##` continuations lose it), token types, the
pooling the model was trained with (sentence-transformers' 1_Pooling), non-causal attention.
Runs in scripts/embedding-server's venv (gguf, numpy, safetensors, tokenizers).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import load_file

# Tensors an embedding model does not use: the NSP/MLM heads, the pooler, a position-id buffer.
_UNUSED = ("embeddings.position_ids", "pooler.", "cls.")
_ADDED_IN_F32 = ("position_embd.weight", "token_types.weight")


def pooling(model_dir: Path) -> gguf.PoolingType:
    config = model_dir / "1_Pooling" / "config.json"
    if not config.is_file():
        return gguf.PoolingType.CLS  # a plain BERT checkpoint: the [CLS] token stands for the text
    modes = json.loads(config.read_text(encoding="utf-8"))
    if modes.get("pooling_mode_mean_tokens"):
        return gguf.PoolingType.MEAN
    if modes.get("pooling_mode_cls_token"):
        return gguf.PoolingType.CLS
    raise SystemExit(f"unsupported pooling in {config}: {modes}")


def write_vocab(writer: gguf.GGUFWriter, model_dir: Path, hparams: dict[str, object]) -> None:
    tokenizer = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    if tokenizer["model"]["type"] != "WordPiece":
        raise SystemExit("only WordPiece (BERT) tokenizers are handled")
    by_id = {index: token for token, index in tokenizer["model"]["vocab"].items()}
    special = {t["id"] for t in tokenizer.get("added_tokens", []) if t.get("special")}
    size = int(hparams["vocab_size"])  # type: ignore[arg-type]
    tokens: list[str] = []
    types: list[int] = []
    for index in range(size):
        token = by_id.get(index, f"[PAD{index}]")
        if index in special:
            tokens.append(token)
            types.append(gguf.TokenType.CONTROL)
        elif index not in by_id:
            tokens.append(token)
            types.append(gguf.TokenType.UNUSED)
        else:
            # llama.cpp's WPM tokenizer marks word starts with U+2581 instead of marking pieces.
            tokens.append(token[2:] if token.startswith("##") else "\u2581" + token)
            types.append(gguf.TokenType.NORMAL)
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_type_count(int(hparams.get("type_vocab_size", 1)))  # type: ignore[arg-type]
    gguf.SpecialVocab(model_dir, n_vocab=len(tokens)).add_to_gguf(writer)


def write_tensors(writer: gguf.GGUFWriter, model_dir: Path, blocks: int) -> None:
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, blocks)
    for name, data in load_file(str(model_dir / "model.safetensors")).items():
        name = name.removeprefix("bert.")
        if name.startswith(_UNUSED):
            continue
        target = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if target is None:
            raise SystemExit(f"no GGUF name for tensor {name!r}")
        # Weight matrices as f16 halve the file; llama.cpp adds the position and token-type
        # embeddings, norms and biases in f32, so those stay f32.
        half = data.ndim == 2 and target not in _ADDED_IN_F32
        array = data.astype(np.float16 if half else np.float32)
        writer.add_tensor(target, array)


def convert(model_dir: Path, out: Path) -> None:
    hparams = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    if hparams.get("model_type") != "bert":
        raise SystemExit(f"not a BERT model: {hparams.get('model_type')!r}")
    partial = out.with_suffix(".part")
    writer = gguf.GGUFWriter(str(partial), "bert")
    writer.add_name(model_dir.name)
    writer.add_context_length(hparams["max_position_embeddings"])
    writer.add_embedding_length(hparams["hidden_size"])
    writer.add_feed_forward_length(hparams["intermediate_size"])
    writer.add_head_count(hparams["num_attention_heads"])
    writer.add_layer_norm_eps(hparams["layer_norm_eps"])
    writer.add_block_count(hparams["num_hidden_layers"])
    writer.add_causal_attention(False)
    writer.add_pooling_type(pooling(model_dir))
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    write_vocab(writer, model_dir, hparams)
    write_tensors(writer, model_dir, hparams["num_hidden_layers"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.rename(out)  # atomic: a half-written model is never served


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
