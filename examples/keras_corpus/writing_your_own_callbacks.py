"""After keras.io/guides/writing_your_own_callbacks: every hook, logs, early stopping at the
minimum loss, and a learning-rate schedule callback."""
import numpy as np

from ndflow import keras


def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
                  loss="mean_squared_error", metrics=["mean_absolute_error"])
    return model


x_train = np.random.rand(256, 8).astype("float32")
y_train = x_train.sum(axis=1)
x_test, y_test = x_train[:64], y_train[:64]
seen = []


class CustomCallback(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        seen.append("train_begin")

    def on_train_end(self, logs=None):
        seen.append("train_end")

    def on_epoch_begin(self, epoch, logs=None):
        seen.append("epoch_begin")

    def on_epoch_end(self, epoch, logs=None):
        seen.append("epoch_end")

    def on_test_begin(self, logs=None):
        seen.append("test_begin")

    def on_test_end(self, logs=None):
        seen.append("test_end")

    def on_predict_begin(self, logs=None):
        seen.append("predict_begin")

    def on_predict_end(self, logs=None):
        seen.append("predict_end")

    def on_train_batch_begin(self, batch, logs=None):
        seen.append("train_batch_begin")

    def on_train_batch_end(self, batch, logs=None):
        seen.append("train_batch_end")

    def on_test_batch_begin(self, batch, logs=None):
        seen.append("test_batch_begin")

    def on_test_batch_end(self, batch, logs=None):
        seen.append("test_batch_end")

    def on_predict_batch_begin(self, batch, logs=None):
        seen.append("predict_batch_begin")

    def on_predict_batch_end(self, batch, logs=None):
        seen.append("predict_batch_end")


model = get_model()
model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0, validation_split=0.5,
          callbacks=[CustomCallback()])
model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()])
model.predict(x_test, batch_size=128, callbacks=[CustomCallback()])
assert {"train_begin", "test_batch_end", "predict_end"} <= set(seen)


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        assert "loss" in logs

    def on_epoch_end(self, epoch, logs=None):
        print(f"The average loss for epoch {epoch} is {logs['loss']:7.2f} and mean absolute "
              f"error is {logs['mean_absolute_error']:7.2f}.")


model = get_model()
model.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0,
          callbacks=[LossAndErrorPrintingCallback()])


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


model = get_model()
model.fit(x_train, y_train, batch_size=64, epochs=6, verbose=0,
          callbacks=[LossAndErrorPrintingCallback(), EarlyStoppingAtMinLoss()])


class CustomLearningRateScheduler(keras.callbacks.Callback):
    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = float(self.model.optimizer.learning_rate.numpy())
        scheduled_lr = self.schedule(epoch, lr)
        self.model.optimizer.learning_rate.assign(scheduled_lr)
        print(f"\nEpoch {epoch}: Learning rate is {scheduled_lr:6.4f}.")


LR_SCHEDULE = [(1, 0.05), (2, 0.01)]


def lr_schedule(epoch, lr):
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


model = get_model()
model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0,
          callbacks=[LossAndErrorPrintingCallback(), CustomLearningRateScheduler(lr_schedule)])
