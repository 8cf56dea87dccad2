// edgeq's version, written into every model's metadata (checked against package.json).
export const EDGEQ_VERSION = '0.1.0';
