/**
 * Kubernetes API access (issue 6): kubeconfig contexts, the API tunnelled over SSH, and
 * the watch-driven cluster view. The session wires it up with `openKubeSource` +
 * `bindKubeToStore`; see each module for details.
 */
export {
  DEFAULT_KUBE_LIMITS,
  DEFAULT_KUBE_TIMING,
  KubeClusterSource,
  type KubeClusterSourceOptions,
  type KubeLimits,
  type KubeSwitchResult,
  type KubeTiming,
  type TunnelMode,
} from './cluster-source.js';
export { type BindOptions, bindKubeToStore, KUBE_STORE_SOURCES } from './collect.js';
export { DemoKubeError, DemoKubeSource } from './demo-kube.js';
export { directEndpoint, type KubeEndpoint, tunnelledEndpoint } from './endpoint.js';
export { isKubeError, KubeError, type KubeErrorKind, toKubeErrorInfo } from './errors.js';
export {
  type KubeContextConfig,
  type KubeContextResult,
  type KubeconfigLoadOptions,
  kubeContextFromString,
  kubeconfigFiles,
  loadKubeContext,
} from './kubeconfig.js';
export {
  forwardVia,
  type OpenKubeOptions,
  type OpenKubeResult,
  openKubeSource,
  tunnelModeFor,
} from './open.js';
export { SwitchableKubeSource, type SwitchResult } from './switchable.js';
export {
  connectThroughTunnel,
  type KubeTunnel,
  type LocalForwardHandle,
  type OpenForward,
} from './tunnel.js';
export * from './types.js';
