"""After keras.io/guides/functional_api: a model with multiple inputs and outputs (ticket
priority and department from a title, a body and tags), shared layers, and a toy ResNet."""
import numpy as np

from ndflow import keras
from ndflow.keras import layers

num_tags = 12
num_words = 200
num_departments = 4

title_input = keras.Input(shape=(None,), name="title")
body_input = keras.Input(shape=(None,), name="body")
tags_input = keras.Input(shape=(num_tags,), name="tags")

title_features = layers.Embedding(num_words, 16)(title_input)
body_features = layers.Embedding(num_words, 16)(body_input)
title_features = layers.LSTM(16)(title_features)
body_features = layers.LSTM(8)(body_features)
x = layers.concatenate([title_features, body_features, tags_input])
priority_pred = layers.Dense(1, name="priority")(x)
department_pred = layers.Dense(num_departments, name="department")(x)

model = keras.Model(
    inputs=[title_input, body_input, tags_input],
    outputs={"priority": priority_pred, "department": department_pred},
)
model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={
        "priority": keras.losses.BinaryCrossentropy(from_logits=True),
        "department": keras.losses.CategoricalCrossentropy(from_logits=True),
    },
    loss_weights={"priority": 1.0, "department": 0.2},
)

title_data = np.random.randint(num_words, size=(64, 10))
body_data = np.random.randint(num_words, size=(64, 20))
tags_data = np.random.randint(2, size=(64, num_tags)).astype("float32")
priority_targets = np.random.random(size=(64, 1))
dept_targets = np.random.randint(2, size=(64, num_departments))

model.fit(
    {"title": title_data, "body": body_data, "tags": tags_data},
    {"priority": priority_targets, "department": dept_targets},
    epochs=2,
    batch_size=16,
    verbose=0,
)

# a toy ResNet: non-linear topology
inputs = keras.Input(shape=(16, 16, 3), name="img")
x = layers.Conv2D(8, 3, activation="relu")(inputs)
x = layers.Conv2D(16, 3, activation="relu")(x)
block_1_output = layers.MaxPooling2D(2)(x)
x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_1_output)
x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
block_2_output = layers.add([x, block_1_output])
x = layers.Conv2D(16, 3, activation="relu")(block_2_output)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(32, activation="relu")(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(10)(x)
resnet = keras.Model(inputs, outputs, name="toy_resnet")
resnet.summary()
resnet.compile(optimizer="rmsprop",
               loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
               metrics=["acc"])
resnet.fit(np.random.rand(32, 16, 16, 3).astype("float32"), np.random.randint(10, size=32),
           batch_size=8, epochs=1, validation_split=0.25, verbose=0)

# sharing a layer, and extracting intermediate features
shared_embedding = layers.Embedding(100, 8)
text_input_a = keras.Input(shape=(None,), dtype="int32")
text_input_b = keras.Input(shape=(None,), dtype="int32")
encoded_input_a = shared_embedding(text_input_a)
encoded_input_b = shared_embedding(text_input_b)
features_list = [layer.output for layer in resnet.layers]
feat_extraction_model = keras.Model(inputs=resnet.input, outputs=features_list)
features = feat_extraction_model(np.random.rand(2, 16, 16, 3).astype("float32"))
print(len(features), "feature maps")
