// Runs in JavaScriptCore's jsc shell (WebKit's engine, as in iOS webviews): loads the
// engine build and a model, runs a batch of raw inputs, prints the output bits as JSON.
// Arguments: engine.wasm model.edgeq input.bin batch
const [enginePath, modelPath, inputPath, batchText] = arguments;
const batch = Number(batchText);
const engine = new WebAssembly.Instance(new WebAssembly.Module(readFile(enginePath, 'binary')), {}).exports;
const model = new Uint8Array(readFile(modelPath, 'binary'));
const input = new Uint8Array(readFile(inputPath, 'binary'));
engine.mem_reset();
const at = engine.mem_alloc(model.length);
new Uint8Array(engine.memory.buffer, at, model.length).set(model);
const status = engine.model_load(at, model.length);
if (status !== 0) throw new Error('model_load: ' + status);
if (engine.model_prepare(batch) !== 0) throw new Error('model_prepare');
new Uint8Array(engine.memory.buffer, engine.model_input_ptr(), input.length).set(input);
if (engine.model_run(batch, 1) !== 0) throw new Error('model_run');
const outputs = batch * engine.model_tensor_info(engine.model_output_tensor(), 12);
print(JSON.stringify({ simd: engine.engine_simd(), bits: Array.from(new Uint32Array(engine.memory.buffer, engine.model_output_ptr(), outputs)) }));
