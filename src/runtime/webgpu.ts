// The WebGPU adapter a session runs on, and how reports, the CLI, the panel and the status bar name
// a provider with it. No dependencies: the report and extension modules import it.

/** The adapter a WebGPU session runs on. */
export interface AdapterInfo {
  vendor: string;
  /** The device name its driver reports ("NVIDIA H200", "llvmpipe (LLVM 15.0.6, 256 bits)"). */
  name: string;
  /** The Vulkan driver library, where known. */
  driver?: string;
  /** A software rasterizer (lavapipe, SwiftShader): used only when WebGPU is asked for by name. */
  software: boolean;
}

/** "NVIDIA H200", "Mesa llvmpipe (LLVM 15.0.6, 256 bits), software". */
export function adapterLabel(a: AdapterInfo): string {
  const name = a.name.toLowerCase().startsWith(a.vendor.toLowerCase()) ? a.name : `${a.vendor} ${a.name}`;
  return `${name}${a.software ? ', software' : ''}`;
}

/** "webgpu (NVIDIA H200)", or just the provider when there is no adapter to name. */
export function providerLabel(executionProvider: string, adapter?: AdapterInfo | string): string {
  if (!adapter) return executionProvider;
  return `${executionProvider} (${typeof adapter === 'string' ? adapter : adapterLabel(adapter)})`;
}
