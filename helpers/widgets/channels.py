"""Widgets for 6.4: the channel explorer and the 1x1 mixer.

Thin wiring only: controls -> helpers.channels / helpers.plot.channels
(compute) -> in-place artist updates -> FigureView.refresh(). In a notebook:

    from helpers.widgets.channels import channel_explorer
    channel_explorer()
"""
import torch

from helpers.channels import (
    conv_macs, conv_param_count, corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
)
from helpers.plot.channels import (
    CHANNEL_NAMES, KERNEL_PRESETS, MIXER_PRESETS, channel_partials,
    color_test_image, explorer_kernels, pixel_matmul, plot_1x1_mixer,
    plot_channel_explorer, update_1x1_mixer, update_channel_explorer,
)
from helpers.env import one_thread
from helpers.widgets.common import FigureView, Timer, new_figure

CUSTOM = "(custom)"


def _fmt_matrix(A):
    rows = ["[" + ", ".join(f"{v:5.2f}" for v in r) + "]" for r in
            A.tolist()]
    return "[" + ",<br>&nbsp;".join(rows) + "]"


class _Explorer:
    """Shared plumbing: hold flag, display, readout, error message."""

    def __init__(self):
        self._hold = False
        self.state = {}

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    @one_thread()
    def update(self):
        """Recompute from the controls and redraw in place."""
        self._timed_update(self._compute_and_draw)

    def _timed_update(self, compute):
        with Timer() as t:
            try:
                compute()
                self.state["message"] = ""
            except ValueError as err:  # impossible settings: say so
                self.state["message"] = str(err)
                self.readout.value = f"<b style='color:#b00'>{err}</b>"
        self.state["ms"] = t.ms
        self.view.last_ms = t.ms

    def _observe(self, control, handler):
        def guarded(change):
            if not self._hold:
                handler(change)
        control.observe(guarded, names="value")


class ChannelExplorer(_Explorer):
    """Per-channel inputs, kernels, correlations and their sum (6.4.1-2).

    Controls (`controls` dict, also attributes): c_i, c_o (how many input /
    output channels are used), out_channel (o shown in detail), in_channel
    (c whose kernel K[o, c] the sliders edit), preset, and k{r}{s} (the
    entries of K[o, c]). `state`: X (c_i, h, w), K (c_o, c_i, k_h, k_w),
    partials (c_o, c_i, h', w'), Y (c_o, h', w'), sum (partials[o] summed
    over c), out_channel, in_channel, c_i, c_o, params, macs, message, ms.
    """

    def __init__(self, X=None, K=None):
        import ipywidgets as widgets

        super().__init__()
        self.X_full = color_test_image(16) if X is None else torch.as_tensor(
            X).float()
        self.K_full = (explorer_kernels() if K is None else
                       torch.as_tensor(K).float()).clone()
        max_o, max_i, k_h, k_w = self.K_full.shape
        if max_i != self.X_full.shape[0]:
            raise ValueError(f"K.shape[1] ({max_i}) must equal the number of "
                             f"channels of X ({self.X_full.shape[0]})")
        islider = dict(continuous_update=True,
                       style={"description_width": "initial"})
        self.c_i = widgets.IntSlider(max_i, min=1, max=max_i,
                                     description="c_i 输入通道", **islider)
        self.c_o = widgets.IntSlider(max_o, min=1, max=max_o,
                                     description="c_o 输出通道", **islider)
        self.out_channel = widgets.IntSlider(
            0, min=0, max=max_o - 1, description="查看输出 o", **islider)
        self.in_channel = widgets.IntSlider(
            0, min=0, max=max_i - 1, description="编辑 K[o, c] 的 c",
            **islider)
        self.preset = widgets.Dropdown(
            options=[CUSTOM] + list(KERNEL_PRESETS) if (k_h, k_w) == (3, 3)
            else [CUSTOM], value=CUSTOM, description="K[o, c] 预设")
        self.k_sliders = {}
        for r in range(k_h):
            for s in range(k_w):
                self.k_sliders[f"k{r}{s}"] = widgets.FloatSlider(
                    0.0, min=-2.0, max=2.0, step=0.1, readout_format=".1f",
                    description=f"[{r},{s}]",
                    layout=widgets.Layout(width="220px"),
                    style={"description_width": "36px"})
        self.controls = {"c_i": self.c_i, "c_o": self.c_o,
                         "out_channel": self.out_channel,
                         "in_channel": self.in_channel,
                         "preset": self.preset, **self.k_sliders}
        self.readout = widgets.HTML()
        fig = new_figure((8.4, 4.7), dpi=72)
        self.artists = plot_channel_explorer(
            self.X_full, self.K_full, 0, fig=fig, max_in=max_i,
            max_out=max_o, kernel_values=False)
        self.view = FigureView(fig)  # freezes the first layout
        self._sync_sliders()
        self._observe(self.c_i, self._on_channels)
        self._observe(self.c_o, self._on_channels)
        self._observe(self.out_channel, self._on_select)
        self._observe(self.in_channel, self._on_select)
        self._observe(self.preset, self._on_preset)
        for sl in self.k_sliders.values():
            self._observe(sl, self._on_kernel_entry)
        grid = widgets.GridBox(
            list(self.k_sliders.values()),
            layout=widgets.Layout(
                grid_template_columns=f"repeat({k_w}, 230px)"))
        left = widgets.VBox([self.c_i, self.c_o, self.out_channel,
                             self.in_channel])
        right = widgets.VBox([self.preset, grid])
        self.widget = widgets.VBox([widgets.HBox([left, right]),
                                    self.view.image, self.readout])
        self.update()

    def _sync_sliders(self):
        """Show K[o, c] on the sliders without triggering updates."""
        o, c = self.out_channel.value, self.in_channel.value
        self._hold = True
        try:
            k_w = self.K_full.shape[3]
            for idx, sl in enumerate(self.k_sliders.values()):
                r, s = divmod(idx, k_w)
                sl.value = round(float(self.K_full[o, c, r, s]), 2)
            self.preset.value = CUSTOM
        finally:
            self._hold = False

    def _on_channels(self, change):
        self._hold = True
        try:  # shrinking c_i / c_o clamps the selected c / o
            self.in_channel.max = self.c_i.value - 1
            self.out_channel.max = self.c_o.value - 1
        finally:
            self._hold = False
        self._sync_sliders()
        self.update()

    def _on_select(self, change):
        self._sync_sliders()
        self.update()

    def _on_preset(self, change):
        if change["new"] == CUSTOM:
            return
        o, c = self.out_channel.value, self.in_channel.value
        self.K_full[o, c] = torch.tensor(KERNEL_PRESETS[change["new"]])
        name = change["new"]
        self._sync_sliders()
        self._hold = True
        self.preset.value = name
        self._hold = False
        self.update()

    def _on_kernel_entry(self, change):
        o, c = self.out_channel.value, self.in_channel.value
        k_w = self.K_full.shape[3]
        idx = list(self.k_sliders.values()).index(change["owner"])
        r, s = divmod(idx, k_w)
        self.K_full[o, c, r, s] = float(change["new"])
        self._hold = True
        self.preset.value = CUSTOM
        self._hold = False
        self.update()

    def _compute_and_draw(self):
        c_i, c_o = self.c_i.value, self.c_o.value
        o = min(self.out_channel.value, c_o - 1)
        X = self.X_full[:c_i]                     # (c_i, h, w)
        K = self.K_full[:c_o, :c_i]               # (c_o, c_i, k_h, k_w)
        partials = channel_partials(X, K)         # (c_o, c_i, h', w')
        Y = corr2d_multi_in_out(X, K)             # (c_o, h', w')
        k_h, k_w = K.shape[2:]
        h, w = X.shape[1:]
        self.state.update(
            X=X, K=K.clone(), partials=partials, Y=Y,
            sum=partials[o].sum(0), out_channel=o,
            in_channel=min(self.in_channel.value, c_i - 1), c_i=c_i,
            c_o=c_o, params=conv_param_count(c_i, c_o, k_h, k_w,
                                             bias=False),
            macs=conv_macs(c_i, c_o, h, w, k_h, k_w))
        update_channel_explorer(self.artists, X, K, o, partials, Y)
        self.view.refresh()
        c = self.state["in_channel"]
        self.readout.value = (
            f"<code>X</code>: {c_i}×{h}×{w} &nbsp; "
            f"<code>K</code>: c_o×c_i×k_h×k_w = {c_o}×{c_i}×{k_h}×{k_w}"
            f" &nbsp; <code>Y</code>: {c_o}×{Y.shape[1]}×{Y.shape[2]}"
            f"<br>参数 (weights) c_o·c_i·k_h·k_w = {self.state['params']}"
            f" &nbsp; 乘加次数 (MACs) = {self.state['macs']}"
            f"<br>Y[{o}] = " + " + ".join(
                f"X[{q}] ⋆ K[{o},{q}]" for q in range(c_i))
            + f"<br>K[{o}, {c}] ({CHANNEL_NAMES[c] if c_i <= 3 else c}) = "
            f"<code>{_fmt_matrix(K[o, c])}</code>")


def channel_explorer(X=None, K=None):
    """The 6.4 channel explorer (default: RGB test image, 3x3x3x3 K)."""
    return ChannelExplorer(X, K)


class Conv1x1Mixer(_Explorer):
    """A 1x1 kernel mixing three input channels into one output (6.4.3).

    Controls: w_r, w_g, w_b (the weights K[0, :, 0, 0]), preset, row, col
    (the pixel whose matrix product is shown). `state`: X (3, h, w),
    K (1, 3, 1, 1), W (1, 3), Y (1, h, w) from corr2d_multi_in_out_1x1,
    x = X[:, row, col] (3,), y = W @ x (1,), pixel (row, col), message, ms.
    """

    def __init__(self, X=None, weights=(0.3, 0.59, 0.11)):
        import ipywidgets as widgets

        super().__init__()
        self.X = color_test_image(24) if X is None else torch.as_tensor(
            X).float()
        if self.X.dim() != 3 or self.X.shape[0] != 3:
            raise ValueError("X must have shape (3, h, w), got "
                             f"{tuple(self.X.shape)}")
        h, w = self.X.shape[1:]
        wsl = dict(min=-1.0, max=1.0, step=0.01, readout_format=".2f")
        self.w_r = widgets.FloatSlider(weights[0], description="w_R", **wsl)
        self.w_g = widgets.FloatSlider(weights[1], description="w_G", **wsl)
        self.w_b = widgets.FloatSlider(weights[2], description="w_B", **wsl)
        self.preset = widgets.Dropdown(options=[CUSTOM] + list(MIXER_PRESETS),
                                       value=CUSTOM, description="预设")
        self.row = widgets.IntSlider(h // 4, min=0, max=h - 1,
                                     description="像素行 i")
        self.col = widgets.IntSlider(w // 4, min=0, max=w - 1,
                                     description="像素列 j")
        self.controls = {"w_r": self.w_r, "w_g": self.w_g, "w_b": self.w_b,
                         "preset": self.preset, "row": self.row,
                         "col": self.col}
        self.readout = widgets.HTML()
        fig = new_figure((8.4, 2.6), dpi=72)
        self.artists = plot_1x1_mixer(self.X, self._kernel(),
                                      self.row.value, self.col.value,
                                      fig=fig, show_text=False)
        self.view = FigureView(fig)
        for name in ("w_r", "w_g", "w_b"):
            self._observe(self.controls[name], self._on_weight)
        self._observe(self.preset, self._on_preset)
        self._observe(self.row, lambda change: self.update())
        self._observe(self.col, lambda change: self.update())
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([self.w_r, self.w_g, self.w_b]),
                          widgets.VBox([self.preset, self.row, self.col])]),
            self.view.image, self.readout])
        self.update()

    def _kernel(self):
        w = [self.w_r.value, self.w_g.value, self.w_b.value]
        return torch.tensor(w).reshape(1, 3, 1, 1)  # (c_o, c_i, 1, 1)

    def _on_weight(self, change):
        self._hold = True
        self.preset.value = CUSTOM
        self._hold = False
        self.update()

    def _on_preset(self, change):
        if change["new"] == CUSTOM:
            return
        self._hold = True
        try:
            for sl, v in zip((self.w_r, self.w_g, self.w_b),
                             MIXER_PRESETS[change["new"]]):
                sl.value = v
        finally:
            self._hold = False
        self.update()

    def _compute_and_draw(self):
        K = self._kernel()
        i, j = self.row.value, self.col.value
        x, W, y = pixel_matmul(self.X, K, i, j)
        Y = corr2d_multi_in_out_1x1(self.X, K)    # (1, h, w)
        self.state.update(X=self.X, K=K, W=W, Y=Y, x=x, y=y, pixel=(i, j))
        update_1x1_mixer(self.artists, self.X, K, i, j, Y=Y)
        self.view.refresh()
        xs = ", ".join(f"{v:.2f}" for v in x.tolist())
        ws = ", ".join(f"{v:.2f}" for v in W[0].tolist())
        terms = " + ".join(f"({a:.2f})·{b:.2f}" for a, b in
                           zip(W[0].tolist(), x.tolist()))
        self.readout.value = (
            f"像素 (i, j) = ({i}, {j}): <code>x = X[:, {i}, {j}] = [{xs}]"
            f"</code> (R, G, B) &nbsp; <code>W = K[:, :, 0, 0] = [[{ws}]]"
            f"</code><br><code>W x = {terms} = {float(y[0]):.4f}</code>"
            f"<br>1×1 卷积输出 <code>Y[0, {i}, {j}] = "
            f"{float(Y[0, i, j]):.4f}</code> &nbsp; 整张图："
            "<code>Y = W · X.reshape(3, h·w)</code>，"
            "即在每个像素上做同一个全连接层")


def conv1x1_mixer(X=None, weights=(0.3, 0.59, 0.11)):
    """The 6.4.3 1x1 mixer (default: 24x24 RGB test image, grayscale)."""
    return Conv1x1Mixer(X, weights)
