"""The ONNX export itself, run in a child process by embed_onnx_export.ensure_onnx_export.

`python -m assistant.embed.onnx_build NAME BACKEND MODEL_FOLDER WORK_FOLDER` exports the Transformer
module of a sentence-transformers folder with torch.onnx (TorchScript), quantises it for onnx-int8
(onnxruntime's `quantize_dynamic`, INT8_RECIPE), checks its pooled vectors of a few sentences against
torch's, and writes `export.json`; an error is one line on stderr starting "export failed: ".

Memory: the word-embedding matrix is most of a small model (96M of multilingual-e5-small's 118M
weights) and is only looked up, while the exporter and the quantiser each hold several whole copies
of the model (3.6 GB for e5-small). So the graph is exported and quantised with a two-row stand-in of
the matrix's range, and the matrix is written beside the graph (`model.onnx.data`) a block at a time,
quantised exactly as the quantiser quantised the stand-in (one scale for the matrix: the same range
gives the same scale). It does not decide where exports go nor load them for embedding.
"""

from __future__ import annotations

import json
import logging
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embed.onnx_export import (
    CHECK_SENTENCES,
    EXPORT_FORMAT,
    FAILED,
    INFO_FILE,
    INT8_RECIPE,
    MIN_AGREEMENT,
    MODEL_FILE,
    ModelLayout,
    pool,
)
from assistant.errors import EmbeddingError


def main(argv: list[str]) -> int:
    """The child process: `python -m assistant.embed.onnx_build NAME BACKEND MODEL_FOLDER WORK_FOLDER`."""
    name, backend, location, work = argv
    try:
        info = export(name, backend, ModelLayout(name, location), Path(work))
        (Path(work) / INFO_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
    except EmbeddingError as exc:
        print(f"{FAILED}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line for the parent's message
        print(f"{FAILED}: Cannot export embedding model {name!r} to ONNX ({backend}): {exc}", file=sys.stderr)
        return 1
    return 0


def export(name: str, backend: str, layout: ModelLayout, work: Path) -> dict:
    """Writes `work/model.onnx` (+ `model.onnx.data`, the word-embedding matrix) and checks it against torch.

    The word-embedding matrix is most of a small model (96M of multilingual-e5-small's 118M weights)
    and is only looked up: the graph is exported and quantised with a two-row stand-in of the same
    range, and the matrix is written beside it a block at a time, as the quantiser would have made it
    (the exporter and the quantiser each hold several whole copies of the model: 3.6 GB here)."""
    import time

    import onnxruntime as ort
    import torch

    started = time.perf_counter()
    fp32 = work / (MODEL_FILE if backend == "onnx" else "model_fp32.onnx")
    feed, reference, matrix = _torch_export(layout, fp32, work)
    target = work / MODEL_FILE
    stand_in = None if matrix is None else _initializer_named(fp32, matrix[0])
    if backend == "onnx-int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with _quiet_root_logger():  # its "consider pre-processing" advice; the result is checked below
            quantize_dynamic(
                fp32, target, op_types_to_quantize=INT8_RECIPE["ops"], per_channel=INT8_RECIPE["per_channel"],
                reduce_range=INT8_RECIPE["reduce_range"], weight_type=getattr(QuantType, INT8_RECIPE["weight_type"]),
                extra_options={"WeightSymmetric": INT8_RECIPE["weight_symmetric"]},
            )
        fp32.unlink()
    if matrix is not None and stand_in is not None:
        _put_matrix(target, stand_in, matrix[1])
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}
    got = pool(session.run(None, {k: v for k, v in feed.items() if k in inputs})[0], feed["attention_mask"],
               layout.pooling)
    agreement = float((got * reference).sum(axis=1).min())
    if agreement < MIN_AGREEMENT[backend]:
        raise EmbeddingError(
            f"The {backend} export of {name!r} disagrees with torch (cosine {agreement:.4f} < "
            f"{MIN_AGREEMENT[backend]}); use embedding_backend=torch")
    import onnx

    return {"model": name, "location": str(layout.root), "backend": backend, "format": EXPORT_FORMAT,
            "int8": INT8_RECIPE if backend == "onnx-int8" else None, "min_cosine_vs_torch": round(agreement, 6),
            "versions": {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__},
            "seconds": round(time.perf_counter() - started, 2)}


def _torch_export(layout: ModelLayout, fp32: Path, work: Path
                  ) -> tuple[dict[str, np.ndarray], np.ndarray, tuple[np.ndarray, Matrix] | None]:
    """torch.onnx.export of the Transformer module with the word embeddings as a stand-in: the feed and
    pooled torch vectors of the check sentences, and (stand-in, where the matrix is)."""
    import gc
    import warnings

    encoded = _check_encodings(layout)
    import torch
    from transformers import AutoModel

    # Eager attention: the traced graph then takes the padding mask as data (SDPA paths may drop an
    # all-ones mask while tracing, which would break padded batches).
    model = AutoModel.from_pretrained(str(layout.root), attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    ids, mask, types = (torch.tensor(part) for part in encoded)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow on shapes
        reference = pool(Encoder(model)(ids, mask, types).numpy(), mask.numpy(), layout.pooling)
        matrix = _stand_in(model, layout.root, work)
        gc.collect()
        # Traced with ids the stand-in has (the graph takes ids as data: their values shape nothing)
        traced = ids if matrix is None else ids.clamp(max=len(matrix[0]) - 1)
        torch.onnx.export(
            Encoder(model), (traced, mask, types), str(fp32), input_names=names, output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=17, dynamo=False, do_constant_folding=True,
        )
    feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": types.numpy()}
    return feed, reference, matrix


@dataclass(frozen=True)
class Matrix:
    """Where the word-embedding matrix lies on disk: fp32 rows at `offset` of `path`. Read a block at a
    time with file reads, never mapped: a mapped page counts as the process's memory once touched."""

    path: Path
    offset: int
    shape: tuple[int, int]

    def blocks(self, rows: int = 16384) -> Iterator[np.ndarray]:
        width = self.shape[1]
        for start in range(0, self.shape[0], rows):
            count = min(rows, self.shape[0] - start)
            yield np.fromfile(self.path, "<f4", count * width, offset=self.offset + 4 * start * width
                              ).reshape(count, width)


def _check_encodings(layout: ModelLayout) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    """Ids, mask and type ids of the check sentences, padded (the dummy input has a mask with zeros).
    The tokenizer is let go before the model loads: XLM-R's vocabulary holds ~280 MB."""
    import ctypes
    import gc

    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(layout.root / "tokenizer.json"))
    tokenizer.enable_truncation(layout.max_tokens)
    tokenizer.enable_padding(pad_id=int(json.loads(layout.config_text).get("pad_token_id") or 0))
    check = [t.lower() for t in CHECK_SENTENCES] if layout.lowercase else CHECK_SENTENCES
    encodings = tokenizer.encode_batch(check)
    encoded = ([e.ids for e in encodings], [e.attention_mask for e in encodings], [e.type_ids for e in encodings])
    del tokenizer, encodings
    gc.collect()
    try:  # glibc keeps freed small blocks; hand them back to the system
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    return encoded


def _stand_in(model: Any, root: Path, work: Path) -> tuple[np.ndarray, Matrix] | None:
    """Puts two rows of the word-embedding matrix's range in its place; where the matrix lies (its
    safetensors file in the model folder, else a copy in `work`)."""
    import torch

    embeddings = model.get_input_embeddings()
    weight = getattr(embeddings, "weight", None)
    if weight is None or weight.dim() != 2 or weight.shape[0] < 1000 or weight.dtype != torch.float32:
        return None  # exported as it is
    name = next((n for n, p in model.named_parameters() if p is weight), "")
    matrix = _in_safetensors(root, name, tuple(weight.shape))
    if matrix is None:
        copy = work / "word_embeddings.f32"
        weight.detach().numpy().astype("<f4").tofile(copy)
        matrix = Matrix(copy, 0, tuple(weight.shape))
    low, high = np.inf, -np.inf
    for block in matrix.blocks():
        low, high = min(low, float(block.min())), max(high, float(block.max()))
    stand_in = np.zeros((2, matrix.shape[1]), dtype=np.float32)
    stand_in[0, 0], stand_in[1, 0] = low, high  # the same range: the same int8 scale
    embeddings.weight = torch.nn.Parameter(torch.from_numpy(stand_in.copy()), requires_grad=False)
    return stand_in, matrix


def _in_safetensors(root: Path, name: str, shape: tuple[int, ...]) -> Matrix | None:
    """The parameter `name` (or `<prefix>.name`) in a safetensors file of the folder, if fp32 there."""
    for path in sorted(root.glob("*.safetensors")):
        with path.open("rb") as file:
            size = struct.unpack("<Q", file.read(8))[0]
            header = json.loads(file.read(size))
        for key, entry in header.items():
            if (key == name or key.endswith("." + name)) and isinstance(entry, dict) and entry.get("dtype") == "F32" \
                    and tuple(entry.get("shape", ())) == shape:
                return Matrix(path, 8 + size + int(entry["data_offsets"][0]), (int(shape[0]), int(shape[1])))
    return None


def _initializer_named(model_file: Path, stand_in: np.ndarray) -> str:
    """The name the exporter gave the stand-in (the only initializer holding its values)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_file))
    found = [t.name for t in model.graph.initializer
             if tuple(t.dims) == stand_in.shape and np.array_equal(numpy_helper.to_array(t), stand_in)]
    if len(found) != 1:
        raise EmbeddingError(f"Cannot find the word embeddings in the ONNX export ({len(found)} candidates)")
    return found[0]


def _put_matrix(target: Path, name: str, matrix: Matrix) -> None:
    """Writes the saved word-embedding matrix into the export in place of its stand-in `name`, as
    external data (`model.onnx.data`), quantised as the quantiser quantised the stand-in (same scale)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(target))
    tensors = {t.name: t for t in model.graph.initializer}
    tensor = tensors.get(name)
    quantised = tensors.get(name + "_quantized")
    if quantised is not None:  # onnx-int8: the stand-in is only the fp32 copy the quantiser left
        from onnxruntime.quantization.quant_utils import quantize_nparray

        scale = numpy_helper.to_array(tensors[name + "_scale"])
        zero_point = numpy_helper.to_array(tensors[name + "_zero_point"])
        tensor = quantised

        def convert(block: np.ndarray) -> np.ndarray:
            return quantize_nparray(quantised.data_type, block, scale, zero_point)
    else:
        def convert(block: np.ndarray) -> np.ndarray:
            return block

    if tensor is None:
        raise EmbeddingError(f"The ONNX export has no initializer {name!r} for the word embeddings")
    data_file = target.name + ".data"
    with (target.parent / data_file).open("wb") as out:
        for block in matrix.blocks():
            out.write(np.ascontiguousarray(convert(block)).tobytes())
        length = out.tell()
    if matrix.path.parent == target.parent:  # the copy export made
        matrix.path.unlink()
    for field in ("raw_data", "float_data", "int32_data"):
        tensor.ClearField(field)
    del tensor.dims[:]
    tensor.dims.extend(matrix.shape)
    tensor.data_location = onnx.TensorProto.EXTERNAL
    del tensor.external_data[:]
    for key, value in (("location", data_file), ("offset", "0"), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(target))


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
