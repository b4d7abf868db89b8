// What bench/ab.ts loads from a build: the RowPruner, its WebAssembly fast pass and the bench's
// generator. Copy this file into an older checkout and build it there to compare against it.
export { RowPruner } from '../src/ken/row';
export { WasmDensities, fastDensityPass } from '../src/ken/wasm-densities';
export { NormalStream } from './synth';
