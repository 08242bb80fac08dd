"""DepthModel: an encoder and a decoder as one plain ``nn.Module`` mapping RGB in [0, 1] to metric depth."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from typing_extensions import override

from depthzoo.errors import ArgumentTypeError, InvalidArgumentError
from depthzoo.inference import fast_inference
from depthzoo.models.sharing import HubMixin

OutputKind = Literal["metric", "relative_disparity"]
OUTPUT_KINDS: tuple[str, ...] = ("metric", "relative_disparity")
_RANGE_TOLERANCE = 1e-3  # resampling (bicubic, antialiasing) overshoots [0, 1] by rounding-level amounts
_IMAGES_FIX = "pass RGB images in [0, 1] as a float tensor shaped (B, 3, H, W)"


def flip_averaged(forward: Callable[[Tensor], Tensor], images: Tensor) -> Tensor:
    """The mean of ``forward(images)`` and the mirrored ``forward`` of the mirrored images (flip TTA).

    >>> flip_averaged(lambda x: x.cumsum(-1), torch.tensor([[1.0, 2.0, 3.0]])).tolist()
    [[3.5, 4.0, 4.5]]
    """
    return 0.5 * (forward(images) + forward(images.flip(-1)).flip(-1))


class DepthModel(nn.Module, HubMixin):
    """Monocular depth network. Does its encoder's input normalisation itself.

    ``save_pretrained(folder)``, ``DepthModel.from_pretrained(folder_or_repo_id)`` and ``push_to_hub(repo_id)``
    share it in the Hugging Face Hub layout, with a model card (:mod:`depthzoo.models.sharing`, :mod:`depthzoo.hub`).

    ``model(x)`` takes (B, 3, H, W) float RGB in [0, 1] and returns depth in metres, (B, 1, h, w), at the decoder's
    native resolution (``h ~ H / output_stride``); ``model.predict(x)`` returns (B, 1, H, W) at the input size.

    Inputs of any floating dtype (float16, bfloat16, float32, float64) are accepted and cast to the model's own
    dtype (float32 unless the model was converted), in which the model computes and answers. ``predict`` also moves
    them to the model's device and refuses NaN, infinite and out-of-range values, which would spread over the whole
    depth map; anything else that cannot be an image (not a tensor, integer pixels, no pixel at all) is refused by
    both with an error that says what to pass.

    ``model.output_kind`` says what the output means: ``"metric"`` (metres) or ``"relative_disparity"``
    (affine-invariant inverse depth: known only up to a scale and a shift, larger is nearer). It comes from the
    config when given there, else from the decoder's ``output_kind`` attribute (default ``"metric"``), and is saved
    with the config.

    A decoder whose ``forward`` takes an ``image_size`` keyword is told the (padded) input size, so it can return
    depth on exactly the input grid (``dpt``, output stride 1).

    Args:
        encoder: module returning a list of NCHW feature maps, with ``mean``, ``std`` and ``input_multiple``.
        decoder: module mapping that list to (B, 1, h, w), with ``output_stride``.
        config: how the model was built (encoder/decoder names and options), kept for saving and reloading.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, config: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.config: dict[str, Any] = dict(config or {})
        kind = self.config.get("output_kind") or getattr(decoder, "output_kind", "metric")
        if kind not in OUTPUT_KINDS:
            raise InvalidArgumentError(f"output_kind must be one of {OUTPUT_KINDS}, got {kind!r}")
        self.config["output_kind"] = kind
        mean = torch.tensor(getattr(encoder, "mean", (0.0, 0.0, 0.0)), dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(getattr(encoder, "std", (1.0, 1.0, 1.0)), dtype=torch.float32).view(1, -1, 1, 1)
        # Derived from the encoder, so not saved in state dicts.
        self.register_buffer("input_mean", mean, persistent=False)
        self.register_buffer("input_std", std, persistent=False)
        self.input_multiple = int(getattr(encoder, "input_multiple", 1))
        self._decoder_takes_image_size = "image_size" in inspect.signature(decoder.forward).parameters

    @property
    def output_kind(self) -> OutputKind:
        """``"metric"`` (metres) or ``"relative_disparity"`` (inverse depth up to an unknown scale and shift)."""
        return self.config["output_kind"]

    @override
    def extra_repr(self) -> str:
        return f"output_kind={self.output_kind!r}, output_stride={self.output_stride}"

    @property
    def output_stride(self) -> int:
        """Nominal ratio of input size to native output size (2 for FCRN: 228x304 -> 128x160)."""
        return int(getattr(self.decoder, "output_stride", 1))

    def _prepare_input(self, x: Tensor, move: bool = False, check_values: bool = False) -> Tensor:
        """``x`` checked to be an image batch and cast to the model's dtype (and moved to its device if ``move``)."""
        if not isinstance(x, Tensor):
            raise ArgumentTypeError(
                f"expected a torch.Tensor of images, got a {type(x).__name__}", fix=f"{_IMAGES_FIX} (torch.stack)"
            )
        if x.ndim != 4 or x.shape[1] != 3:
            raise InvalidArgumentError(
                f"expected RGB images shaped (B, 3, H, W), got {tuple(x.shape)}", fix=_IMAGES_FIX
            )
        if x.shape[-2] == 0 or x.shape[-1] == 0:
            raise InvalidArgumentError(
                f"the images have no pixels: size {x.shape[-2]}x{x.shape[-1]}", fix=_IMAGES_FIX
            )
        if not x.is_floating_point():
            raise ArgumentTypeError(
                f"expected a float tensor with values in [0, 1], got {x.dtype}",
                fix="convert 8-bit images with x.float() / 255",
            )
        if check_values:
            self._check_values(x)
        reference = self.input_mean
        if x.device != reference.device:
            if not move:
                raise InvalidArgumentError(
                    f"the images are on {x.device} but the model on {reference.device}",
                    fix=f"move them with x.to('{reference.device}')",
                )
            x = x.to(reference.device)
        return x if x.dtype == reference.dtype else x.to(reference.dtype)

    @staticmethod
    def _check_values(x: Tensor) -> None:
        """Refuse NaN, infinite and out-of-[0, 1] pixels (one NaN would make the whole depth map NaN)."""
        if not x.numel():
            return
        finite = torch.isfinite(x)
        if not bool(finite.all()):
            first = [int(i) for i in (~finite).nonzero()[0]]
            raise InvalidArgumentError(
                f"the images hold {int((~finite).sum())} NaN or infinite value(s), the first at (batch, channel, row, "
                f"column) {tuple(first)}; one such value makes the whole depth map NaN",
                fix="replace them (torch.nan_to_num) or leave those images out",
            )
        low, high = (float(v) for v in torch.aminmax(x.detach()))
        if high > 1.0 + _RANGE_TOLERANCE:
            raise InvalidArgumentError(
                f"expected images in [0, 1], got values up to {high:g}", fix="divide 8-bit images by 255"
            )
        if low < -_RANGE_TOLERANCE:
            raise InvalidArgumentError(
                f"expected images in [0, 1], got values down to {low:g}",
                fix="undo any normalisation (the model normalises itself) or clamp with x.clamp(0, 1)",
            )

    @override
    def forward(self, x: Tensor) -> Tensor:
        x = self._prepare_input(x)
        height, width = x.shape[-2:]
        x = (x - self.input_mean.to(x.dtype)) / self.input_std.to(x.dtype)
        pad_h = -height % self.input_multiple
        pad_w = -width % self.input_multiple
        if pad_h or pad_w:  # patch embeddings that need a multiple of the patch size: pad, then crop the output
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        features = self.encoder(x)
        if self._decoder_takes_image_size:
            depth = self.decoder(features, image_size=(x.shape[-2], x.shape[-1]))
        else:
            depth = self.decoder(features)
        if pad_h or pad_w:
            keep_h = math.ceil(depth.shape[-2] * height / (height + pad_h))
            keep_w = math.ceil(depth.shape[-1] * width / (width + pad_w))
            depth = depth[..., :keep_h, :keep_w]
        return depth

    def predict(self, x: Tensor, flip: bool = False, precision: str = "auto", compile: bool = False) -> Tensor:
        """The output at the input size, (B, 1, H, W): eval mode, no gradients, bilinear up-sampling.

        Metres for a metric model; relative disparity (inverse depth up to scale and shift) when
        ``output_kind == "relative_disparity"``. The images are moved to the model's device and dtype, and checked
        to be finite and in [0, 1] (common mistakes: 0..255 values, ImageNet-normalised values, NaN holes), so a
        wrong input fails clearly instead of giving a wrong depth map. Where the hardware computes bf16 natively, a
        fast copy of the model runs (BatchNorm folded into the convolutions, channels_last, bf16; see
        :mod:`depthzoo.inference`), built on the first call and again only after the weights change; the model
        itself is left as it is.

        Args:
            x: (B, 3, H, W) RGB in [0, 1].
            flip: average with the mirrored prediction of the mirrored image (flip test-time augmentation, as
                BTS and AdaBins evaluate): a little more accurate, twice the compute.
            precision: "auto" (default: bf16 where the CPU or GPU has native bf16, else fp32), "bf16" or "fp32"
                (the model itself: exactly its result).
            compile: ``torch.compile`` what runs (a one-off cost of a minute or so, then faster calls).
        """
        x = self._prepare_input(x, move=True, check_values=True)
        runner = fast_inference(self, precision=precision, compile=compile)  # type: ignore[arg-type]
        depth = flip_averaged(runner, x) if flip else runner(x)
        with torch.inference_mode():
            return F.interpolate(depth.to(x.dtype), size=x.shape[-2:], mode="bilinear", align_corners=False)
