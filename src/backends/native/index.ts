export { createNativeBackend, nativeUnavailableReason, type NativeBackend, type NativeBackendOptions } from './backend.js';
export { nativeWorkspace, NATIVE_FUSIONS } from './workspace.js';
