// WebAssembly text modules are assembled at build time (scripts/build.mjs) and bundled as their bytes.
declare module '*.wat' {
  const bytes: Uint8Array;
  export default bytes;
}

// The part of the WebAssembly JS API this project uses: Node has it, but neither the ES2022 lib nor
// @types/node 20 declares it (lib.dom does, which the core does not load).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(deltaPages: number): number;
  }
  class Global {
    value: unknown;
  }
  function validate(bytes: Uint8Array): boolean;
}
