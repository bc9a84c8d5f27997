// Classify digits with an ONNX model in Node.js (onnxruntime-node), for ndflow's export tests.
// Usage: node classify_digits.mjs model.onnx digits.json
// digits.json: {"shape": [n, ...], "x": [flat float32 values], "y": [labels]}.
// Prints one JSON line: {"accuracy": ..., "predictions": [...], "input": ..., "output": ...}.
import { readFileSync } from "node:fs";
import ort from "onnxruntime-node";

const [modelPath, dataPath] = process.argv.slice(2);
const data = JSON.parse(readFileSync(dataPath, "utf8"));
const session = await ort.InferenceSession.create(modelPath);
const inputName = session.inputNames[0];
const outputName = session.outputNames[0];
const x = new ort.Tensor("float32", Float32Array.from(data.x), data.shape);
const result = await session.run({ [inputName]: x });
const probs = result[outputName];
const [n, classes] = probs.dims;
const predictions = [];
for (let i = 0; i < n; i++) {
  let best = 0;
  for (let c = 1; c < classes; c++) {
    if (probs.data[i * classes + c] > probs.data[i * classes + best]) best = c;
  }
  predictions.push(best);
}
const correct = predictions.filter((p, i) => p === data.y[i]).length;
console.log(JSON.stringify({ accuracy: correct / n, predictions, input: inputName,
                             output: outputName }));
