"""helpers: the code behind the chapter-6 notebooks of Dive into Deep Learning.

`import helpers` gives the names the notebooks use; the modules mirror the
chapter (conv 6.2-6.3, channels 6.4, pooling 6.5, receptive 6.2.5, data /
lenet / train 6.6). Importing seeds nothing: call `helpers.setup(SEED)`.
"""
from .env import device_name, quick_mode, set_seed, setup, try_gpu
from .data import (
    TEXT_LABELS, DataNotFoundError, TensorLoader, data_root,
    fashion_mnist_image, get_fashion_mnist_labels, load_data_fashion_mnist,
    load_fashion_mnist,
)
from .conv import (
    Conv2D, comp_conv2d, conv_output_shape, conv_output_shape_torch,
    convolve2d, corr2d, corr2d_fast, learn_kernel,
)
from .channels import (
    conv_macs, conv_param_count, corr2d_multi_in, corr2d_multi_in_out,
    corr2d_multi_in_out_1x1, fc_param_count,
)
from .pooling import pool2d
from .receptive import empirical_rf, receptive_box, receptive_field
from .lenet import lenet, print_layer_shapes
from .train import (
    evaluate_accuracy_gpu, load_checkpoint, save_checkpoint, train_ch6,
)
