"""Deep Learning with Python (2nd ed.), chapter 3, low-level half, with `import ndflow as tf`.

Constant and variable tensors, tensor math, GradientTape (variables, watched constants, a
nested tape for acceleration), and a linear classifier trained from scratch on two synthetic
2-D point clouds. Run: `python examples/ch03_linear_classifier.py`.
"""

import numpy as np

import ndflow as tf


def tensors_and_gradients() -> None:
    x = tf.ones(shape=(2, 1))
    y = tf.zeros(shape=(2, 1))
    r = tf.random.normal(shape=(3, 1), mean=0.0, stddev=1.0)
    print("ones/zeros/normal:", x.shape, y.shape, r.shape)
    try:
        x[0, 0] = 0.0
    except TypeError as e:
        print("tensors are immutable:", e)
    v = tf.Variable(initial_value=tf.random.normal(shape=(3, 1)))
    v.assign(tf.ones((3, 1)))
    v[0, 0].assign(3.0)
    v.assign_add(tf.ones((3, 1)))
    print("variable after assigns:", v.numpy().ravel().tolist())
    a = tf.ones((2, 2))
    b = tf.square(a)
    c = tf.sqrt(a)
    d = b + c
    e = tf.matmul(a, b)
    e *= d
    print("tensor math:", e.numpy().tolist())

    input_var = tf.Variable(initial_value=3.0)
    with tf.GradientTape() as tape:
        result = tf.square(input_var)
    print("d(x^2)/dx at 3:", float(tape.gradient(result, input_var)))

    input_const = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(input_const)
        result = tf.square(input_const)
    print("watched constant:", float(tape.gradient(result, input_const)))

    time = tf.Variable(0.0)
    with tf.GradientTape() as outer_tape:
        with tf.GradientTape() as inner_tape:
            position = 4.9 * time**2
        speed = inner_tape.gradient(position, time)
    acceleration = outer_tape.gradient(speed, time)
    print("acceleration:", float(acceleration))


def make_point_clouds(num_samples_per_class: int = 1000, seed: int = 0):
    rng = np.random.default_rng(seed)
    cov = [[1, 0.5], [0.5, 1]]
    negative_samples = rng.multivariate_normal(mean=[0, 3], cov=cov, size=num_samples_per_class)
    positive_samples = rng.multivariate_normal(mean=[3, 0], cov=cov, size=num_samples_per_class)
    inputs = np.vstack((negative_samples, positive_samples)).astype(np.float32)
    targets = np.vstack((np.zeros((num_samples_per_class, 1), dtype="float32"),
                         np.ones((num_samples_per_class, 1), dtype="float32")))
    return inputs, targets


def train_linear_classifier(steps: int = 40, learning_rate: float = 0.1, seed: int = 0) -> float:
    """Train the book's linear classifier; return its accuracy on the training clouds."""
    tf.random.set_seed(seed)
    inputs, targets = make_point_clouds(seed=seed)
    input_dim, output_dim = 2, 1
    W = tf.Variable(initial_value=tf.random.uniform(shape=(input_dim, output_dim)))
    b = tf.Variable(initial_value=tf.zeros(shape=(output_dim,)))

    def model(inputs):
        return tf.matmul(inputs, W) + b

    def square_loss(targets, predictions):
        per_sample_losses = tf.square(targets - predictions)
        return tf.reduce_mean(per_sample_losses)

    def training_step(inputs, targets):
        with tf.GradientTape() as tape:
            predictions = model(inputs)
            loss = square_loss(targets, predictions)
        grad_loss_wrt_W, grad_loss_wrt_b = tape.gradient(loss, [W, b])
        W.assign_sub(grad_loss_wrt_W * learning_rate)
        b.assign_sub(grad_loss_wrt_b * learning_rate)
        return loss

    for step in range(steps):
        loss = training_step(inputs, targets)
        if step % 10 == 0 or step == steps - 1:
            print(f"Loss at step {step}: {float(loss):.4f}")
    predictions = model(inputs)
    accuracy = float(np.mean((predictions.numpy() > 0.5) == targets))
    return accuracy


if __name__ == "__main__":
    tensors_and_gradients()
    acc = train_linear_classifier()
    print(f"accuracy: {acc:.4f}")
