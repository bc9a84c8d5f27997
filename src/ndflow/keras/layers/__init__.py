"""`keras.layers`: the Keras 3 layers (one public layer per file, grouped by family).

>>> from ndflow.keras import layers
>>> layers.Dense(3).units
3
"""

from ndflow.keras.layers.activations.activation import Activation
from ndflow.keras.layers.activations.elu import ELU
from ndflow.keras.layers.activations.leaky_relu import LeakyReLU
from ndflow.keras.layers.activations.prelu import PReLU
from ndflow.keras.layers.activations.relu import ReLU
from ndflow.keras.layers.activations.softmax import Softmax
from ndflow.keras.layers.core.dense import Dense
from ndflow.keras.layers.core.embedding import Embedding
from ndflow.keras.layers.core.identity import Identity
from ndflow.keras.layers.core.lambda_layer import Lambda
from ndflow.keras.layers.core.masking import Masking
from ndflow.keras.layers.input_layer import Input, InputLayer
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.keras.layers.merging.add import Add, add
from ndflow.keras.layers.merging.average import Average, average
from ndflow.keras.layers.merging.concatenate import Concatenate, concatenate
from ndflow.keras.layers.merging.dot import Dot, dot
from ndflow.keras.layers.merging.maximum import Maximum, maximum
from ndflow.keras.layers.merging.minimum import Minimum, minimum
from ndflow.keras.layers.merging.multiply import Multiply, multiply
from ndflow.keras.layers.merging.subtract import Subtract, subtract
from ndflow.keras.layers.normalization.batch_normalization import BatchNormalization
from ndflow.keras.layers.normalization.layer_normalization import LayerNormalization
from ndflow.keras.layers.normalization.unit_normalization import UnitNormalization
from ndflow.keras.layers.preprocessing.normalization import Normalization
from ndflow.keras.layers.preprocessing.rescaling import Rescaling
from ndflow.keras.layers.regularization.activity_regularization import ActivityRegularization
from ndflow.keras.layers.regularization.dropout import Dropout
from ndflow.keras.layers.regularization.gaussian_dropout import GaussianDropout
from ndflow.keras.layers.regularization.gaussian_noise import GaussianNoise
from ndflow.keras.layers.reshaping.flatten import Flatten
from ndflow.keras.layers.reshaping.permute import Permute
from ndflow.keras.layers.reshaping.repeat_vector import RepeatVector
from ndflow.keras.layers.reshaping.reshape import Reshape

__all__ = [
    "Activation", "ActivityRegularization", "Add", "Average", "BatchNormalization",
    "Concatenate", "Dense", "Dot", "Dropout", "ELU", "Embedding", "Flatten", "GaussianDropout",
    "GaussianNoise", "Identity", "Input", "InputLayer", "InputSpec", "Lambda", "Layer",
    "LayerNormalization", "LeakyReLU", "Masking", "Maximum", "Minimum", "Multiply",
    "Normalization",
    "Permute", "PReLU", "ReLU", "Rescaling", "RepeatVector", "Reshape", "Softmax", "Subtract",
    "UnitNormalization", "add", "average",
    "concatenate", "dot", "maximum", "minimum", "multiply", "subtract",
]

# === convolution, pooling, padding/cropping/upsampling, spatial dropout, image preprocessing ===
# (owner: conv contributor; this block only)
from ndflow.keras.layers.convolutional.conv1d import Conv1D  # noqa: E402
from ndflow.keras.layers.convolutional.conv1d_transpose import Conv1DTranspose  # noqa: E402
from ndflow.keras.layers.convolutional.conv2d import Conv2D  # noqa: E402
from ndflow.keras.layers.convolutional.conv2d_transpose import Conv2DTranspose  # noqa: E402
from ndflow.keras.layers.convolutional.conv3d import Conv3D  # noqa: E402
from ndflow.keras.layers.convolutional.conv3d_transpose import Conv3DTranspose  # noqa: E402
from ndflow.keras.layers.convolutional.depthwise_conv1d import DepthwiseConv1D  # noqa: E402
from ndflow.keras.layers.convolutional.depthwise_conv2d import DepthwiseConv2D  # noqa: E402
from ndflow.keras.layers.convolutional.separable_conv1d import SeparableConv1D  # noqa: E402
from ndflow.keras.layers.convolutional.separable_conv2d import SeparableConv2D  # noqa: E402
from ndflow.keras.layers.pooling.average_pooling1d import AveragePooling1D  # noqa: E402
from ndflow.keras.layers.pooling.average_pooling2d import AveragePooling2D  # noqa: E402
from ndflow.keras.layers.pooling.average_pooling3d import AveragePooling3D  # noqa: E402
from ndflow.keras.layers.pooling.global_average_pooling1d import (  # noqa: E402
    GlobalAveragePooling1D,
)
from ndflow.keras.layers.pooling.global_average_pooling2d import (  # noqa: E402
    GlobalAveragePooling2D,
)
from ndflow.keras.layers.pooling.global_average_pooling3d import (  # noqa: E402
    GlobalAveragePooling3D,
)
from ndflow.keras.layers.pooling.global_max_pooling1d import GlobalMaxPooling1D  # noqa: E402
from ndflow.keras.layers.pooling.global_max_pooling2d import GlobalMaxPooling2D  # noqa: E402
from ndflow.keras.layers.pooling.global_max_pooling3d import GlobalMaxPooling3D  # noqa: E402
from ndflow.keras.layers.pooling.max_pooling1d import MaxPooling1D  # noqa: E402
from ndflow.keras.layers.pooling.max_pooling2d import MaxPooling2D  # noqa: E402
from ndflow.keras.layers.pooling.max_pooling3d import MaxPooling3D  # noqa: E402
from ndflow.keras.layers.preprocessing.image.center_crop import CenterCrop  # noqa: E402
from ndflow.keras.layers.preprocessing.image.random_brightness import (  # noqa: E402
    RandomBrightness,
)
from ndflow.keras.layers.preprocessing.image.random_contrast import RandomContrast  # noqa: E402
from ndflow.keras.layers.preprocessing.image.random_crop import RandomCrop  # noqa: E402
from ndflow.keras.layers.preprocessing.image.random_flip import RandomFlip  # noqa: E402
from ndflow.keras.layers.preprocessing.image.random_rotation import RandomRotation  # noqa: E402
from ndflow.keras.layers.preprocessing.image.random_translation import (  # noqa: E402
    RandomTranslation,
)
from ndflow.keras.layers.preprocessing.image.random_zoom import RandomZoom  # noqa: E402
from ndflow.keras.layers.preprocessing.image.resizing import Resizing  # noqa: E402
from ndflow.keras.layers.regularization.spatial_dropout import (  # noqa: E402
    SpatialDropout1D, SpatialDropout2D, SpatialDropout3D,
)
from ndflow.keras.layers.reshaping.cropping1d import Cropping1D  # noqa: E402
from ndflow.keras.layers.reshaping.cropping2d import Cropping2D  # noqa: E402
from ndflow.keras.layers.reshaping.cropping3d import Cropping3D  # noqa: E402
from ndflow.keras.layers.reshaping.up_sampling1d import UpSampling1D  # noqa: E402
from ndflow.keras.layers.reshaping.up_sampling2d import UpSampling2D  # noqa: E402
from ndflow.keras.layers.reshaping.up_sampling3d import UpSampling3D  # noqa: E402
from ndflow.keras.layers.reshaping.zero_padding1d import ZeroPadding1D  # noqa: E402
from ndflow.keras.layers.reshaping.zero_padding2d import ZeroPadding2D  # noqa: E402
from ndflow.keras.layers.reshaping.zero_padding3d import ZeroPadding3D  # noqa: E402

_CONV_EXPORTS = [
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "Conv1D", "Conv1DTranspose",
    "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Cropping1D", "Cropping2D",
    "Cropping3D", "DepthwiseConv1D", "DepthwiseConv2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalMaxPooling3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
    "SeparableConv1D", "SeparableConv2D", "SpatialDropout1D", "SpatialDropout2D",
    "SpatialDropout3D", "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D",
    "ZeroPadding2D", "ZeroPadding3D", "CenterCrop", "RandomBrightness", "RandomContrast",
    "RandomCrop", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "Resizing",
]
# Keras aliases
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose, Convolution3DTranspose = Conv2DTranspose, Conv3DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D)
_CONV_EXPORTS += [
    "Convolution1D", "Convolution2D", "Convolution3D", "Convolution2DTranspose",
    "Convolution3DTranspose", "SeparableConvolution1D", "SeparableConvolution2D", "MaxPool1D",
    "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D",
    "GlobalAvgPool3D",
]
__all__ = list(__all__) + [n for n in _CONV_EXPORTS if n not in __all__]
# === end convolution block ===================================================================

# === text and categorical preprocessing (owner: issue 13 text helper; this block only) =======
from ndflow.keras.layers.preprocessing.category_encoding import CategoryEncoding  # noqa: E402
from ndflow.keras.layers.preprocessing.discretization import Discretization  # noqa: E402
from ndflow.keras.layers.preprocessing.hashed_crossing import HashedCrossing  # noqa: E402
from ndflow.keras.layers.preprocessing.hashing import Hashing  # noqa: E402
from ndflow.keras.layers.preprocessing.integer_lookup import IntegerLookup  # noqa: E402
from ndflow.keras.layers.preprocessing.string_lookup import StringLookup  # noqa: E402
from ndflow.keras.layers.preprocessing.text_vectorization import (  # noqa: E402
    TextVectorization,
)

__all__ += ["CategoryEncoding", "Discretization", "HashedCrossing", "Hashing", "IntegerLookup",
            "StringLookup", "TextVectorization"]
# === end text and categorical preprocessing block ============================================

# === recurrent layers and attention (owner: sequence models, issue 13) =======================
from ndflow.keras.layers.rnn.bidirectional import Bidirectional  # noqa: E402
from ndflow.keras.layers.rnn.gru import GRU  # noqa: E402
from ndflow.keras.layers.rnn.gru_cell import GRUCell  # noqa: E402
from ndflow.keras.layers.rnn.lstm import LSTM  # noqa: E402
from ndflow.keras.layers.rnn.lstm_cell import LSTMCell  # noqa: E402
from ndflow.keras.layers.rnn.rnn import RNN  # noqa: E402
from ndflow.keras.layers.rnn.simple_rnn import SimpleRNN  # noqa: E402
from ndflow.keras.layers.rnn.simple_rnn_cell import SimpleRNNCell  # noqa: E402
from ndflow.keras.layers.rnn.stacked_rnn_cells import StackedRNNCells  # noqa: E402
from ndflow.keras.layers.rnn.time_distributed import TimeDistributed  # noqa: E402

_SEQ_EXPORTS = ["Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN",
                "SimpleRNNCell", "StackedRNNCells", "TimeDistributed"]
__all__ = list(__all__) + [n for n in _SEQ_EXPORTS if n not in __all__]
from ndflow.keras.layers.attention.multi_head_attention import MultiHeadAttention  # noqa: E402
from ndflow.keras.layers.core.einsum_dense import EinsumDense  # noqa: E402

__all__ += [n for n in ("MultiHeadAttention", "EinsumDense") if n not in __all__]
from ndflow.keras.layers.attention.additive_attention import AdditiveAttention  # noqa: E402
from ndflow.keras.layers.attention.attention import Attention  # noqa: E402

__all__ += [n for n in ("AdditiveAttention", "Attention") if n not in __all__]
from ndflow.keras.layers.attention.grouped_query_attention import (  # noqa: E402
    GroupQueryAttention,
)

__all__ += [n for n in ("GroupQueryAttention",) if n not in __all__]
# === end recurrent layers and attention =======================================================
from ndflow.keras.layers.rnn.conv_lstm1d import ConvLSTM1D  # noqa: E402
from ndflow.keras.layers.rnn.conv_lstm2d import ConvLSTM2D  # noqa: E402
from ndflow.keras.layers.rnn.conv_lstm3d import ConvLSTM3D  # noqa: E402

__all__ += [n for n in ("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D") if n not in __all__]
# === image augmentation layers (host-side, Keras 3 dict inputs with bounding boxes) ==========
from ndflow.keras.layers.preprocessing.image.aug_mix import AugMix  # noqa: E402
from ndflow.keras.layers.preprocessing.image.auto_contrast import AutoContrast  # noqa: E402
from ndflow.keras.layers.preprocessing.image.contrast_limited_adaptive_histogram_equalization import (  # noqa: E402, E501
    ContrastLimitedAdaptiveHistogramEqualization,
)
from ndflow.keras.layers.preprocessing.image.cut_mix import CutMix  # noqa: E402
from ndflow.keras.layers.preprocessing.image.equalization import Equalization  # noqa: E402
from ndflow.keras.layers.preprocessing.image.max_num_bounding_boxes import (  # noqa: E402
    MaxNumBoundingBoxes,
)
from ndflow.keras.layers.preprocessing.image.mix_up import MixUp  # noqa: E402
from ndflow.keras.layers.preprocessing.image.rand_augment import RandAugment  # noqa: E402
from ndflow.keras.layers.preprocessing.image.random_color_degeneration import (  # noqa: E402
    RandomColorDegeneration,
)
from ndflow.keras.layers.preprocessing.image.random_color_jitter import (  # noqa: E402
    RandomColorJitter,
)
from ndflow.keras.layers.preprocessing.image.random_elastic_transform import (  # noqa: E402
    RandomElasticTransform,
)
from ndflow.keras.layers.preprocessing.image.random_erasing import RandomErasing  # noqa: E402
from ndflow.keras.layers.preprocessing.image.random_gaussian_blur import (  # noqa: E402
    RandomGaussianBlur,
)
from ndflow.keras.layers.preprocessing.image.random_grayscale import (  # noqa: E402
    RandomGrayscale,
)
from ndflow.keras.layers.preprocessing.image.random_hue import RandomHue  # noqa: E402
from ndflow.keras.layers.preprocessing.image.random_invert import RandomInvert  # noqa: E402
from ndflow.keras.layers.preprocessing.image.random_perspective import (  # noqa: E402
    RandomPerspective,
)
from ndflow.keras.layers.preprocessing.image.random_posterization import (  # noqa: E402
    RandomPosterization,
)
from ndflow.keras.layers.preprocessing.image.random_saturation import (  # noqa: E402
    RandomSaturation,
)
from ndflow.keras.layers.preprocessing.image.random_sharpness import (  # noqa: E402
    RandomSharpness,
)
from ndflow.keras.layers.preprocessing.image.random_shear import RandomShear  # noqa: E402
from ndflow.keras.layers.preprocessing.image.solarization import Solarization  # noqa: E402

_AUGMENT_EXPORTS = (
    "AugMix", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix",
    "Equalization", "MaxNumBoundingBoxes", "MixUp", "RandAugment", "RandomColorDegeneration",
    "RandomColorJitter", "RandomElasticTransform", "RandomErasing", "RandomGaussianBlur",
    "RandomGrayscale", "RandomHue", "RandomInvert", "RandomPerspective", "RandomPosterization",
    "RandomSaturation", "RandomSharpness", "RandomShear", "Solarization",
)
__all__ += [n for n in _AUGMENT_EXPORTS if n not in __all__]
# === end image augmentation layers ============================================================
