"""`ConvLSTM1D`: a convolutional LSTM over sequences of 1-d feature maps.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.ones((2, 3) + (5,) * 1 + (2,), "float32")
>>> tuple(layers.ConvLSTM1D(4, 3, padding="same")(x).shape)[1:]
(5, 4)
"""

from __future__ import annotations

from ndflow.keras.layers.rnn.conv_lstm import ConvLSTM


class ConvLSTM1D(ConvLSTM):
    """Keras 3 `ConvLSTM1D(filters, kernel_size, strides=1, padding="valid",
    data_format=None, dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
    use_bias=True, unit_forget_bias=True, dropout=0.0, recurrent_dropout=0.0,
    return_sequences=False, return_state=False, go_backwards=False, stateful=False, ...)` on
    (batch, time, length, channels) inputs (channels_last only). Weights live in `cell`
    (`ConvLSTMCell`), as in Keras.
    """

    rank = 1
