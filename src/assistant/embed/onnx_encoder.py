"""The ONNX encoder of the embedding model: an export run by onnxruntime, pooled in numpy.

`OnnxEncoder` finds (or has onnx_export.py make) the model's export under
`<model cache>/onnx/` (model_cache.py), loads it into an onnxruntime session and encodes texts as the model's
sentence-transformers modules would: its own fast tokenizer, then mean or CLS pooling and
normalisation. A query process that finds the export never imports torch or sentence-transformers:
running it needs only onnxruntime and tokenizers. It does not make or check exports.

Parallel calls, not wider batches: the int8 model quantises each call's activations together, so a
text's vector depends on the texts padded beside it in one call (cosine ~0.993 to itself alone). The
session runs each call on one thread, and `threads` calls run side by side (one text each at batch
size 1): the same vectors, bit for bit, as one text a call on all cores, and on 2 cores 2× the chunks
and 1.4× the sentences a second, more than batches of 32 give (BENCHMARKS.md, #25).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embed.onnx_export import MODEL_FILE, ModelLayout, ensure_onnx_export, onnx_export_dir, pool
from assistant.embed.tokenizer import fitted, shared_tokenizer
from assistant.errors import EmbeddingError


class OnnxEncoder:
    """Tokenizer + onnxruntime session + pooling; thread-safe (onnxruntime sessions are). `threads`: how
    many model calls run side by side (each on one thread of the session)."""

    def __init__(self, name: str, location: str, backend: str, model_cache_dir: Path,
                 threads: int | None = None) -> None:
        self.name = name
        self.backend = backend
        self.layout = ModelLayout(name, location)
        self.folder = onnx_export_dir(model_cache_dir, name, backend, self.layout)
        self.dimension = self.layout.dimension
        self.max_tokens = self.layout.max_tokens
        ensure_onnx_export(name, backend, self.layout, self.folder)
        self.tokenizer = shared_tokenizer(self.layout.root / "tokenizer.json")  # the token counter's too
        self.pad_id = int(json.loads(self.layout.config_text).get("pad_token_id") or 0)
        self.workers = max(1, threads or (os.cpu_count() or 1))
        self.session = self._session()

    def _session(self) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # calls run side by side instead (`workers`)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            session = ort.InferenceSession(str(self.folder / MODEL_FILE), options,
                                           providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001
            raise EmbeddingError(f"Cannot load the ONNX export {self.folder}: {exc}. Delete that folder "
                                 "to have it exported again.") from exc
        self._inputs = {i.name for i in session.get_inputs()}
        return session

    def set_threads(self, threads: int) -> None:
        self.workers = max(1, threads)

    def encode(self, texts: list[str], batch_size: int, progress: bool = False) -> np.ndarray:
        if self.layout.lowercase:
            texts = [t.lower() for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Longest first, as sentence-transformers does: batches of similar length pad least.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        size = max(1, batch_size)
        parts = [order[start : start + size] for start in range(0, len(order), size)]
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(parts), desc="embedding", unit="batch")
        session = self.session

        def run(part: list[int]) -> None:
            out[part] = self._run(session, [texts[i] for i in part])
            if bar is not None:
                bar.update()

        workers = min(self.workers, len(parts))
        if workers <= 1:
            for part in parts:
                run(part)
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="embed") as pool_:
                list(pool_.map(run, parts))  # each writes its own rows; list() re-raises an error
        if bar is not None:
            bar.close()
        return out

    def _run(self, session: Any, texts: list[str]) -> np.ndarray:
        ids, mask, type_ids = fitted(self.tokenizer.encode_batch(texts), self.max_tokens, self.pad_id)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": type_ids}
        hidden = session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return pool(hidden, mask, self.layout.pooling)
