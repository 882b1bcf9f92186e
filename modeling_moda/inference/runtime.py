"""Load a MODA for inference: device, dtype, int8 dynamic quantization and CPU thread settings.

On a CPU, generating a short description from a ~125 M-parameter decoder is bound by reading the weights
once per new token, so the big win at batch 1 is int8 weights (4x fewer bytes per step). Dynamic
quantization (`torch.ao.quantization.quantize_dynamic`: int8 weights, activations quantized per call,
fbgemm/x86 kernels) needs no calibration data and applies to the `nn.Linear` layers of the vision
tower and the language model, including its output head. bf16 is chosen by `dtype="auto"` only where
the hardware has native bf16 (a CUDA GPU that supports it, or a CPU with AVX512-BF16/AMX); elsewhere it
is emulated and slower than fp32.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: no CUDA device is available")
    return torch.device(name)


def cpu_has_native_bf16() -> bool:
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    if name != "auto":
        if name not in DTYPES:
            raise ValueError(f"unknown dtype {name!r}; expected auto or one of {', '.join(DTYPES)}")
        return DTYPES[name]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_has_native_bf16() else torch.float32


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantization of the `nn.Linear` layers (CPU only), in place; returns the model.

    MODA's projector (about 1% of the weights) stays in float: the model reads the dtype its inputs are cast
    to from the projector's parameters, which a quantized Linear no longer has.
    """
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    engines = torch.backends.quantized.supported_engines
    torch.backends.quantized.engine = next(e for e in ("x86", "fbgemm", "qnnpack") if e in engines)
    qconfig = torch.ao.quantization.default_dynamic_qconfig
    spec = {  # every Linear outside the projector, wherever the layout nests it (model.model.projector)
        name: qconfig
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and "projector" not in name.split(".")
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's eager quantization announces its move to torchao
        return torch.ao.quantization.quantize_dynamic(
            model, spec, dtype=torch.qint8, mapping={torch.nn.Linear: DynamicLinear}, inplace=True
        )


def set_threads(num_threads: int | None) -> None:
    """Intra-op threads for the matmuls; default: torch's own choice (the physical cores)."""
    if num_threads:
        torch.set_num_threads(num_threads)


def prepare_model(model: Any, device: str = "auto", dtype: str = "auto", quantize: str | None = None) -> Any:
    """Move an eval-mode model to its device/dtype and optionally quantize it; returns the model."""
    target = resolve_device(device)
    model.eval()
    if quantize == "int8":
        if target.type != "cpu":
            raise ValueError("--quantize int8 is dynamic quantization for CPUs; use --device cpu")
        return quantize_int8(model.to(device=target, dtype=torch.float32))
    if quantize is not None:
        raise ValueError(f"unknown quantization {quantize!r}; expected int8")
    return model.to(device=target, dtype=resolve_dtype(dtype, target))


def load_for_inference(
    model_id: str, device: str = "auto", dtype: str = "auto", quantize: str | None = None
) -> tuple[Any, Any]:
    """(model, processor) from a saved MODA folder or Hub id (remote code), ready to generate."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(model_id, trust_remote_code=True)
    model = AutoModelForImageTextToText.from_pretrained(model_id, trust_remote_code=True)
    return prepare_model(model, device=device, dtype=dtype, quantize=quantize), processor
