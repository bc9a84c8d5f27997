"""After tensorflow.org/guide/function (Better performance with tf.function) and the
AutoGraph reference: Python control flow on tensors inside tf.function, loops that update
variables and accumulate values, tf.print, retracing rules, and a training loop whose step
uses a data-dependent condition."""
import numpy as np

import ndflow as tf


@tf.function
def fizzbuzz(n):
    for i in tf.range(1, n + 1):
        if i % 15 == 0:
            tf.print("FizzBuzz")
        elif i % 3 == 0:
            tf.print("Fizz")
        elif i % 5 == 0:
            tf.print("Buzz")
        else:
            tf.print(i)


fizzbuzz(tf.constant(15))


@tf.function
def sum_even(items):
    s = 0
    for c in items:
        if c % 2 > 0:
            continue
        s += c
    return s


assert int(sum_even(tf.constant([10, 12, 15, 20]))) == 42


@tf.function
def square_if_positive(x):
    if x > 0:
        x = x * x
    else:
        x = 0.0
    return x


assert float(square_if_positive(tf.constant(3.0))) == 9.0
assert float(square_if_positive(tf.constant(-2.0))) == 0.0


@tf.function
def count_until_above(limit):
    total = tf.constant(0.0)
    steps = 0
    while total < limit:
        total += 1.5
        steps += 1
        if steps > 100:
            break
    return total, steps


total, steps = count_until_above(tf.constant(10.0))
print("total", float(total), "after", int(steps), "steps")
assert int(steps) == 7


v = tf.Variable(1.0)


@tf.function
def grow(n):
    for _ in tf.range(n):
        v.assign(v * 2.0)
    return v.read_value()


assert float(grow(tf.constant(3))) == 8.0


@tf.function
def f(x):
    print("Tracing with", x)
    tf.print("Executing with", x)


f(1)
f(1)
f(2)
print("traces:", f.experimental_get_tracing_count())


# a tiny linear model whose step clips the loss when it is large
w = tf.Variable(tf.zeros((3, 1)))
b = tf.Variable(0.0)
x = np.random.default_rng(0).normal(size=(128, 3)).astype("float32")
y = x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3


@tf.function
def train_step(x, y, lr):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
        if loss > 10.0:
            loss = loss / 10.0
    gw, gb = tape.gradient(loss, [w, b])
    w.assign_sub(lr * gw)
    b.assign_sub(lr * gb)
    return loss


for _step in range(200):
    loss = train_step(x, y, 0.1)
print("final loss", float(loss))
assert float(loss) < 1e-3
