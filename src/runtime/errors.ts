// One error hierarchy for everything a user of edgeq can get wrong. Every message says
// what was wrong and what to do about it; `code` is stable for programs.

export class EdgeqError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = new.target.name;
  }
}

// The bytes are not a valid .edgeq model: truncated, corrupted, or inconsistent.
export class ModelFormatError extends EdgeqError {}

// A valid .edgeq container of a version this engine does not read.
export class UnsupportedVersionError extends EdgeqError {}

// The model uses an op (or op setting) this engine does not implement.
export class UnsupportedOpError extends EdgeqError {}

// Input of the wrong length, type or values for the model.
export class InputError extends EdgeqError {}

// The model was disposed and cannot be used any more.
export class DisposedError extends EdgeqError {}

// The engine could not start or ran out of memory.
export class EngineError extends EdgeqError {}

// A model description handed to the writer is inconsistent (a converter bug or bad input).
export class ModelSpecError extends EdgeqError {}

// The float model handed to the converter cannot be read: malformed model.json,
// missing or short weight shards, an unknown dataset.
export class ConvertError extends EdgeqError {}

// Examples (calibration, evaluation or fine-tuning data, `edgeq run` inputs) cannot be
// read: a malformed .npy, image or CSV file, values that are not finite, labels that do
// not match the examples. The message names the file and the row, item or pixel.
export class DataError extends EdgeqError {}
