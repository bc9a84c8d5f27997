"""`keras.callbacks`: hooks into `fit`, `evaluate` and `predict`.

>>> from ndflow import keras
>>> cbs = [keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)]
"""

from ndflow.keras.callbacks.backup_and_restore import BackupAndRestore
from ndflow.keras.callbacks.callback import Callback
from ndflow.keras.callbacks.callback_list import CallbackList
from ndflow.keras.callbacks.csv_logger import CSVLogger
from ndflow.keras.callbacks.early_stopping import EarlyStopping
from ndflow.keras.callbacks.history import History
from ndflow.keras.callbacks.lambda_callback import LambdaCallback
from ndflow.keras.callbacks.learning_rate_scheduler import LearningRateScheduler
from ndflow.keras.callbacks.model_checkpoint import ModelCheckpoint
from ndflow.keras.callbacks.progbar_logger import ProgbarLogger
from ndflow.keras.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from ndflow.keras.callbacks.remote_monitor import RemoteMonitor
from ndflow.keras.callbacks.swap_ema_weights import SwapEMAWeights
from ndflow.keras.callbacks.tensorboard import TensorBoard
from ndflow.keras.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = ["BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping",
           "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
           "ProgbarLogger", "ReduceLROnPlateau", "RemoteMonitor", "SwapEMAWeights",
           "TensorBoard", "TerminateOnNaN"]
