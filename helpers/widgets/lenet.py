"""A viewer that looks inside a trained LeNet (6.6), test image by image.

    from helpers.widgets.lenet import lenet_viewer
    viewer = lenet_viewer(net, data.test_images, data.test_labels)
    viewer                      # in a notebook cell

Thin wiring only: helpers.evaluate computes, helpers.plot.lenet draws.
Tests set `viewer.index.value = ...` (or `klass`, `only_wrong`, the
buttons' `click()`) and read `viewer.state`.
"""
from dataclasses import dataclass, field

import torch

from ..data import TEXT_LABELS
from ..env import one_thread
from ..evaluate import feature_maps, predict, predict_proba
from ..plot.lenet import plot_lenet_view, update_lenet_view
from .common import BlitView, Timer, new_figure

ANY = "any class"


@dataclass
class ViewerState:
    """What the viewer shows now (read by tests)."""
    index: int
    label: int
    label_name: str
    pred: int
    pred_name: str
    probs: torch.Tensor                    # (num_classes,) softmax
    maps: dict = field(default_factory=dict)  # {'conv1': (6, 28, 28)...}
    message: str = ""

    @property
    def correct(self):
        return self.pred == self.label


class LenetViewer:
    """Index slider, class filter, 'only mistakes' and prev/next buttons.

    The class filter and the toggle steer navigation: choosing a class
    (or ticking the toggle) jumps to the next matching test image, and
    the buttons step between matching images. Moving the slider shows
    any image. Nothing raises: a filter with no match says so.
    """

    def __init__(self, net, images, labels, class_names=TEXT_LABELS,
                 index=0, dpi=72):
        import ipywidgets as widgets

        if len(images) == 0 or len(images) != len(labels):
            raise ValueError(f"images and labels must be non-empty and of "
                             f"equal length, got {len(images)} and "
                             f"{len(labels)}")
        self.net, self.images = net, images
        self.labels = torch.as_tensor(labels).reshape(-1).long().cpu()
        self.class_names = tuple(class_names)
        self._preds = None  # all predictions, computed on first need
        self.timings = []
        n = len(images)
        if not isinstance(index, int) or not 0 <= index < n:
            raise ValueError(f"index must be an int in 0..{n - 1}, "
                             f"got {index!r}")

        self.index = widgets.IntSlider(
            value=index, min=0, max=n - 1, description="image",
            continuous_update=False,
            layout=widgets.Layout(width="420px"))
        self.klass = widgets.Dropdown(
            options=[ANY, *self.class_names], value=ANY,
            description="class")
        self.only_wrong = widgets.Checkbox(
            value=False, description="only misclassified", indent=False)
        self.prev_button = widgets.Button(description="◀ previous",
                                          layout={"width": "110px"})
        self.next_button = widgets.Button(description="next ▶",
                                          layout={"width": "110px"})
        self.readout = widgets.HTML()
        self.controls = {"index": self.index, "klass": self.klass,
                         "only_wrong": self.only_wrong,
                         "prev": self.prev_button, "next": self.next_button}

        self.state = self._compute(index)
        self.fig = new_figure((10, 4.4), dpi=dpi)
        self.lenet_view = plot_lenet_view(
            self._image(index), self.state.maps, self.state.probs,
            self.class_names, self.state.label, index, fig=self.fig)
        self.view = BlitView(self.fig, self.lenet_view.dynamic_artists())
        self._show_readout()

        self.index.observe(self._safe(self.update), names="value")
        self.klass.observe(self._safe(self._jump, +1, True), names="value")
        self.only_wrong.observe(self._safe(self._jump, +1, True),
                                names="value")
        self.prev_button.on_click(self._safe(self._jump, -1, False))
        self.next_button.on_click(self._safe(self._jump, +1, False))
        self.widget = widgets.VBox([
            widgets.HBox([self.index, self.prev_button, self.next_button]),
            widgets.HBox([self.klass, self.only_wrong]),
            self.readout, self.view.image])

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _safe(self, fn, *args):
        """A callback that reports errors in the readout, never raises."""
        def callback(_change_or_button):
            try:
                fn(*args)
            except Exception as e:
                self.state.message = f"error: {type(e).__name__}: {e}"
                self._show_readout()
        return callback

    def _image(self, i):
        return self.images[i]

    def _compute(self, i):
        x = self._image(i)
        probs = predict_proba(self.net, x)[0]
        pred, label = int(probs.argmax()), int(self.labels[i])
        return ViewerState(i, label, self.class_names[label], pred,
                           self.class_names[pred], probs,
                           feature_maps(self.net, x))

    def _matches(self):
        """Boolean mask of images that pass the class / mistake filters."""
        mask = torch.ones(len(self.labels), dtype=torch.bool)
        if self.klass.value != ANY:
            mask &= self.labels == self.class_names.index(self.klass.value)
        if self.only_wrong.value:
            if self._preds is None:
                self._preds = predict(self.net, self.images)
            mask &= self._preds != self.labels
        return mask

    def _jump(self, step, include_current):
        """Go to the next (step=+1) or previous matching image, wrapping."""
        hits = torch.nonzero(self._matches()).reshape(-1).tolist()
        if not hits:
            self.state.message = "no test image matches these filters"
            self._show_readout()
            return
        i, n = self.index.value, len(self.labels)
        if include_current and i in hits:
            self.update()
            return
        # circular distance from the current index in direction step
        target = min(hits, key=lambda h: (step * (h - i)) % n or n)
        if target == i:
            self.update()
        else:
            self.index.value = target  # the observer calls update()

    @one_thread()
    def update(self):
        """Recompute for the slider's image and redraw in place."""
        with Timer() as t:
            i = self.index.value
            self.state = self._compute(i)
            if not bool(self._matches()[i]):
                self.state.message = ("this image does not match the "
                                      "filters; use previous / next")
            update_lenet_view(self.lenet_view, self._image(i),
                              self.state.maps, self.state.probs,
                              self.state.label, i)
            self.view.refresh()
            self._show_readout()
        self.view.last_ms = t.ms
        self.timings.append(t.ms)
        return t.ms

    def _show_readout(self):
        s = self.state
        verdict = ("<span style='color:green'>correct</span>" if s.correct
                   else "<span style='color:red'>wrong</span>")
        text = (f"test image <b>{s.index}</b>: true <b>{s.label_name}</b>,"
                f" predicted <b>{s.pred_name}</b> "
                f"(p = {float(s.probs[s.pred]):.2f}), {verdict}")
        if s.message:
            text += f" &nbsp; <i>{s.message}</i>"
        self.readout.value = text


def lenet_viewer(net, images, labels, class_names=TEXT_LABELS, index=0,
                 dpi=72):
    """Build the LeNet viewer over (test) images (6.6, looking inside)."""
    return LenetViewer(net, images, labels, class_names, index, dpi)
