"""The network: a stacked `nn.LSTM` over the window (per step or per chunk) and its output head.

Options beside today's per-step model: chunked input (the window cut into chunks of S steps, each
chunk embedded by a linear layer and fed as one LSTM step, as SegRNN does), a segment head (SegRNN's
parallel multi-step decoding: one LSTM step per output segment, started from the encoder's state),
channel independence (`ChannelIndependent`: each channel one sample through the same network) and a
linear skip (`LinearSkip`: the window mapped straight to the horizon, added to the head's output).
`build_model` assembles a spec's network from these parts for a series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from lstmexp.data.channels import as_channel_samples, channel_ids, from_channel_samples
from lstmexp.errors import DataError

if TYPE_CHECKING:
    from lstmexp.data import Series
    from lstmexp.spec import ExperimentSpec

ACTIVATIONS: dict[str, type[nn.Module]] = {"none": nn.Identity, "relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class ChunkEmbedding(nn.Module):
    """(B, T, I) -> (B, T/S, E): each chunk of S consecutive steps flattened and mapped by one linear layer."""

    def __init__(self, chunk: int, input_size: int, embed_size: int, activation: str = "none") -> None:
        super().__init__()
        self.chunk = chunk
        self.linear = nn.Linear(chunk * input_size, embed_size)
        self.activation = ACTIVATIONS[activation]()

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        batch, steps, features = windows.shape
        if steps % self.chunk:
            raise ValueError(f"a window of {steps} steps cannot be cut into chunks of {self.chunk}")
        chunks = windows.reshape(batch, steps // self.chunk, self.chunk * features)
        return self.activation(self.linear(chunks))


class SegmentHead(nn.Module):
    """SegRNN's parallel multi-step decoding: the horizon in ceil(h/S) segments of S steps.

    Each segment's decoder input is a learned position embedding (with channel independence, half
    position and half channel embedding); every segment runs one LSTM step from the encoder's final
    state, all segments in parallel (one batch), and a linear layer maps its output to S steps.
    """

    def __init__(
        self, hidden_size: int, segment: int, horizon: int, output_size: int, channels: int = 0, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.segment, self.horizon, self.output_size = segment, horizon, output_size
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.segments = math.ceil(horizon / segment)
        channel_width = hidden_size // 2 if channels else 0
        self.position = nn.Parameter(torch.randn(self.segments, hidden_size - channel_width))
        self.channel = nn.Parameter(torch.randn(channels, channel_width)) if channels else None
        self.project = nn.Linear(hidden_size, segment * output_size)

    def decoder_inputs(self, batch: int, channel: torch.Tensor | None) -> torch.Tensor:
        """(batch·segments, 1, H): segment m of sample b at row b·segments + m."""
        position = self.position.unsqueeze(0).expand(batch, -1, -1)
        if self.channel is not None:
            if channel is None:
                raise ValueError("a segment head with channel embeddings needs each sample's channel")
            own = self.channel[channel].unsqueeze(1).expand(-1, self.segments, -1)
            position = torch.cat([position, own], dim=-1)
        return position.reshape(batch * self.segments, 1, -1)

    def forward(
        self, lstm: nn.LSTM, state: tuple[torch.Tensor, torch.Tensor], channel: torch.Tensor | None
    ) -> torch.Tensor:
        hidden, cell = state  # (layers, B, H)
        batch = hidden.shape[1]
        repeated = tuple(s.repeat_interleave(self.segments, dim=1) for s in (hidden, cell))
        out, _ = lstm(self.decoder_inputs(batch, channel), repeated)  # (B·M, 1, H)
        steps = self.project(self.dropout(out[:, 0, :])).view(batch, self.segments * self.segment, self.output_size)
        return steps[:, : self.horizon, :]


class LinearSkip(nn.Module):
    """(B, T, I) -> (B, h, len(columns)): each listed column's T steps mapped to h steps by one linear
    layer shared by the columns (NLinear's map, without its last-value shift: the window arrives
    already normalised, by RevIN or the last value, when `data.normalization` asks for it)."""

    columns: torch.Tensor  # a buffer: moves with the module

    def __init__(self, time_step: int, horizon: int, columns: list[int]) -> None:
        super().__init__()
        self.linear = nn.Linear(time_step, horizon)
        self.register_buffer("columns", torch.tensor(columns, dtype=torch.long), persistent=False)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        steps = self.linear.in_features
        if windows.shape[1] != steps:
            raise ValueError(f"the linear skip maps windows of {steps} steps, not {windows.shape[1]}")
        return self.linear(windows[:, :, self.columns].transpose(1, 2)).transpose(1, 2)


class LSTMForecaster(nn.Module):
    """Maps a window (B, T, input_size) to the next `horizon` steps (B, horizon, output_size).

    The LSTM runs over the T steps in order (C4: the batch is parallel at each step, the steps are
    sequential), or with `chunk` S > 1 over T/S embedded chunks; the linear head reads only the last
    step's hidden state, the segment head decodes from the final state. `skip_columns` (the input
    columns that are the targets) adds a `LinearSkip` of the window to the head's prediction. chunk 1
    with the linear head and no skip builds exactly the per-step model (the same modules in the same
    order, so the same weights per seed).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        horizon: int = 1,
        chunk: int = 1,
        chunk_activation: str = "none",
        head: str = "linear",
        channels: int = 0,
        head_dropout: float = 0.0,
        skip_columns: list[int] | None = None,
        time_step: int = 0,
    ) -> None:
        super().__init__()
        self.horizon = horizon
        self.output_size = output_size
        self.chunk = chunk
        # The segment head's decoder inputs are hidden-sized, so it needs the embedding even at chunk 1.
        embedded = chunk > 1 or head == "segment"
        self.embed = ChunkEmbedding(chunk, input_size, hidden_size, chunk_activation) if embedded else None
        self.lstm = nn.LSTM(
            input_size=hidden_size if embedded else input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            # nn.LSTM applies dropout between layers only; with one layer it would only warn.
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        if head == "segment":
            self.head: nn.Module = SegmentHead(hidden_size, chunk, horizon, output_size, channels, head_dropout)
        else:
            self.head = nn.Linear(hidden_size, horizon * output_size)
        # Dropout on what the head reads (SegRNN uses 0.5): none at 0, so the per-step model is unchanged.
        self.head_dropout = nn.Dropout(head_dropout) if head_dropout > 0 and head != "segment" else None
        # Built last, so the modules before it get the same initial weights per seed with or without it.
        self.skip = LinearSkip(time_step, horizon, skip_columns) if skip_columns is not None else None

    def forward(self, windows: torch.Tensor, channel: torch.Tensor | None = None) -> torch.Tensor:
        predicted = self.lstm_prediction(windows, channel)
        return predicted if self.skip is None else predicted + self.skip(windows)

    def lstm_prediction(self, windows: torch.Tensor, channel: torch.Tensor | None) -> torch.Tensor:
        inputs = windows if self.embed is None else self.embed(windows)
        sequence, state = self.lstm(inputs)
        if isinstance(self.head, SegmentHead):
            return self.head(self.lstm, state, channel)
        last = sequence[:, -1, :]
        if self.head_dropout is not None:
            last = self.head_dropout(last)
        return self.head(last).view(-1, self.horizon, self.output_size)


class ChannelIndependent(nn.Module):
    """Each of the C channels of a window as its own sample through the same one-channel network.

    (B, T, C) -> B·C samples (B·C, T, 1) -> the inner model -> (B·C, h, 1) -> (B, h, C), so the
    prediction has the joint model's shape and every metric covers all channels.
    """

    def __init__(self, inner: nn.Module, channels: int) -> None:
        super().__init__()
        self.inner = inner
        self.channels = channels

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        ids = channel_ids(windows.shape[0], self.channels, windows.device)
        out = self.inner(as_channel_samples(windows), ids)
        return from_channel_samples(out, self.channels)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def forward_steps(
    model: LSTMForecaster, inputs: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Stateful use: predictions after every step (B, T, horizon, output_size) and the final state.

    The same LSTM and head as `forward`, but the head reads every step's hidden state and the LSTM
    starts from `state` (None: zeros), so a stream can be walked chunk by chunk (C14).
    """
    sequence, new_state = model.lstm(inputs, state)
    predictions = model.head(sequence)
    return predictions.view(inputs.shape[0], inputs.shape[1], model.horizon, model.output_size), new_state


class WindowNormalized(nn.Module):
    """Per-window input normalisation around a forecaster, undone on its output.

    `last`: the model sees each window minus its last observed value and predicts the change from
    it (NLinear). `revin`: each window is standardised by its own mean and standard deviation, and
    the prediction is mapped back with the target columns' statistics (RevIN without the learnable
    affine). Both need every target column among the inputs (`target_index`).
    """

    EPS = 1e-5
    target_index: torch.Tensor  # a buffer: moves with the module

    def __init__(self, inner: nn.Module, method: str, target_index: list[int]) -> None:
        super().__init__()
        if method not in ("last", "revin"):
            raise ValueError(f"unknown window normalisation {method!r}")
        self.inner = inner
        self.method = method
        self.register_buffer("target_index", torch.tensor(target_index, dtype=torch.long), persistent=False)

    def forward(self, windows: torch.Tensor, channel: torch.Tensor | None = None) -> torch.Tensor:
        # `channel`: which channel each sample holds (channel independence), passed to the forecaster.
        extra = () if channel is None else (channel,)
        if self.method == "last":
            reference = windows[:, -1:, :]  # (B, 1, input_size)
            return self.inner(windows - reference, *extra) + reference[:, :, self.target_index]
        mean = windows.mean(dim=1, keepdim=True)
        std = windows.std(dim=1, keepdim=True, unbiased=False) + self.EPS
        out = self.inner((windows - mean) / std, *extra)
        return out * std[:, :, self.target_index] + mean[:, :, self.target_index]


class ClassProbabilities(nn.Module):
    """Classification head: the forecaster's outputs (B, 1, classes) as probabilities (softmax)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return self.inner(windows).softmax(dim=-1)


@dataclass(frozen=True)
class NetworkShape:
    """What one LSTM sequence sees: its input and output widths, the sequences per window (channels,
    with channel independence), whether a segment head decodes and whether a linear skip is added."""

    input_size: int
    output_size: int
    sequences: int
    segment_head: bool
    linear_skip: bool = False


def network_shape(spec: ExperimentSpec, input_size: int, output_size: int) -> NetworkShape:
    independent = spec.model.channels == "independent"
    return NetworkShape(
        input_size=1 if independent else input_size,
        output_size=1 if independent else output_size,
        sequences=input_size if independent else 1,
        segment_head=spec.model.head == "segment",
        linear_skip=spec.model.skip == "linear",
    )


def build_model(spec: ExperimentSpec, series: Series) -> nn.Module:
    """The trial's network: the forecaster, its per-window normalisation, channel independence, class head."""
    independent = spec.model.channels == "independent"
    if independent and series.input_columns != series.target_columns:
        raise DataError("model.channels=independent needs the inputs to be the targets (data.mode M or S); "
                        "use -o model.channels=joint")
    shape = network_shape(spec, series.input_size, series.output_size)
    targets_in_inputs = [0] if independent else series.target_input_index  # per channel: the channel itself
    if shape.linear_skip and targets_in_inputs is None:
        raise DataError("model.skip=linear maps each target's own past to its future, so it needs every target "
                        "among the inputs; add the target to data.features or use -o model.skip=none")
    if spec.data.normalization != "none" and targets_in_inputs is None:
        raise DataError(
            f"data.normalization={spec.data.normalization} needs every target among the inputs; "
            "add the target to data.features or set normalization to none"
        )
    model: nn.Module = LSTMForecaster(
        input_size=shape.input_size,
        hidden_size=spec.model.hidden_size,
        output_size=shape.output_size,
        num_layers=spec.model.num_layers,
        dropout=spec.model.dropout,
        horizon=spec.data.horizon,
        chunk=spec.model.chunk,
        chunk_activation=spec.model.chunk_activation,
        head=spec.model.head,
        channels=series.input_size if independent else 0,
        head_dropout=spec.model.head_dropout,
        skip_columns=targets_in_inputs if shape.linear_skip else None,
        time_step=spec.data.time_step,
    )
    if spec.data.normalization != "none" and targets_in_inputs is not None:  # refused above when None
        model = WindowNormalized(model, spec.data.normalization, targets_in_inputs)
    if independent:
        model = ChannelIndependent(model, series.input_size)
    if getattr(series, "is_classification", False):
        model = ClassProbabilities(model)
    return model
