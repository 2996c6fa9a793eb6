"""Training LeNet (6.6.2): d2l's `train_ch6`, with a fast path underneath.

    from helpers.train import train_fashion_mnist
    net, history = train_fashion_mnist("classic", num_epochs=10)

`train_ch6(net, train_iter, test_iter, num_epochs, lr, device)` takes the
same arguments as d2l's and prints the same two final lines. When the
iterators hold tensors (helpers.data.TensorLoader, or an (X, y) pair) the
whole data set moves to the device once and each epoch walks a shuffled
copy of it: no per-sample transforms, no DataLoader workers, and loss and
accuracy add up on the device, read back once per progress update. On
CUDA one training step is captured as a CUDA graph and replayed. Any
other iterable (e.g. a torch DataLoader) is simply iterated, as d2l does.
"""
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from helpers.lenet import RECIPES, init_xavier, lenet, lenet_variant

LIVE_MODES = ("auto", True, False, "text", "notebook")
EVAL_BATCH = 1024  # test examples per forward pass on the fast path
CHECKPOINT_FORMAT = "helpers.train/1"


class TrainingDiverged(Exception):
    """The loss became nan or inf; `.history` keeps the epochs before."""

    def __init__(self, message, history=None):
        super().__init__(message)
        self.history = history


@dataclass
class History:
    """Per-epoch loss, train acc, test acc and seconds of one training."""
    loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)  # train + test, per epoch
    device: str = ""
    interrupted: bool = False
    diverged: bool = False
    examples_per_sec: float = 0.0  # d2l's number: training steps only
    num_examples: int = 0  # training examples seen, all epochs

    @property
    def num_epochs_done(self):
        return len(self.loss)

    def as_dict(self):
        """Plain types only, so torch.load(weights_only=True) reads it."""
        return {"loss": list(self.loss), "train_acc": list(self.train_acc),
                "test_acc": list(self.test_acc),
                "seconds": list(self.seconds), "device": str(self.device),
                "interrupted": bool(self.interrupted),
                "diverged": bool(self.diverged),
                "examples_per_sec": float(self.examples_per_sec),
                "num_examples": int(self.num_examples)}

    @classmethod
    def from_dict(cls, d):
        """Inverse of `as_dict` (unknown keys are ignored)."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in names})


def accuracy(y_hat, y):
    """Number of correct predictions, as d2l's accuracy (3.6.3)."""
    return float(_num_correct(y_hat, y))


def _num_correct(y_hat, y):
    # a 0-d tensor on y's device: no host sync
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return (y_hat.type(y.dtype) == y).sum()


def _tensor_data(data_iter):
    """(X, y, batch_size, shuffle, generator) if it holds tensors."""
    if (isinstance(data_iter, (tuple, list)) and len(data_iter) == 2
            and all(isinstance(t, torch.Tensor) for t in data_iter)):
        X, y = data_iter
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
        return X, y, 256, True, None
    X, y = getattr(data_iter, "X", None), getattr(data_iter, "y", None)
    if isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor):
        return (X, y, data_iter.batch_size,
                getattr(data_iter, "shuffle", False),
                getattr(data_iter, "generator", None))
    return None


def _check_device(device):
    from helpers.env import try_gpu

    return try_gpu() if device is None else torch.device(device)


def _eval_batches(data_iter, device, memory_format):
    tensors = _tensor_data(data_iter)
    if tensors is None:
        for X, y in data_iter:
            yield (X.to(device).contiguous(memory_format=memory_format),
                   y.to(device))
        return
    X, y = tensors[0].to(device), tensors[1].to(device)
    X = X.contiguous(memory_format=memory_format)
    for start in range(0, len(X), EVAL_BATCH):
        yield X[start:start + EVAL_BATCH], y[start:start + EVAL_BATCH]


def evaluate_accuracy_gpu(net, data_iter, device=None):
    """Accuracy of `net` on `data_iter`, computed on `device` (6.6.2)."""
    if isinstance(net, nn.Module):
        net.eval()
        if device is None:
            device = next(iter(net.parameters())).device
    device = _check_device(device)
    fmt = _memory_format(device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    total = 0
    with torch.no_grad():
        for X, y in _eval_batches(data_iter, device, fmt):
            correct += _num_correct(net(X), y)
            total += y.numel()
    if total == 0:
        raise ValueError("data_iter must yield at least one example")
    return correct.item() / total


def _memory_format(device):
    # channels_last lets oneDNN skip layout reorders: ~25 % faster on CPU
    if device.type == "cpu":
        return torch.channels_last
    return torch.contiguous_format


# ---------------------------------------------------------------- live view
def _in_notebook():
    """True inside a Jupyter kernel (not plain IPython, not a script)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _live_mode(live):
    if live not in LIVE_MODES:
        raise ValueError(f"live must be one of {LIVE_MODES}, got {live!r}")
    if live is False:
        return None
    if live in ("auto", True):
        return "notebook" if _in_notebook() else "text"
    return live


class _TextView:
    """One printed line per epoch (scripts, terminals)."""

    def __init__(self, num_epochs, num_batches):
        self.num_epochs = num_epochs

    def progress(self, epoch, i, num_batches, loss, acc):
        pass

    def epoch_end(self, history):
        e = history.num_epochs_done
        print(f"epoch {e}/{self.num_epochs}: loss {history.loss[-1]:.3f}, "
              f"train acc {history.train_acc[-1]:.3f}, "
              f"test acc {history.test_acc[-1]:.3f}, "
              f"{history.seconds[-1]:.1f} s", flush=True)

    def close(self, message=""):
        if message:
            print(message, flush=True)


class _NullHandle:
    def update(self, obj):
        pass


def _display(obj):
    """Show `obj`; the handle's .update(obj) replaces it in place."""
    from IPython.display import display

    handle = display(obj, display_id=True)
    return _NullHandle() if handle is None else handle  # None: no kernel


class _NotebookView:
    """A progress bar and a live plot, updated in place via display ids."""

    FIGURE_EVERY = 0.5  # seconds between figure renders (PNG ~50 ms)

    def __init__(self, num_epochs, num_batches):
        from IPython.display import HTML

        from helpers.widgets.common import new_figure

        self.num_epochs, self.t0 = num_epochs, time.perf_counter()
        self.fig = new_figure((5.5, 3.5))
        ax = self.fig.add_subplot()
        ax.set(xlabel="epoch", xlim=(0, num_epochs), ylim=(0, 2.5),
               title="LeNet training on Fashion-MNIST")
        ax.grid(True, alpha=0.3)
        self.ax = ax
        self.lines = {
            "train loss": ax.plot([], [], "-", label="train loss")[0],
            "train acc": ax.plot([], [], "m--", label="train acc")[0],
            "test acc": ax.plot([], [], "g-.", marker=".",
                                label="test acc")[0]}
        ax.legend(loc="upper right")
        self.points = {name: ([], []) for name in self.lines}
        self.last_figure = -math.inf
        self.bar = _display(HTML(self._bar_html(0, 0, num_batches)))
        self.plot = _display(self._image())

    def _image(self):
        from IPython.display import Image

        from helpers.widgets.common import figure_png

        self.last_figure = time.perf_counter()
        return Image(data=figure_png(self.fig), format="png")

    def _bar_html(self, epoch, i, num_batches, text=""):
        done = epoch * num_batches + i
        total = max(self.num_epochs * num_batches, 1)
        secs = time.perf_counter() - self.t0
        return (f'<progress value="{done}" max="{total}" '
                f'style="width:40%"></progress> '
                f'<code>epoch {min(epoch + 1, self.num_epochs)}/'
                f'{self.num_epochs} · batch {i}/{num_batches} · '
                f'{secs:.1f} s{text}</code>')

    def _add(self, name, x, y):
        xs, ys = self.points[name]
        xs.append(x)
        ys.append(y)
        self.lines[name].set_data(xs, ys)

    def progress(self, epoch, i, num_batches, loss, acc):
        from IPython.display import HTML

        self._add("train loss", epoch + i / num_batches, loss)
        self._add("train acc", epoch + i / num_batches, acc)
        self.bar.update(HTML(self._bar_html(
            epoch, i, num_batches,
            f" · loss {loss:.3f} · train acc {acc:.3f}")))

    def epoch_end(self, history):
        e = history.num_epochs_done
        self._add("test acc", e, history.test_acc[-1])
        top = max(self.points["train loss"][1] + [1.0])
        self.ax.set_ylim(0, min(top, 2.5) * 1.05)
        if (e == self.num_epochs or time.perf_counter() - self.last_figure
                >= self.FIGURE_EVERY):
            self.plot.update(self._image())

    def close(self, message=""):
        from IPython.display import HTML

        self.plot.update(self._image())
        if message:
            self.bar.update(HTML(f"<code>{message}</code>"))


def _make_view(mode, num_epochs, num_batches):
    if mode is None:
        return None
    if mode == "notebook":
        return _NotebookView(num_epochs, num_batches)
    return _TextView(num_epochs, num_batches)


# ---------------------------------------------------------- training steps
class _Sums:
    """Loss sum and correct count of one epoch, kept on the device."""

    def __init__(self, device):
        self.loss = torch.zeros((), device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.n = 0  # examples, counted on the host

    def zero(self):
        self.loss.zero_()
        self.correct.zero_()
        self.n = 0

    def read(self):
        """(mean loss, accuracy): the one host sync."""
        loss, correct = self.loss.item(), self.correct.item()
        n = max(self.n, 1)
        return loss / n, correct / n


def _eager_step(net, loss, optimizer, sums):
    def step(X, y):
        optimizer.zero_grad(set_to_none=True)
        y_hat = net(X)
        l = loss(y_hat, y)
        l.backward()
        optimizer.step()
        with torch.no_grad():
            sums.loss.add_(l.detach() * y.shape[0])
            sums.correct.add_(_num_correct(y_hat, y))
        sums.n += y.shape[0]
    return step


class _GraphStep:
    """One full-batch training step captured as a CUDA graph.

    Replaying it launches all kernels of forward, backward, SGD update
    and metric sums at once, which removes the per-step Python and
    launch overhead that dominates a net as small as LeNet on a GPU.
    """

    def __init__(self, net, loss, optimizer, sums, X, y):
        self.sums, self.batch = sums, X.shape[0]
        self.X, self.y = X.clone(), y.clone()  # static inputs
        eager = _eager_step(net, loss, optimizer, sums)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):  # warm-up, as capture requires
            for _ in range(3):
                eager(self.X, self.y)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        optimizer.zero_grad(set_to_none=True)
        with torch.cuda.graph(self.graph):
            y_hat = net(self.X)
            l = loss(y_hat, self.y)
            l.backward()
            optimizer.step()
            with torch.no_grad():
                sums.loss.add_(l.detach() * self.batch)
                sums.correct.add_(_num_correct(y_hat, self.y))
        self.outputs = (y_hat, l)  # keep the graph's buffers alive

    def __call__(self, X, y):
        self.X.copy_(X, non_blocking=True)
        self.y.copy_(y, non_blocking=True)
        self.graph.replay()
        self.sums.n += self.batch


def _use_graphs(cuda_graphs, device, tensors):
    if cuda_graphs not in ("auto", True, False):
        raise ValueError(f"cuda_graphs must be 'auto', True or False, "
                         f"got {cuda_graphs!r}")
    ok = device.type == "cuda" and tensors is not None
    if cuda_graphs is True and not ok:
        raise ValueError("cuda_graphs=True needs a CUDA device and tensor "
                         "data (TensorLoader); use cuda_graphs='auto'")
    return ok and cuda_graphs is not False


def _batches(tensors, device, memory_format):
    """Shuffled minibatches from tensors already on `device`."""
    X, y, batch_size, shuffle, generator = tensors
    n = len(X)
    # permute on the CPU: the same order on every device for a seed
    idx = torch.randperm(n, generator=generator).to(device) \
        if shuffle else None
    for start in range(0, n, batch_size):
        if idx is None:
            Xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        else:  # gather one batch at a time: it stays in the CPU's cache
            batch = idx[start:start + batch_size]
            Xb, yb = X[batch], y[batch]
        yield Xb.contiguous(memory_format=memory_format), yb


def _loader_batches(data_iter, device, memory_format):
    for X, y in data_iter:
        yield (X.to(device, non_blocking=True).contiguous(
            memory_format=memory_format), y.to(device, non_blocking=True))


def _suggest_lr(lr):
    return f"{lr / 10:.3g}"


# ------------------------------------------------------------- train_ch6
def _check_args(num_epochs, lr):
    if (not isinstance(num_epochs, int) or isinstance(num_epochs, bool)
            or num_epochs < 1):
        raise ValueError(f"num_epochs must be an int >= 1, "
                         f"got {num_epochs!r}")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) \
            or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")


def train_ch6(net, train_iter, test_iter, num_epochs, lr, device=None, *,
              live="auto", checkpoint=None, hparams=None, init=True,
              cuda_graphs="auto", momentum=0.0, schedule=None):
    """Train a model with a GPU (6.6.2); returns a History.

    As d2l's train_ch6: re-initialises Conv2d/Linear weights with Xavier
    (init=False keeps them), SGD with `lr` (and `momentum`, 0 as in
    d2l), cross-entropy loss, and prints d2l's two final lines.
    schedule='cosine' anneals lr to 0 over the epochs (not in d2l). Extras: `live` ('auto', 'text',
    'notebook' or False) shows progress; `checkpoint` (a path) is saved
    atomically after each epoch; nan/inf loss raises TrainingDiverged;
    the Jupyter stop button (KeyboardInterrupt) ends training early and
    returns the model and history so far (history.interrupted is True).
    """
    _check_args(num_epochs, lr)
    device = _check_device(device)
    mode = _live_mode(live)
    if init:
        init_xavier(net)
    fmt = _memory_format(device)
    net.to(device=device, memory_format=fmt)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
    if schedule not in (None, "cosine"):
        raise ValueError(f"schedule must be None or 'cosine', "
                         f"got {schedule!r}")
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    scheduler = (None if schedule is None else torch.optim.lr_scheduler
                 .CosineAnnealingLR(optimizer, T_max=num_epochs))
    loss = nn.CrossEntropyLoss()
    tensors = _tensor_data(train_iter)
    if tensors is not None:
        tensors = (tensors[0].to(device), tensors[1].to(device),
                   *tensors[2:])
        num_batches = -(-len(tensors[0]) // tensors[2])
        batch_size = tensors[2]
    else:
        num_batches = len(train_iter) if hasattr(train_iter, "__len__") \
            else 0
        batch_size = getattr(train_iter, "batch_size", None)
    test = _tensor_data(test_iter)
    if test is not None:  # move the test set to the device once, too
        test_iter = (test[0].to(device), test[1].to(device))
    sums = _Sums(device)
    # A captured graph bakes in the lr: a schedule runs without graphs.
    graphs = _use_graphs(cuda_graphs if scheduler is None else False,
                         device, tensors)
    step = _Stepper(net, loss, optimizer, sums,
                    tensors[2] if graphs else None)
    history = History(device=str(device))
    hp = {"variant": lenet_variant(net), "lr": float(lr),
          "momentum": float(momentum), "schedule": schedule,
          "batch_size": batch_size, "num_epochs": num_epochs,
          **(hparams or {})}
    print('training on', device)
    view = _make_view(mode, num_epochs, num_batches)
    where = {"epoch": 0, "batch": 0}  # for the interrupt message
    train_time = 0.0
    try:
        for epoch in range(num_epochs):
            t0 = time.perf_counter()
            net.train()
            batches = (_batches(tensors, device, fmt) if tensors is not None
                       else _loader_batches(train_iter, device, fmt))
            where["epoch"] = epoch
            train_l, train_acc = _train_epoch(step, batches, sums, view,
                                              num_batches, where, lr,
                                              history)
            train_time += time.perf_counter() - t0
            if scheduler is not None:
                scheduler.step()
            test_acc = evaluate_accuracy_gpu(net, test_iter, device)
            history.loss.append(train_l)
            history.train_acc.append(train_acc)
            history.test_acc.append(test_acc)
            history.seconds.append(time.perf_counter() - t0)
            history.num_examples += sums.n
            history.examples_per_sec = history.num_examples / train_time
            if view is not None:
                view.epoch_end(history)
            if checkpoint is not None:
                save_checkpoint(checkpoint, net, hp, history)
    except KeyboardInterrupt:
        history.interrupted = True
        message = (f"interrupted in epoch {where['epoch'] + 1} (batch "
                   f"{where['batch']}): kept the model and the history "
                   f"of {history.num_epochs_done} finished epoch(s)")
        print(message)
        if view is not None:
            view.close(message)
            view = None
    except TrainingDiverged:
        if view is not None:
            view.close("training diverged")
        raise
    if view is not None:
        view.close()
    if history.num_epochs_done:
        print(f'loss {history.loss[-1]:.3f}, train acc '
              f'{history.train_acc[-1]:.3f}, test acc '
              f'{history.test_acc[-1]:.3f}')
        print(f'{history.examples_per_sec:.1f} examples/sec '
              f'on {str(device)}')
    return history


def _train_epoch(step, batches, sums, view, num_batches, where, lr,
                 history):
    """One pass over the data; (mean loss, accuracy) read once at the end.

    With a live view the sums are also read at 1/5, 2/5, ... of the
    epoch (as d2l's animator), which is where a nan shows up early.
    """
    epoch = where["epoch"]
    marks = {max(num_batches * k // 5, 1) for k in range(1, 5)}
    sums.zero()
    i = 0
    for i, (X, y) in enumerate(batches, 1):
        where["batch"] = i
        step(X, y)
        if view is not None and i in marks and i < num_batches:
            train_l, train_acc = sums.read()
            _check_finite(train_l, epoch, lr, history)
            view.progress(epoch, i, num_batches, train_l, train_acc)
    train_l, train_acc = sums.read()  # the one host sync per epoch
    _check_finite(train_l, epoch, lr, history)
    if view is not None:
        view.progress(epoch, i, max(num_batches, i), train_l, train_acc)
    return train_l, train_acc


class _Stepper:
    """One training step: a replayed CUDA graph where possible, else eager.

    `graph_batch` is the batch size to capture (None: always eager); a
    smaller last batch of an epoch runs eagerly.
    """

    def __init__(self, net, loss, optimizer, sums, graph_batch=None):
        self.args = (net, loss, optimizer, sums)
        self.eager = _eager_step(net, loss, optimizer, sums)
        self.graph_batch, self.graph = graph_batch, None

    def __call__(self, X, y):
        if self.graph_batch is None or X.shape[0] != self.graph_batch:
            return self.eager(X, y)
        if self.graph is None:
            self.graph = _capture(*self.args, X, y)
            if self.graph is None:
                self.graph_batch = None
                return self.eager(X, y)
        return self.graph(X, y)


def _capture(net, loss, optimizer, sums, X, y):
    """A _GraphStep, or None (with a note) where capture fails."""
    params = list(net.parameters())
    saved = [p.detach().clone() for p in params]
    n = sums.n
    try:
        with torch.cuda.device(X.device):
            graph = _GraphStep(net, loss, optimizer, sums, X, y)
    except Exception as e:  # an old driver, a custom layer, ...
        print(f"note: CUDA graph capture failed ({type(e).__name__}: {e});"
              " training continues without it", file=sys.stderr)
        graph = None
    torch.cuda.synchronize(X.device)
    with torch.no_grad():  # undo the warm-up steps and their sums
        for p, s in zip(params, saved):
            p.copy_(s)
    optimizer.zero_grad(set_to_none=graph is None)
    sums.zero()  # captured at the first batch: nothing to lose
    sums.n = n
    return graph


def _check_finite(train_l, epoch, lr, history):
    if not math.isfinite(train_l):
        history.diverged = True
        raise TrainingDiverged(
            f"loss became {train_l} in epoch {epoch + 1}: the learning rate"
            f" is too large for this model; lower lr (now {lr:g}), e.g. "
            f"lr={_suggest_lr(lr)}", history)


# ------------------------------------------------------------ checkpoints
def _plain(value, where):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    raise ValueError(f"{where} must hold plain values (numbers, strings, "
                     f"lists, dicts), got {type(value).__name__}")


def save_checkpoint(path, net, hparams, history=None):
    """Save state_dict + hyper-parameters + history atomically (6.6)."""
    if not isinstance(hparams, dict):
        raise ValueError(f"hparams must be a dict, got "
                         f"{type(hparams).__name__}")
    if isinstance(history, History):
        history = history.as_dict()
    state = {"format": CHECKPOINT_FORMAT,
             "state_dict": {k: v.detach().cpu().contiguous()
                            for k, v in net.state_dict().items()},
             "hparams": _plain(hparams, "hparams"),
             "history": _plain(history, "history")}
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # write next to the target, then rename: a crash never leaves half
    # a checkpoint, and the previous one stays intact until the rename
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ckpt-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _mismatch(net, state_dict):
    own = net.state_dict()
    problems = [f"missing in checkpoint: {k}" for k in own
                if k not in state_dict]
    problems += [f"unexpected in checkpoint: {k}" for k in state_dict
                 if k not in own]
    problems += [f"{k}: checkpoint {tuple(v.shape)} vs model "
                 f"{tuple(own[k].shape)}" for k, v in state_dict.items()
                 if k in own and tuple(v.shape) != tuple(own[k].shape)]
    return problems


def load_checkpoint(path, net=None):
    """Load (net, hparams, history) saved by save_checkpoint (6.6).

    With net=None a LeNet of the saved variant is built. A net whose
    layers do not match the checkpoint raises ValueError.
    """
    state = torch.load(os.fspath(path), map_location="cpu",
                       weights_only=True)
    if not (isinstance(state, dict) and "state_dict" in state
            and "hparams" in state):
        raise ValueError(f"{path} is not a checkpoint written by "
                         "save_checkpoint (no state_dict/hparams)")
    hparams = state["hparams"]
    saved = hparams.get("variant")
    if net is None:
        if saved not in ("classic", "modern"):
            raise ValueError(f"{path} holds no LeNet variant; pass the "
                             "net to load it into: load_checkpoint(path, "
                             "net)")
        net = lenet(saved, init=False)
    own = lenet_variant(net)
    problems = _mismatch(net, state["state_dict"])
    if saved is not None and own is not None and saved != own:
        problems.insert(0, f"variant: checkpoint {saved!r} vs model "
                        f"{own!r}")
    if problems:
        raise ValueError(
            f"checkpoint {path} (variant {saved!r}) does not match the "
            f"model (variant {own!r}):\n  " + "\n  ".join(problems)
            + f"\nfix: load it into lenet({saved!r}) or call "
            "load_checkpoint(path) without a net")
    net.load_state_dict(state["state_dict"])  # keeps net's device
    history = state.get("history")
    history = History.from_dict(history) if history else History()
    return net, hparams, history


# ------------------------------------------------------------- notebook
def train_fashion_mnist(variant="classic", num_epochs=10, lr=None,
                        batch_size=None, device=None, subset=None,
                        live="auto", seed=None, root=None,
                        checkpoint=None, momentum=None, schedule="recipe"):
    """Train LeNet on Fashion-MNIST (6.6.2); returns (net, history).

    Unset lr, batch_size, momentum and schedule come from the variant's
    recipe (helpers.lenet.RECIPES: the chapter's for 'classic');
    `subset` keeps the first `subset` training examples (quick mode);
    the test set is always the full 10,000 images.
    """
    from helpers.data import TensorLoader, load_fashion_mnist
    from helpers.env import set_seed, try_gpu

    if variant not in RECIPES:
        raise ValueError(f"variant must be 'classic' or 'modern', "
                         f"got {variant!r}")
    if subset is not None and (not isinstance(subset, int)
                               or not 1 <= subset <= 60000):
        raise ValueError(f"subset must be an int in 1..60000 or None, "
                         f"got {subset!r}")
    if seed is not None:
        set_seed(seed)
    if device is None:
        device = try_gpu()
        if device.type == "cpu" and live is not False:
            print("hint: no GPU found, so training runs on the CPU "
                  "(seconds per epoch instead of a fraction of one)")
    recipe = RECIPES[variant]
    lr = recipe["lr"] if lr is None else lr
    batch_size = recipe["batch_size"] if batch_size is None else batch_size
    momentum = recipe["momentum"] if momentum is None else momentum
    schedule = recipe["schedule"] if schedule == "recipe" else schedule
    data = load_fashion_mnist(root)
    n = 60000 if subset is None else subset
    train_iter = TensorLoader(data.train_images[:n], data.train_labels[:n],
                              batch_size, shuffle=True)
    test_iter = TensorLoader(data.test_images, data.test_labels,
                             batch_size)
    net = lenet(variant)
    history = train_ch6(net, train_iter, test_iter, num_epochs, lr, device,
                        live=live, checkpoint=checkpoint,
                        momentum=momentum, schedule=schedule,
                        hparams={"variant": variant, "subset": subset,
                                 "seed": seed})
    return net, history
