// edgeq's runtime API, for every JavaScript host. No Node built-ins, no npm packages.
export { loadModel, setDefaultEngine, Model } from './model.js';
export type {
  Classification, EngineBuildName, EngineSource, ImageDataLike, LayerInfo, LoadOptions, ModelInfo, TensorInfo, WeightInfo,
} from './model.js';
export {
  EdgeqError, ModelFormatError, UnsupportedVersionError, UnsupportedOpError, InputError, DisposedError, EngineError,
  ModelSpecError, ConvertError, DataError,
} from './errors.js';
export { simdSupported } from './engine.js';
export { EDGEQ_VERSION } from './version.js';
export { explain, imageMap } from './explain.js';
export type { ExplainMethod, ExplainOptions, Explanation, Predictor } from './explain.js';
