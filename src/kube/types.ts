/** What k8ops reads from the Kubernetes API (grown by the kube issue). */
import type { CallOptions } from '../nodes/agent.js';

export interface KubeNodeStatus {
  name: string;
  ready: boolean;
  /** Reason/message of the Ready condition when not ready. */
  reason?: string;
  kubeletVersion?: string;
}

export interface KubeSource {
  /** Context name shown in the header. */
  readonly context: string;
  listNodes(opts?: CallOptions): Promise<KubeNodeStatus[]>;
  close(): Promise<void>;
}
