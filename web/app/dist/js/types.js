// The JSON the node answers (docs/node-interfaces.md), as far as the app reads it.
export {};
